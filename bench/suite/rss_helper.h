// `srs-bench-suite --helper WHAT [ARGS]`: the admin side of the RSS and the depot for the workers
// and the driver, with SRS_RSS, SRS_TOKEN_FILE and SRS_APP from the environment:
//
//   stop                   RequestStop of the job (what `srs stop` does)
//   count-periodic         prints how many periodic checkpoints the job committed
//   fetch INDEX COUNT      moves pieces INDEX, INDEX+COUNT, ... of the newest committed
//                          checkpoint from their depot over gRPC (whole-piece reads), prints
//                          `SRSBENCH fetch_seconds S` and `SRSBENCH fetch_bytes B`
//   depot-state ADDRESS    prints the state the RSS gives the depot at ADDRESS ("up", "down";
//                          "unknown" when no depot has that address)
#ifndef SRS_BENCH_SUITE_RSS_HELPER_H_
#define SRS_BENCH_SUITE_RSS_HELPER_H_

namespace srs::bench {

// argv[1] == "--helper". 0 on success, non-zero with a message on stderr.
int HelperMain(int argc, char** argv);

}  // namespace srs::bench

#endif  // SRS_BENCH_SUITE_RSS_HELPER_H_
