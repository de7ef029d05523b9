#include "depot/local_put_calls.h"

#include <optional>

#include "common/status_macros.h"

namespace srs {
namespace depot {

absl::StatusOr<v1::BeginLocalPutResponse> BeginLocalPutCall(
    PieceStore* store, const GrantCheck* grants, const v1::BeginLocalPutRequest& request) {
  SRS_RETURN_IF_ERROR(
      grants->CheckWrite(request.header().grant(), request.header().key(), "BeginLocalPut"));
  SRS_ASSIGN_OR_RETURN(LocalPutTicket ticket, store->BeginLocalPut(request.header()));
  v1::BeginLocalPutResponse response;
  response.set_put_id(ticket.put_id);
  response.set_spool_path(ticket.spool_path);
  return response;
}

absl::StatusOr<v1::PutResponse> CommitLocalPutCall(PieceStore* store, const GrantCheck* grants,
                                                   const v1::CommitLocalPutRequest& request) {
  std::optional<FileDigest> written;
  if (request.has_xxh3_64()) written = FileDigest{request.size_bytes(), request.xxh3_64()};
  absl::StatusOr<v1::PieceKey> key = store->LocalPutKey(request.put_id());
  absl::StatusOr<PutResult> result;
  if (absl::IsNotFound(key.status()) && written.has_value()) {
    // Perhaps a retry whose first answer was lost (the writer's connection broke after the
    // commit): the grant names the key; the same bytes committed there get the same answer.
    v1::PieceKey granted_key;
    granted_key.set_job(request.grant().job());
    granted_key.set_epoch(request.grant().epoch());
    granted_key.set_rank(request.grant().rank());
    SRS_RETURN_IF_ERROR(grants->CheckWrite(request.grant(), granted_key, "CommitLocalPut"));
    result = store->CommittedPut(granted_key, *written);
  } else {
    SRS_RETURN_IF_ERROR(key.status());
    SRS_RETURN_IF_ERROR(grants->CheckWrite(request.grant(), *key, "CommitLocalPut"));
    result = store->CommitLocalPut(request.put_id(), written);
  }
  SRS_RETURN_IF_ERROR(result.status());
  v1::PutResponse response;
  *response.mutable_caps() = result->caps;
  *response.mutable_info() = result->info;
  return response;
}

}  // namespace depot
}  // namespace srs
