// Signals the ranks ignore because their launcher handles them (SRS_IGNORE_SIGNALS).
//
// A batch system announces preemption with a signal to every process of the job (Slurm's
// `scontrol requeue`, preemption and `scancel` send SIGTERM to each of them, SIGKILL after
// KillWait). `srs run` turns that signal into "checkpoint and stop" at the RSS, so the ranks must
// survive it to checkpoint: it sets SRS_IGNORE_SIGNALS=TERM,USR1 and SRS_Init ignores those.
// Without the variable nothing changes. The ranks still leave on SIGINT and SIGKILL.
#ifndef SRS_LIBSRS_SRC_LAUNCHER_SIGNALS_H_
#define SRS_LIBSRS_SRC_LAUNCHER_SIGNALS_H_

#include <string>

#include "absl/status/status.h"

namespace srs {
namespace libsrs {

// `names`: comma-separated signal names without "SIG" (TERM, USR1, USR2, HUP, INT); "" = none.
// Sets each to SIG_IGN. INVALID_ARGUMENT naming an unknown name (nothing changed then).
absl::Status IgnoreSignals(const std::string& names);

// IgnoreSignals($SRS_IGNORE_SIGNALS); OK when it is unset.
absl::Status IgnoreLauncherSignals();

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_LAUNCHER_SIGNALS_H_
