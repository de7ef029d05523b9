// What every part of a run shares: the communicator, who this rank is, the parsed config, the
// RSS link (rank 0 only), what RegisterRun answered, and the depot clients. Owned by Context;
// the checkpoint writer and the restart reader borrow it.
#ifndef SRS_LIBSRS_SRC_RUN_ENV_H_
#define SRS_LIBSRS_SRC_RUN_ENV_H_

#include <mpi.h>

#include <memory>
#include <string>

#include "libsrs/src/depot_pool.h"
#include "libsrs/src/settings.h"
#include "rss/client/rss_client.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

struct RunEnv {
  MPI_Comm comm = MPI_COMM_NULL;  // a private duplicate of the application's communicator
  int rank = 0;
  int nprocs = 1;
  Settings settings;
  std::string host;                  // this rank's host name
  std::unique_ptr<RssClient> rss;    // rank 0 only
  rss::v1::RegisterRunResponse run;  // identical on every rank (broadcast at SRS_Init)
  std::unique_ptr<DepotPool> depots;
  // The last epoch this run began (every rank learns it with its write grant); 0 before any.
  // Main thread only.
  int64_t last_epoch_begun = 0;

  // The depot this rank writes its pieces to (resolved by the RSS at registration).
  const std::string& my_depot() const { return run.rank_depots(rank); }

  // The epoch the run's next BeginCheckpoint will probably get (0: unknown, an older RSS): the
  // one after the last begun, else the RSS's hint at registration. Only this run begins
  // checkpoints of its job, so a wrong guess is rare (a begin lost with an RSS restart, or an
  // epoch another tool took); the piece written under it is then written again.
  int64_t PredictedEpoch() const {
    return last_epoch_begun > 0 ? last_epoch_begun + 1 : run.next_epoch();
  }
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_RUN_ENV_H_
