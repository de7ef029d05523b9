# The Debian package: `cd build && cpack -G DEB` -> srs_VERSION_ARCH.deb with everything
# `cmake --install` installs (library, daemons, srs and its benchmarks, headers, CMake package,
# srs.pc, the Fortran module, examples, bash completion) plus the man pages and the systemd
# units below, under /usr.
# Runtime dependencies come from dpkg-shlibdeps; the MPI development files are added by hand
# because find_package(SRS) and srs.pc hand MPICH on to the solvers built against SRS.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/man/srs.1 ${CMAKE_CURRENT_LIST_DIR}/man/srs-rss.1
              ${CMAKE_CURRENT_LIST_DIR}/man/srs-depot.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# The systemd units of site-wide daemons (docs/multinode.md, "Site-wide daemons") go to
# PREFIX/lib/systemd/system. They are rendered when installing, not when configuring, so that
# ExecStart names the bindir of the prefix actually installed to: cpack installs under /usr,
# `cmake --install build --prefix P` under P.
install(CODE "
  set(SRS_UNIT_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  foreach(unit srs-rss srs-depot)
    configure_file(\"${CMAKE_CURRENT_LIST_DIR}/systemd/\${unit}.service.in\"
                   \"${PROJECT_BINARY_DIR}/systemd/\${unit}.service\" @ONLY)
  endforeach()
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
       FILES \"${PROJECT_BINARY_DIR}/systemd/srs-rss.service\"
             \"${PROJECT_BINARY_DIR}/systemd/srs-depot.service\")
")

set(CPACK_PACKAGE_NAME srs)
set(CPACK_PACKAGE_VENDOR "SRS project")
set(CPACK_PACKAGE_CONTACT "SRS maintainers <srs-maintainers@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Stop Restart Software: malleable and migratable checkpointing for MPI applications")
set(CPACK_PACKAGE_DESCRIPTION "SRS lets an iterative MPI application be stopped, checkpointed \
to storage depots and restarted on another number of processes, other nodes or another site. \
This package holds the library (C, Fortran), the srs-rss and srs-depot daemons, the srs \
command line, headers, the CMake package SRS, srs.pc and the examples.")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)  # the build's debug info stays in the build tree
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # srs_1.0.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libsrs.so.1 is ours; the executables reach it through their $ORIGIN RPATH.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${PROJECT_BINARY_DIR}/libsrs"
    "${PROJECT_BINARY_DIR}/bindings/fortran")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "mpich, libmpich-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gfortran, cmake, hdf5-tools")
set(CPACK_SOURCE_IGNORE_FILES "/build/;/\\\\.git/")
include(CPack)
