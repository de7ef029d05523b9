# How the Fortran and example tests stop a job from outside. SRS_TEST_STOP_COMMAND is one string
# "PROGRAM [ARGS]" to which the scripts append the job name: the real `srs stop` when the tool
# is built. SRS_TEST_STOP_FALLBACK (request_stop.cc, a direct client of the RSS's RequestStop)
# is what the scripts use, with a warning, if `srs stop` itself fails: these tests are about the
# solvers and the library, and the tool has its own tests.
if(NOT TARGET srs_test_request_stop)
  add_executable(srs_test_request_stop "${PROJECT_SOURCE_DIR}/tests/examples/request_stop.cc")
  target_link_libraries(srs_test_request_stop PRIVATE srs_rss_client)
  srs_enable_warnings(srs_test_request_stop)
endif()
set(SRS_TEST_STOP_FALLBACK "$<TARGET_FILE:srs_test_request_stop>")
if(TARGET srs-tool)
  set(SRS_TEST_STOP_COMMAND "$<TARGET_FILE:srs-tool> stop")
else()
  set(SRS_TEST_STOP_COMMAND "${SRS_TEST_STOP_FALLBACK}")
endif()
