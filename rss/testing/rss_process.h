// RssProcess: the real srs-rss binary as a child process, for service, crash and benchmark tests.
// Start fork/execs it on 127.0.0.1:0 and parses its "srs-rss listening on HOST:PORT" line; the
// destructor sends SIGTERM and waits, with SIGKILL if it does not exit within a few seconds, so a
// test never leaves a daemon behind.
#ifndef SRS_RSS_TESTING_RSS_PROCESS_H_
#define SRS_RSS_TESTING_RSS_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace srs {

class RssProcess {
 public:
  struct Options {
    std::string binary;  // path of srs-rss
    std::string state_dir;
    double lease_seconds = 2;
    std::string listen = "127.0.0.1:0";
  };
  static absl::StatusOr<std::unique_ptr<RssProcess>> Start(const Options& options);
  ~RssProcess();

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  // kill -9 and reap: a crash, as far as the daemon can tell.
  void Kill9();
  // SIGTERM and wait up to `grace`; returns the exit code (or 128+signal), SIGKILLs on timeout.
  int Terminate(absl::Duration grace);

 private:
  RssProcess() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string address_;
};

// Peak and current resident memory of a process from /proc/<pid>/status, in KiB.
struct ProcessMemory {
  long vm_hwm_kib = 0;
  long vm_rss_kib = 0;
};
absl::StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid);

}  // namespace srs

#endif  // SRS_RSS_TESTING_RSS_PROCESS_H_
