#include "depot/depot_service.h"

#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/log.h"
#include "depot/local_put_calls.h"

namespace srs {
namespace depot {
namespace {

grpc::Status Reply(const absl::Status& status, absl::string_view op) {
  if (!status.ok() && status.code() != absl::StatusCode::kPermissionDenied) {
    // Permission refusals were already logged (piece id only) by the store.
    SRS_LOG(INFO).Field("op", op).Field("code", absl::StatusCodeToString(status.code()))
        << status.message();
  }
  return ToGrpcStatus(status);
}

// Streams chunks to the client; false once the client is gone.
ChunkSink WriterSink(grpc::ServerWriter<v1::DataChunk>* writer) {
  return [writer](absl::string_view bytes) {
    v1::DataChunk chunk;
    chunk.set_data(bytes.data(), bytes.size());
    return writer->Write(chunk);
  };
}

// Reads the rest of a put stream into `session`; the stream must end with exactly one trailer.
absl::StatusOr<PutResult> ReceivePut(grpc::ServerReader<v1::PutRequest>* reader,
                                     PutSession& session) {
  v1::PutRequest request;
  while (reader->Read(&request)) {
    switch (request.part_case()) {
      case v1::PutRequest::kChunk: {
        absl::Status appended = session.Append(request.chunk());
        if (!appended.ok()) return appended;
        break;
      }
      case v1::PutRequest::kTrailer: {
        v1::PutRequest extra;
        if (reader->Read(&extra)) {
          return absl::InvalidArgumentError("put stream: messages after the trailer");
        }
        return session.Commit(request.trailer().xxh3_64(), request.trailer().total_bytes());
      }
      default:
        return absl::InvalidArgumentError("put stream: a second header or an empty message");
    }
  }
  return absl::InvalidArgumentError(
      "put stream ended without a trailer (client gone?): nothing was stored");
}

}  // namespace

// Counts a running call; refuses it once the depot is draining.
class DepotService::Call {
 public:
  explicit Call(DepotService* service) : service_(service) {
    absl::MutexLock lock(&service_->mu_);
    admitted_ = !service_->draining_;
    if (admitted_) ++service_->active_;
  }
  ~Call() {
    if (!admitted_) return;
    absl::MutexLock lock(&service_->mu_);
    --service_->active_;
  }
  bool admitted() const { return admitted_; }

 private:
  DepotService* service_;
  bool admitted_ = false;
};

void DepotService::StartDraining() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
}

bool DepotService::WaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

#define SRS_DEPOT_ADMIT()                                                                   \
  Call call(this);                                                                          \
  if (!call.admitted()) {                                                                   \
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "depot shutting down: retry later"); \
  }

grpc::Status DepotService::Put(grpc::ServerContext* context,
                               grpc::ServerReader<v1::PutRequest>* reader,
                               v1::PutResponse* response) {
  SRS_DEPOT_ADMIT();
  v1::PutRequest first;
  if (!reader->Read(&first) || first.part_case() != v1::PutRequest::kHeader) {
    return Reply(absl::InvalidArgumentError("put stream must start with a header"), "Put");
  }
  absl::Status granted = grants_->CheckWrite(first.header().grant(), first.header().key(), "Put");
  if (!granted.ok()) return ToGrpcStatus(granted);
  absl::StatusOr<std::unique_ptr<PutSession>> session = store_->BeginPut(first.header());
  if (!session.ok()) return Reply(session.status(), "Put");
  absl::StatusOr<PutResult> result = ReceivePut(reader, **session);
  if (!result.ok()) return Reply(result.status(), "Put");
  *response->mutable_caps() = result->caps;
  *response->mutable_info() = result->info;
  return grpc::Status::OK;
}

grpc::Status DepotService::BeginLocalPut(grpc::ServerContext* context,
                                         const v1::BeginLocalPutRequest* request,
                                         v1::BeginLocalPutResponse* response) {
  SRS_DEPOT_ADMIT();
  absl::StatusOr<v1::BeginLocalPutResponse> begun = BeginLocalPutCall(store_, grants_, *request);
  if (!begun.ok()) return Reply(begun.status(), "BeginLocalPut");
  *response = std::move(begun).value();
  return grpc::Status::OK;
}

grpc::Status DepotService::CommitLocalPut(grpc::ServerContext* context,
                                          const v1::CommitLocalPutRequest* request,
                                          v1::PutResponse* response) {
  SRS_DEPOT_ADMIT();
  absl::StatusOr<v1::PutResponse> committed = CommitLocalPutCall(store_, grants_, *request);
  if (!committed.ok()) return Reply(committed.status(), "CommitLocalPut");
  *response = std::move(committed).value();
  return grpc::Status::OK;
}

