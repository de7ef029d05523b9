// The srs.depot.v1 gRPC service: validates and converts requests, delegates to PieceStore, and
// converts Status to gRPC status. No storage logic lives here.
#ifndef SRS_DEPOT_DEPOT_SERVICE_H_
#define SRS_DEPOT_DEPOT_SERVICE_H_

#include <functional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "depot/grant_check.h"
#include "depot/piece_store.h"
#include "depot/replicator.h"
#include "srs/depot/v1/depot.grpc.pb.h"

namespace srs {
namespace depot {

// What Info reports besides the store's usage.
struct DepotIdentity {
  std::string depot_id;
  std::string host;
  std::string address;
  int data_port = 0;  // the data channel's port (DepotInfo.data_port), 0 = none
};

class DepotService final : public v1::Depot::Service {
 public:
  // `grants` (not owned, outlives the service) decides which writes and listings are allowed.
  // `replicator` (not owned, may be null: Replicate is then UNIMPLEMENTED) makes the copies to
  // other depots.
  DepotService(PieceStore* store, std::function<DepotIdentity()> identity, const GrantCheck* grants,
               Replicator* replicator = nullptr)
      : store_(store), identity_(std::move(identity)), grants_(grants), replicator_(replicator) {}

  grpc::Status Put(grpc::ServerContext* context, grpc::ServerReader<v1::PutRequest>* reader,
                   v1::PutResponse* response) override;
  grpc::Status BeginLocalPut(grpc::ServerContext* context, const v1::BeginLocalPutRequest* request,
                             v1::BeginLocalPutResponse* response) override;
  grpc::Status CommitLocalPut(grpc::ServerContext* context,
                              const v1::CommitLocalPutRequest* request,
                              v1::PutResponse* response) override;
  grpc::Status AbortLocalPut(grpc::ServerContext* context, const v1::AbortLocalPutRequest* request,
                             v1::AbortLocalPutResponse* response) override;
  grpc::Status Get(grpc::ServerContext* context, const v1::GetRequest* request,
                   grpc::ServerWriter<v1::DataChunk>* writer) override;
  grpc::Status ReadRange(grpc::ServerContext* context, const v1::ReadRangeRequest* request,
                         grpc::ServerWriter<v1::DataChunk>* writer) override;
  grpc::Status OpenLocal(grpc::ServerContext* context, const v1::OpenLocalRequest* request,
                         v1::OpenLocalResponse* response) override;
  grpc::Status Stat(grpc::ServerContext* context, const v1::StatRequest* request,
                    v1::PieceInfo* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                      v1::DeleteResponse* response) override;
  grpc::Status Renew(grpc::ServerContext* context, const v1::RenewRequest* request,
                     v1::RenewResponse* response) override;
  grpc::Status ListJob(grpc::ServerContext* context, const v1::ListJobRequest* request,
                       v1::ListJobResponse* response) override;
  grpc::Status Info(grpc::ServerContext* context, const v1::InfoRequest* request,
                    v1::DepotInfo* response) override;
  grpc::Status Replicate(grpc::ServerContext* context, const v1::ReplicateRequest* request,
                         v1::PutResponse* response) override;

  // Graceful shutdown: from now on new calls get UNAVAILABLE ("depot shutting down"); the calls
  // already running go on. WaitIdle returns true once none is left, false at `deadline`.
  // (gRPC's own Shutdown(deadline) also waits for idle client connections, so the server
  // drains here first and then shuts gRPC down at once.)
  void StartDraining();
  bool WaitIdle(absl::Time deadline);

 private:
  class Call;
  PieceStore* store_;
  std::function<DepotIdentity()> identity_;
  const GrantCheck* grants_;
  Replicator* replicator_;
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_DEPOT_SERVICE_H_
