// What `srs run` takes from a Slurm allocation it runs inside (SLURM_JOB_ID set): the job id and
// requeue count (for its messages), and the allocation's hosts, expanded from
// SLURM_JOB_NODELIST by `scontrol show hostnames` (Slurm's own parser of its host-list syntax).
#ifndef SRS_TOOLS_SLURM_H_
#define SRS_TOOLS_SLURM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace srs::tools {

struct SlurmAllocation {
  bool inside = false;             // SLURM_JOB_ID is set
  std::string job_id;              // SLURM_JOB_ID
  int restart_count = 0;           // SLURM_RESTART_COUNT: how often Slurm requeued the job
  std::vector<std::string> hosts;  // the allocation's nodes, in Slurm's order
};

// Reads the environment. Outside Slurm: inside = false. Inside, UNAVAILABLE if the node list
// cannot be expanded (no scontrol, or it failed), quoting scontrol's message.
absl::StatusOr<SlurmAllocation> DetectSlurm();

}  // namespace srs::tools

#endif  // SRS_TOOLS_SLURM_H_
