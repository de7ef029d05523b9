// SRS_Init's collective part: every rank reads the config, rank 0 registers the run with the RSS
// (every rank's host and depot setting gathered first) and broadcasts the answer (restart flag,
// manifest, resolved depot per rank, run token). A failure anywhere is the same error everywhere.
#ifndef SRS_LIBSRS_SRC_RUN_REGISTRATION_H_
#define SRS_LIBSRS_SRC_RUN_REGISTRATION_H_

#include <mpi.h>

#include <string>

#include "absl/status/status.h"
#include "libsrs/src/run_env.h"

namespace srs {
namespace libsrs {

// Collective over env->comm (which must be set, with rank and nprocs). Fills the rest of *env.
absl::Status RegisterRun(const std::string& config_path, RunEnv* env);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_RUN_REGISTRATION_H_
