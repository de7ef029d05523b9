// Depot-to-depot copies of stored pieces (Depot.Replicate, issue 13: redundancy and repair).
//
// The depot holding a piece streams its stored file to another depot as an ordinary Put, with a
// write grant the RSS issued for the piece's key, and then checks that the target's checksum and
// size of what it stored equal the piece's own. The bytes never pass through the writer (a rank
// pays one put to its own depot, whatever the redundancy), and never sit in memory whole: the
// store hands them over in kChunkBytes chunks straight into the outgoing stream.
//
//   Replicator replicator(store, grants, {.credentials = tls_credentials});
//   absl::StatusOr<v1::PutResponse> copy = replicator.Replicate(request);
//
// Checks, in order (each refusal changes nothing):
//   - the manage capability of the local piece (PERMISSION_DENIED / NOT_FOUND, as Delete);
//   - request.key is that piece's key (INVALID_ARGUMENT), and request.grant is a valid write
//     grant for it (UNAUTHENTICATED / PERMISSION_DENIED, as Put): the depot is not a free proxy;
//   - the target is named (INVALID_ARGUMENT; address <= 270 and id <= 255 bytes, printable, the
//     address a plain host:port or [v6]:port, never a gRPC URI such as unix:/path) and
//     answers within ReplicatorOptions.target_wait (FAILED_PRECONDITION naming it otherwise:
//     the writer then fails the checkpoint at once instead of retrying for its RPC budget),
//     is the depot it claims to be: its Info's
//     depot_id equals target_depot_id (FAILED_PRECONDITION: a stale address now serving another
//     depot), and is not this depot itself (FAILED_PRECONDITION: no redundancy in that);
//   - after the put, the target's size and XXH3-64 equal the piece's (DATA_LOSS otherwise, and
//     the bad copy is deleted with the manage capability the target answered).
// The target's errors keep their code (ALREADY_EXISTS when it holds the key, UNAVAILABLE when it
// cannot be reached) and name its address.
//
// Bounded: one replicate per piece at a time (a second one for the same piece waits for the
// first). Thread-safe.
#ifndef SRS_DEPOT_REPLICATOR_H_
#define SRS_DEPOT_REPLICATOR_H_

#include <grpcpp/security/credentials.h>

#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "depot/client/depot_client.h"
#include "depot/grant_check.h"
#include "depot/piece_store.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace depot {

struct ReplicatorOptions {
  // Credentials of the channels to target depots: the depot's own TLS files (its --tls-ca
  // verifies the target, its certificate identifies it for mutual TLS); insecure when unset.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Deadline of the small calls (Info, Delete); the put gets this plus 1 s per 64 MiB.
  absl::Duration rpc_timeout = absl::Seconds(30);
  // This depot's id: a replicate to it is refused.
  std::string self_depot_id;
  // How long a target that does not answer (refused, silent) is probed before the replicate
  // fails with FAILED_PRECONDITION: rides out a target's restart, bounds a dead one.
  absl::Duration target_wait = absl::Seconds(5);
};

class Replicator {
 public:
  // `store` and `grants` are not owned and outlive the replicator.
  Replicator(PieceStore* store, const GrantCheck* grants, ReplicatorOptions options)
      : store_(store), grants_(grants), options_(std::move(options)) {}

  // Copies the piece to request.target_address (see the file comment for every check). Returns
  // the target's PutResponse: the copy's capabilities and info. `deadline`: the caller's (its
  // RPC deadline); the calls to the target get at most the time left until it (and at most
  // options.rpc_timeout for the small ones), so a dead target does not hold this depot's
  // thread after the caller gave up.
  absl::StatusOr<v1::PutResponse> Replicate(const v1::ReplicateRequest& request,
                                            absl::Time deadline = absl::InfiniteFuture());

 private:
  // A client of a target whose calls get `timeout` (gRPC shares the connections of channels to
  // one address, and reconnects by itself).
  absl::StatusOr<std::unique_ptr<DepotClient>> Target(const std::string& address,
                                                      absl::Duration timeout);
  // The target's Info, probed for at most options_.target_wait (see ProbeTarget in the .cc).
  absl::StatusOr<v1::DepotInfo> ProbeTarget(DepotClient& target,
                                            const v1::ReplicateRequest& request,
                                            absl::Time deadline);
  absl::StatusOr<v1::PutResponse> Copy(const PieceRecord& record,
                                       const v1::ReplicateRequest& request, absl::Time deadline);

  PieceStore* const store_;
  const GrantCheck* const grants_;
  const ReplicatorOptions options_;
  absl::Mutex mu_;
  std::set<std::string> busy_ ABSL_GUARDED_BY(mu_);  // piece ids being replicated
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_REPLICATOR_H_
