// The same-host put's two calls, BeginLocalPut and CommitLocalPut (srs.depot.v1), apart from the
// transport that carries them: the gRPC service (depot_service.cc) and the data channel
// (data_channel.cc, data_wire.h kOpBeginLocalPut / kOpCommitLocalPut) answer them with the
// same checks, effects and errors. The data channel exists because a gRPC round trip costs
// ~0.8 ms on a node whose cores all run ranks, against ~0.1 ms for a request on a connection
// whose depot thread is already waiting for it, and a checkpoint's commit waits for these two.
#ifndef SRS_DEPOT_LOCAL_PUT_CALLS_H_
#define SRS_DEPOT_LOCAL_PUT_CALLS_H_

#include "absl/status/statusor.h"
#include "depot/grant_check.h"
#include "depot/piece_store.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace depot {

// Checks the write grant for the request's key, then reserves the piece's space and names the
// spool file the writer creates (PieceStore::BeginLocalPut; an uncommitted ticket of the same
// key, whose answer its writer never got, is replaced). UNAUTHENTICATED / PERMISSION_DENIED
// without the grant; RESOURCE_EXHAUSTED when the depot cannot hold `size_hint`.
absl::StatusOr<v1::BeginLocalPutResponse> BeginLocalPutCall(
    PieceStore* store, const GrantCheck* grants, const v1::BeginLocalPutRequest& request);

// Checks the grant for the put's key, then verifies and adopts the spool file
// (PieceStore::CommitLocalPut): the piece's capabilities and record. A hashed commit
// (xxh3_64 set) for a put the depot no longer knows is answered from the piece committed under
// the grant's key when it has the same size and hash: the retry of a commit whose answer was
// lost. NOT_FOUND for an unknown put otherwise.
absl::StatusOr<v1::PutResponse> CommitLocalPutCall(PieceStore* store, const GrantCheck* grants,
                                                   const v1::CommitLocalPutRequest& request);

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_LOCAL_PUT_CALLS_H_