grpc::Status DepotService::AbortLocalPut(grpc::ServerContext* context,
                                         const v1::AbortLocalPutRequest* request,
                                         v1::AbortLocalPutResponse* response) {
  SRS_DEPOT_ADMIT();
  return Reply(store_->AbortLocalPut(request->put_id()), "AbortLocalPut");
}

grpc::Status DepotService::Get(grpc::ServerContext* context, const v1::GetRequest* request,
                               grpc::ServerWriter<v1::DataChunk>* writer) {
  SRS_DEPOT_ADMIT();
  return Reply(store_->Get(request->read_cap(), WriterSink(writer)), "Get");
}

grpc::Status DepotService::ReadRange(grpc::ServerContext* context,
                                     const v1::ReadRangeRequest* request,
                                     grpc::ServerWriter<v1::DataChunk>* writer) {
  SRS_DEPOT_ADMIT();
  std::vector<piece::Hyperslab> selections;
  for (const v1::Hyperslab& s : request->selections()) {
    selections.push_back({s.start(), s.stride(), s.count(), s.block()});
  }
  return Reply(store_->ReadRange(request->read_cap(), request->dataset(), request->wire_type(),
                                 selections, WriterSink(writer)),
               "ReadRange");
}

grpc::Status DepotService::OpenLocal(grpc::ServerContext* context,
                                     const v1::OpenLocalRequest* request,
                                     v1::OpenLocalResponse* response) {
  SRS_DEPOT_ADMIT();
  absl::StatusOr<PieceStore::LocalOpen> open = store_->OpenLocal(request->read_cap());
  if (!open.ok()) return Reply(open.status(), "OpenLocal");
  response->set_path(open->path);
  *response->mutable_info() = open->info;
  return grpc::Status::OK;
}

grpc::Status DepotService::Stat(grpc::ServerContext* context, const v1::StatRequest* request,
                                v1::PieceInfo* response) {
  SRS_DEPOT_ADMIT();
  absl::StatusOr<v1::PieceInfo> info = store_->Stat(request->cap());
  if (!info.ok()) return Reply(info.status(), "Stat");
  *response = *info;
  return grpc::Status::OK;
}

grpc::Status DepotService::Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                                  v1::DeleteResponse* response) {
  SRS_DEPOT_ADMIT();
  return Reply(store_->Delete(request->manage_cap()), "Delete");
}

grpc::Status DepotService::Renew(grpc::ServerContext* context, const v1::RenewRequest* request,
                                 v1::RenewResponse* response) {
  SRS_DEPOT_ADMIT();
  std::vector<std::string> caps(request->manage_caps().begin(), request->manage_caps().end());
  return Reply(store_->Renew(caps, request->lease_seconds()), "Renew");
}

grpc::Status DepotService::ListJob(grpc::ServerContext* context, const v1::ListJobRequest* request,
                                   v1::ListJobResponse* response) {
  SRS_DEPOT_ADMIT();
  absl::Status granted = grants_->CheckList(request->grant(), request->job());
  if (!granted.ok()) return ToGrpcStatus(granted);
  absl::StatusOr<std::vector<v1::PieceInfo>> pieces = store_->ListJob(request->job());
  if (!pieces.ok()) return Reply(pieces.status(), "ListJob");
  for (v1::PieceInfo& info : *pieces) *response->add_pieces() = std::move(info);
  return grpc::Status::OK;
}

grpc::Status DepotService::Info(grpc::ServerContext* context, const v1::InfoRequest* request,
                                v1::DepotInfo* response) {
  SRS_DEPOT_ADMIT();
  DepotIdentity id = identity_();
  PieceStore::Usage usage = store_->GetUsage();
  response->set_depot_id(id.depot_id);
  response->set_host(id.host);
  response->set_address(id.address);
  response->set_capacity_bytes(usage.capacity_bytes);
  response->set_used_bytes(usage.used_bytes);
  response->set_data_port(id.data_port);
  return grpc::Status::OK;
}

grpc::Status DepotService::Replicate(grpc::ServerContext* context,
                                     const v1::ReplicateRequest* request,
                                     v1::PutResponse* response) {
  SRS_DEPOT_ADMIT();
  if (replicator_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "Replicate: not enabled on this depot");
  }
  absl::StatusOr<v1::PutResponse> copy =
      replicator_->Replicate(*request, absl::FromChrono(context->deadline()));
  // Permission refusals were logged by the store or the grant check.
  if (!copy.ok()) return Reply(copy.status(), "Replicate");
  *response = std::move(*copy);
  return grpc::Status::OK;
}

}  // namespace depot
}  // namespace srs
