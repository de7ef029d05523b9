// Preemption of `srs run`: SIGTERM, SIGINT, SIGUSR1 and SIGHUP mean "checkpoint and stop" (what
// batch systems send before they take the nodes: Slurm's `--signal=B:USR1@T`, the SIGTERM of
// `scontrol requeue`/preemption/`scancel`, a terminal's Ctrl-C). A second signal, or the --grace
// deadline after the first, means "stop at once".
//
// The handler only counts (async-signal-safe); the supervisor loop (supervisor.h) polls
// Preemption and acts: records the stop at the RSS, or kills the launched tree.
#ifndef SRS_TOOLS_PREEMPTION_H_
#define SRS_TOOLS_PREEMPTION_H_

#include <optional>

#include "absl/time/time.h"

namespace srs::tools {

// Exit status of `srs run` when a signal made the job checkpoint and stop, and the checkpoint
// committed: EX_TEMPFAIL from sysexits.h ("temporary failure; retry later"). Not 0, so a batch
// script can tell "stopped, run me again" from "finished"; pairs with Slurm's RequeueExit=75.
inline constexpr int kExitStoppedBySignal = 75;

class Preemption {
 public:
  enum class Action {
    kNone,
    kCheckpointAndStop,  // the first signal arrived: ask the job to checkpoint and leave
    kStopNow,            // a second signal, or the grace period ran out
  };

  // Installs the handlers (process-wide; once). `grace`: how long after the first signal the
  // job may take to checkpoint before it is stopped at once; nullopt = no limit.
  explicit Preemption(std::optional<absl::Duration> grace);

  // What to do now; each action is returned once, in order.
  Action Poll(absl::Time now);
  // The first signal received (0 = none yet).
  int first_signal() const;
  // The second signal received (0 = none yet): what made a kStopNow, unless --grace ran out.
  int second_signal() const;
  bool signalled() const { return first_signal() != 0; }

 private:
  std::optional<absl::Duration> grace_;
  std::optional<absl::Time> first_seen_;
  bool stop_now_sent_ = false;
};

}  // namespace srs::tools

#endif  // SRS_TOOLS_PREEMPTION_H_
