# Finds every dependency from Debian's packages. MPICH is pinned explicitly: packages such as
# python3-h5py or libscalapack pull in Open MPI and switch the mpicc/mpiexec alternatives to it,
# and mixing the two MPIs fails at run time in confusing ways.

foreach(pair "C;mpicc.mpich" "CXX;mpicxx.mpich" "Fortran;mpifort.mpich")
  list(GET pair 0 lang)
  list(GET pair 1 wrapper)
  if(NOT DEFINED MPI_${lang}_COMPILER)
    find_program(SRS_MPICH_${lang}_WRAPPER ${wrapper})
    if(SRS_MPICH_${lang}_WRAPPER)
      set(MPI_${lang}_COMPILER "${SRS_MPICH_${lang}_WRAPPER}" CACHE FILEPATH "MPI ${lang} wrapper")
    endif()
  endif()
endforeach()
if(NOT DEFINED MPIEXEC_EXECUTABLE)
  find_program(SRS_MPICH_MPIEXEC mpiexec.mpich)
  if(SRS_MPICH_MPIEXEC)
    set(MPIEXEC_EXECUTABLE "${SRS_MPICH_MPIEXEC}" CACHE FILEPATH "MPI launcher")
  endif()
endif()
find_package(MPI REQUIRED COMPONENTS C CXX Fortran)

if(NOT DEFINED HDF5_C_COMPILER_EXECUTABLE)
  find_program(SRS_H5PCC_MPICH h5pcc.mpich)
  if(SRS_H5PCC_MPICH)
    set(HDF5_C_COMPILER_EXECUTABLE "${SRS_H5PCC_MPICH}" CACHE FILEPATH "HDF5 compiler wrapper")
  endif()
endif()
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(WARNING "HDF5 is not the parallel (MPICH) build; the phdf5 benchmark baseline is off")
endif()

find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)  # header-only (libcli11-dev): the srs command line
find_program(SRS_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

find_path(SRS_XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
find_library(SRS_XXHASH_LIBRARY xxhash REQUIRED)
add_library(srs_xxhash INTERFACE)
target_include_directories(srs_xxhash INTERFACE ${SRS_XXHASH_INCLUDE_DIR})
target_link_libraries(srs_xxhash INTERFACE ${SRS_XXHASH_LIBRARY})

# One imported target for HDF5 so every consumer gets the same include path and libraries.
add_library(srs_hdf5 INTERFACE)
target_include_directories(srs_hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_compile_definitions(srs_hdf5 INTERFACE ${HDF5_C_DEFINITIONS} ${HDF5_DEFINITIONS})
target_link_libraries(srs_hdf5 INTERFACE ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES})

message(STATUS "SRS: MPI launcher ${MPIEXEC_EXECUTABLE}, MPI C ${MPI_C_COMPILER}")
message(STATUS "SRS: HDF5 ${HDF5_VERSION} parallel=${HDF5_IS_PARALLEL} at ${HDF5_C_INCLUDE_DIRS}")
