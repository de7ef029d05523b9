// Child processes of `srs`: the private srs-rss / srs-depot it brings up for a directory.
// Daemons run in their own process group (a Ctrl-C on the terminal reaches `srs`, not the
// daemons), ignore SIGTERM (a batch system signals every process of a job; they must serve its
// last checkpoint) and stop on SIGINT, and die with `srs` (PR_SET_PDEATHSIG, SIGINT), so they
// never linger after it, even when it is killed.
#ifndef SRS_TOOLS_DAEMONS_H_
#define SRS_TOOLS_DAEMONS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace srs::tools {

// The directory holding the running `srs` executable.
std::string SelfDirectory();

// Finds an executable: next to `srs` first, then on PATH. NOT_FOUND says where it looked.
absl::StatusOr<std::string> FindExecutable(const std::string& name);

struct StartedDaemon {
  pid_t pid = -1;
  std::string address;  // from its "<name> listening on HOST:PORT" line
};

// Starts `argv` with stdout to `out_path` and stderr appended to `err_path`, and waits for the
// "listening on" line. On failure the child is reaped and the error quotes its stderr tail.
absl::StatusOr<StartedDaemon> StartDaemon(const std::vector<std::string>& argv,
                                          const std::string& out_path, const std::string& err_path,
                                          absl::Duration timeout);

// SIGINT, wait up to `grace`, then SIGKILL; always reaps. Safe on pid <= 0.
void StopProcess(pid_t pid, absl::Duration grace);

// The last `lines` lines of a text file, joined by " | " (for one-line errors).
std::string FileTail(const std::string& path, int lines);

}  // namespace srs::tools

#endif  // SRS_TOOLS_DAEMONS_H_
