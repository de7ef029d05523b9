# How the Fortran and example tests stop a job from outside: SRS_TEST_STOP_COMMAND is one string
# "PROGRAM [ARGS]" to which the scripts append the job name — the real `srs stop`, which must
# succeed (no fallback: a failing `srs stop` fails the test).
srs_tests_require("the example and Fortran stop/resume tests" srs-tool)
set(SRS_TEST_STOP_COMMAND "$<TARGET_FILE:srs-tool> stop")
