# Test helpers: a unit test is one line, an MPI test is one line with its process counts.
#
#   srs_add_unit_test(config_test SOURCES config_test.cc LIBS srs_common)
#   srs_add_mpi_test(redistribute_test SOURCES redistribute_test.cc LIBS srs NP 1 2 3 4 7 DAEMONS)
#   srs_add_e2e_test(cli_stop_resume COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/stop_resume.sh LABELS e2e)
#
# DAEMONS runs the test inside tests/support/with-daemons.sh: a private srs-rss and srs-depot on
# free loopback ports, started before (the depot registered at the RSS) and always stopped after
# (the script traps EXIT, TERM and INT), with SRS_RSS, SRS_DEPOT, SRS_APP and SRS_TOKEN_FILE
# exported to the test; the test fails if a daemon died or did not exit 0 on SIGTERM.
# srs_add_e2e_test takes DEPOTS N (several depots), LEASE S (the RSS's run lease) and
# DEPOT_LEASE S (the depots' lease of unpinned pieces).
#
# PROCESSORS is the number of ranks a test launches at once (CTest then never runs more ranks
# than `-j` cores at a time). Every test has a TIMEOUT; scripts/test.sh caps the whole run.

set(SRS_TEST_SUPPORT_DIR "${PROJECT_SOURCE_DIR}/tests/support")
set(SRS_WITH_DAEMONS "${SRS_TEST_SUPPORT_DIR}/with-daemons.sh")
# Oversubscription is normal here (4 ranks on 2 cores); MPICH's hydra handles it.
set(SRS_MPIEXEC "${MPIEXEC_EXECUTABLE}")
# Where the tests' jobs keep their owner secrets (docs/security.md), instead of the user's
# ~/.local/state; with-daemons.sh narrows it to the test's own directory.
set(SRS_TEST_STATE_HOME "${PROJECT_BINARY_DIR}/Testing/state")

function(_srs_daemon_prefix out)
  set(${out} "${SRS_WITH_DAEMONS}" --rss "$<TARGET_FILE:srs-rss>"
             --depot "$<TARGET_FILE:srs-depot>" --admin "$<TARGET_FILE:libsrs_rss_admin>"
             PARENT_SCOPE)
endfunction()

# srs_tests_require(WHAT TARGET...): a configure error naming what is missing, instead of tests
# that silently disappear (scripts/setup-deps.sh installs every dependency).
function(srs_tests_require what)
  set(missing "")
  foreach(t ${ARGN})
    if(NOT TARGET ${t})
      list(APPEND missing ${t})
    endif()
  endforeach()
  if(missing)
    string(REPLACE ";" ", " missing "${missing}")
    message(FATAL_ERROR "SRS tests: ${what} need the target(s) ${missing}, which this "
                        "configuration does not build (run scripts/setup-deps.sh, or configure "
                        "with -DSRS_BUILD_TESTS=OFF)")
  endif()
endfunction()

# srs_max_ranks(OUT N...): the largest of the rank counts a test launches (its PROCESSORS).
function(srs_max_ranks out)
  set(max 1)
  foreach(n ${ARGN})
    if(n GREATER max)
      set(max ${n})
    endif()
  endforeach()
  set(${out} ${max} PARENT_SCOPE)
endfunction()

function(srs_add_unit_test name)
  cmake_parse_arguments(T "DAEMONS" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  srs_enable_warnings(${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(cmd $<TARGET_FILE:${name}> ${T_ARGS})
  if(T_DAEMONS)
    _srs_daemon_prefix(prefix)
    set(cmd ${prefix} -- ${cmd})
  endif()
  add_test(NAME ${name} COMMAND ${cmd})
  # A GoogleTest binary that drives real daemons is an e2e/fault test, not a unit test: keep
  # `ctest -L unit` to the fast, self-contained ones.
  set(labels unit ${T_LABELS})
  if("e2e" IN_LIST T_LABELS OR "fault" IN_LIST T_LABELS OR "mpi" IN_LIST T_LABELS OR T_DAEMONS)
    set(labels ${T_LABELS})
    if(T_DAEMONS AND NOT "e2e" IN_LIST labels)
      list(APPEND labels e2e)
    endif()
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${T_TIMEOUT})
endfunction()

# An MPI test: built from SOURCES (or an existing TARGET), run once per count in NP under
# mpiexec -n, as tests named NAME.npN with PROCESSORS = N.
function(srs_add_mpi_test name)
  cmake_parse_arguments(T "DAEMONS" "TIMEOUT;TARGET" "SOURCES;LIBS;NP;LABELS;ARGS;ENV" ${ARGN})
  if(T_TARGET)
    set(exe ${T_TARGET})
  else()
    set(exe ${name})
    add_executable(${exe} ${T_SOURCES})
    target_link_libraries(${exe} PRIVATE ${T_LIBS} srs_mpi_gtest_main)
    srs_enable_warnings(${exe})
  endif()
  if(NOT T_NP)
    set(T_NP 1 2 3 4)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  foreach(np ${T_NP})
    set(cmd ${SRS_MPIEXEC} ${MPIEXEC_NUMPROC_FLAG} ${np} ${MPIEXEC_PREFLAGS}
            $<TARGET_FILE:${exe}> ${MPIEXEC_POSTFLAGS} ${T_ARGS})
    if(T_DAEMONS)
      _srs_daemon_prefix(prefix)
      set(cmd ${prefix} -- ${cmd})
    endif()
    add_test(NAME ${name}.np${np} COMMAND ${cmd})
    set_tests_properties(${name}.np${np} PROPERTIES
      PROCESSORS ${np} LABELS "mpi;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
      ENVIRONMENT "SRS_TEST_NP=${np};XDG_STATE_HOME=${SRS_TEST_STATE_HOME};${T_ENV}")
  endforeach()
endfunction()

# An end-to-end test: any command (usually a script), run with the real daemons unless NODAEMONS.
function(srs_add_e2e_test name)
  cmake_parse_arguments(T "NODAEMONS" "TIMEOUT;PROCESSORS;DEPOTS;LEASE;DEPOT_LEASE" "COMMAND;LABELS;ENV"
                        ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  if(NOT T_PROCESSORS)
    set(T_PROCESSORS 2)
  endif()
  set(cmd ${T_COMMAND})
  if(NOT T_NODAEMONS)
    _srs_daemon_prefix(prefix)
    if(T_DEPOTS)
      list(APPEND prefix --depots ${T_DEPOTS})
    endif()
    if(T_LEASE)
      list(APPEND prefix --lease ${T_LEASE})
    endif()
    if(T_DEPOT_LEASE)
      list(APPEND prefix --depot-lease ${T_DEPOT_LEASE})
    endif()
    set(cmd ${prefix} -- ${cmd})
  endif()
  add_test(NAME ${name} COMMAND ${cmd})
  if(NOT T_LABELS)
    set(T_LABELS e2e)
  endif()
  set_tests_properties(${name} PROPERTIES
    LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} PROCESSORS ${T_PROCESSORS}
    ENVIRONMENT "SRS_MPIEXEC=${SRS_MPIEXEC};SRS_BUILD_DIR=${PROJECT_BINARY_DIR};XDG_STATE_HOME=${SRS_TEST_STATE_HOME};${T_ENV}")
endfunction()
