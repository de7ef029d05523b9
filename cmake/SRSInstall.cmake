# Installs headers, libraries, daemons, the srs tool, the Fortran module, a CMake package
# (find_package(SRS) -> SRS::srs, SRS::srs_fortran) and srs.pc.
include(CMakePackageConfigHelpers)
set(SRS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/SRS")

set(srs_export_targets "")
foreach(t srs srs_fortran)
  if(TARGET ${t})
    list(APPEND srs_export_targets ${t})
  endif()
endforeach()

if(srs_export_targets)
  install(TARGETS ${srs_export_targets} EXPORT SRSTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT SRSTargets NAMESPACE SRS:: DESTINATION ${SRS_INSTALL_CMAKEDIR})
endif()
install(DIRECTORY "${PROJECT_SOURCE_DIR}/libsrs/include/srs" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(t srs-rss srs-depot srs-tool)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/SRSConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/SRSConfig.cmake" INSTALL_DESTINATION ${SRS_INSTALL_CMAKEDIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/SRSConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/SRSConfig.cmake" "${PROJECT_BINARY_DIR}/SRSConfigVersion.cmake"
  DESTINATION ${SRS_INSTALL_CMAKEDIR})

# srs.pc finds its prefix relative to itself: one "../" per component of LIBDIR/pkgconfig.
file(RELATIVE_PATH SRS_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file("${PROJECT_SOURCE_DIR}/cmake/srs.pc.in" "${PROJECT_BINARY_DIR}/srs.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/srs.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The benchmarks `srs bench` runs that their own folders do not install. They find srs-rss and
# srs-depot next to themselves, so `srs bench` works from any prefix.
foreach(t srs-bench-rss)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# The example solvers, to try `srs run -n 4 -- PREFIX/libexec/srs/examples/heat2d` after an
# install; their RPATH reaches LIBDIR from there, relative to themselves.
set(SRS_INSTALL_EXAMPLESDIR "${CMAKE_INSTALL_LIBEXECDIR}/srs/examples")
file(RELATIVE_PATH _srs_examples_to_lib "/prefix/${SRS_INSTALL_EXAMPLESDIR}"
     "/prefix/${CMAKE_INSTALL_LIBDIR}")
foreach(t heat2d cg jacobi eigen_deflation)
  if(TARGET ${t})
    set_target_properties(${t} PROPERTIES INSTALL_RPATH "$ORIGIN/${_srs_examples_to_lib}")
    install(TARGETS ${t} RUNTIME DESTINATION ${SRS_INSTALL_EXAMPLESDIR})
  endif()
endforeach()
