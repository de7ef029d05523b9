// The MPI launcher of `srs run`: which mpiexec, its command line, and the launched process tree.
//
// mpiexec runs in its own process group, so a terminal's Ctrl-C reaches `srs run` (which turns it
// into checkpoint-and-stop, see preemption.h) and not the job. Stopping "at once" kills mpiexec
// and every process below it (Hydra's proxies put the ranks in sessions and groups of their own,
// so a signal to mpiexec's group would miss them).
#ifndef SRS_TOOLS_LAUNCHER_H_
#define SRS_TOOLS_LAUNCHER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace srs::tools {

// MPICH's launcher, never Open MPI's: `requested` (--mpiexec), else $SRS_MPIEXEC, else
// mpiexec.mpich or mpiexec.hydra on PATH. A value with a '/' is a path; a bare name is looked up
// on PATH. NOT_FOUND / FAILED_PRECONDITION say that the *launcher* cannot be started, and why.
absl::StatusOr<std::string> FindLauncher(const std::string& requested);

// Whether `program` can be started on this host: a path must be an executable file, a bare name
// must be found on PATH. FAILED_PRECONDITION "the program ... cannot be started: ..." otherwise.
absl::Status CheckProgram(const std::string& program);

struct LaunchOptions {
  int64_t nprocs = 1;
  std::string hosts;     // "h1,h2" for -hosts, or ""
  std::string hostfile;  // for -f, or ""
  // Hydra's fork launcher (`-launcher fork`): the ranks are forked locally instead of through
  // ssh or `srun`. Used inside a one-node Slurm allocation, where srun would put the ranks in a
  // job step of their own that Slurm signals and kills independently of `srs run`.
  bool fork_launcher = false;
  std::vector<std::string> command;  // the program and its arguments
};

// mpiexec's argv: launcher, its options, then the command.
std::vector<std::string> LauncherArgv(const std::string& launcher, const LaunchOptions& options);

class LaunchedJob {
 public:
  // Forks and execs `argv` (argv[0] a path) in a new process group, stdin from /dev/null when it
  // is a terminal (a background group must not read it), stdout through a pipe that a thread of
  // `srs run` passes on to its own stdout as it comes (to read Hydra's report of a killed rank,
  // see Poll). With `die_with_parent`, mpiexec gets
  // SIGINT if `srs run` dies (Hydra forwards it and the ranks leave). FAILED_PRECONDITION "could
  // not start the launcher X: <errno text>" when the exec itself fails.
  static absl::StatusOr<LaunchedJob> Start(const std::vector<std::string>& argv,
                                           bool die_with_parent);

  // The launcher's exit status once it has exited, without blocking (but for up to 1 s once it
  // has exited, for the end of its stdout): 128 + signal if it was killed, or if a rank was and
  // mpiexec said so (Hydra itself exits with the bare signal number then; tools/README.md, "Exit
  // status", promises 128 + signal).
  std::optional<int> Poll();
  // Kills mpiexec and all its descendants with SIGKILL, now.
  void KillTree();
  pid_t pid() const { return pid_; }

 private:
  struct OutputWatch;
  LaunchedJob(pid_t pid, std::shared_ptr<OutputWatch> watch)
      : pid_(pid), watch_(std::move(watch)) {}
  pid_t pid_;
  std::optional<int> status_;
  std::shared_ptr<OutputWatch> watch_;
};

// The signal N named by a line of Hydra's report of a killed rank ("... EXIT STRING: Killed
// (signal 9)"), 0 for any other line.
int RankSignalIn(absl::string_view line);

// Every process below `root` (children, grandchildren, ...), from /proc; root not included.
std::vector<pid_t> Descendants(pid_t root);

}  // namespace srs::tools

#endif  // SRS_TOOLS_LAUNCHER_H_
