# Sets SRS_TEST_STOP_COMMAND: how the Fortran and example tests stop a job from outside, as one
# string "PROGRAM [ARGS]" to which the scripts append the job name. The real `srs stop` when the
# tool is built; otherwise a small client of the RSS's RequestStop (request_stop.cc).
if(TARGET srs-tool)
  set(SRS_TEST_STOP_COMMAND "$<TARGET_FILE:srs-tool> stop")
else()
  if(NOT TARGET srs_test_request_stop)
    add_executable(srs_test_request_stop "${PROJECT_SOURCE_DIR}/tests/examples/request_stop.cc")
    target_link_libraries(srs_test_request_stop PRIVATE srs_rss_client)
    srs_enable_warnings(srs_test_request_stop)
  endif()
  set(SRS_TEST_STOP_COMMAND "$<TARGET_FILE:srs_test_request_stop>")
endif()
