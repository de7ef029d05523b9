// What `srs run` does while its job runs: it watches the launcher until it exits, acts on
// preemption signals (preemption.h: records a stop request at the RSS so the job checkpoints at
// its next SRS_Check_Stop, or kills the job at once on a second signal or after --grace), and in
// embedded mode supervises its private daemons: one that died is started again from its durable
// state on the same port (the job's config names it) and `srs run` says so.
#ifndef SRS_TOOLS_SUPERVISOR_H_
#define SRS_TOOLS_SUPERVISOR_H_

#include <string>

#include "tools/launcher.h"
#include "tools/preemption.h"
#include "tools/site.h"

namespace srs::tools {

struct SupervisedJob {
  Site* site = nullptr;
  std::string job;
  LaunchedJob* launched = nullptr;
  Preemption* preemption = nullptr;
  PrivateDaemons* daemons = nullptr;  // null when the RSS is configured, not private
};

struct SupervisionResult {
  int launcher_status = 0;       // mpiexec's exit status (128 + signal if killed)
  bool stop_recorded = false;    // a signal's stop request reached the RSS
  bool stopped_at_once = false;  // the job was killed (second signal or grace)
};

// Blocks until the launcher has exited.
SupervisionResult Supervise(const SupervisedJob& job);

}  // namespace srs::tools

#endif  // SRS_TOOLS_SUPERVISOR_H_
