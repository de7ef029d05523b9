// Starts the real srs-depot binary for a test: fork/exec with stdout on a pipe (the first line,
// "srs-depot listening on HOST:PORT", gives the address) and stderr to a log file the test can
// inspect. The destructor stops it: SIGTERM, waitpid with a grace period, SIGKILL fallback.
// Never killall: only the pid this object started.
#ifndef SRS_TESTS_DEPOT_DEPOT_PROCESS_H_
#define SRS_TESTS_DEPOT_DEPOT_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace srs {
namespace testing {

class DepotProcess {
 public:
  // `args` follow the binary (e.g. {"--dir", dir, "--capacity", "0"}); --listen 127.0.0.1:0 is
  // added unless given. stderr goes to `log_path`. Works for srs-rss too: pass its
  // "srs-rss listening on " as `ready_prefix`.
  static absl::StatusOr<std::unique_ptr<DepotProcess>> Start(
      const std::string& binary, std::vector<std::string> args, const std::string& log_path,
      const std::string& ready_prefix = "srs-depot listening on ");
  ~DepotProcess();

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;

  // Sends `signal` and waits up to `timeout` for the exit; returns the wait status, or an
  // error if it did not exit (then it is SIGKILLed).
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout);

 private:
  DepotProcess() = default;
  pid_t pid_ = -1;
  std::string address_;
  std::string log_path_;
};

}  // namespace testing
}  // namespace srs

#endif  // SRS_TESTS_DEPOT_DEPOT_PROCESS_H_
