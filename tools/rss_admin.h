// The RSS calls the tools make, with the admin token and a deadline on each, and errors phrased
// for the person at the terminal. (The tools talk to the srs.rss.v1 stub directly: they need
// only the admin RPCs, and the proto is the contract.)
#ifndef SRS_TOOLS_RSS_ADMIN_H_
#define SRS_TOOLS_RSS_ADMIN_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "srs/rss/v1/rss.grpc.pb.h"

namespace srs::tools {

namespace rssv1 = ::srs::rss::v1;

// True if something accepts gRPC connections at `address` within `timeout`.
bool Reachable(const std::string& address, absl::Duration timeout);

// Reachable(), but false at once when `address` (HOST:PORT) refuses TCP connections, i.e.
// nothing listens there: gRPC's own attempt sits out the whole timeout in its reconnect backoff.
// For probing whether the private daemons run, where "not yet listening" means "not running"
// (the state directory's lock is held); a remote RSS that may be restarting wants Reachable().
bool Listening(const std::string& address, absl::Duration timeout);

class RssAdmin {
 public:
  // UNAVAILABLE "no RSS reachable at ADDR ..." when nothing answers within `connect_timeout`.
  static absl::StatusOr<RssAdmin> Connect(const std::string& address, const std::string& token,
                                          absl::Duration connect_timeout,
                                          absl::Duration rpc_timeout);

  // Without an admin token the per-job calls (GetJob, RequestStop, RequestCheckpoint) present
  // the job's owner secret from this file, and ListJobs lists the jobs it holds secrets for.
  void set_owner_file(std::string path) { owner_file_ = std::move(path); }

  absl::StatusOr<rssv1::ListJobsResponse> ListJobs();
  // NOT_FOUND "unknown job 'X'" when the RSS does not know it.
  absl::StatusOr<rssv1::GetJobResponse> GetJob(const std::string& job);
  absl::StatusOr<int64_t> RequestStop(const std::string& job);
  absl::StatusOr<int64_t> RequestCheckpoint(const std::string& job);
  absl::StatusOr<rssv1::ListDepotsResponse> ListDepots();
  // Ends the job's run `run_id` that its launcher saw die (it becomes "lost"; see EndRun in
  // rss.proto). Returns the run's state afterwards.
  absl::StatusOr<std::string> EndRun(const std::string& job, const std::string& run_id,
                                     const std::string& reason);

  // Re-creates the missing copies of the job's committed checkpoints (RepairJob in rss.proto);
  // `timeout` bounds the whole call (a repair copies whole pieces depot to depot).
  absl::StatusOr<rssv1::RepairJobResponse> RepairJob(const std::string& job,
                                                     absl::Duration timeout);
  // Drops checkpoint `epoch` of the job (DropCheckpoint in rss.proto); its state afterwards.
  // NOT_FOUND and FAILED_PRECONDITION carry the RSS's reason (unknown epoch, pending checkpoint).
  absl::StatusOr<std::string> DropCheckpoint(const std::string& job, int64_t epoch);

  const std::string& address() const { return address_; }
  // Whether this client can act on `job`: it has the admin token, or an owner secret for the job
  // in its owner file (a plain user's job it never registered from here has none).
  bool HasCredentialFor(const std::string& job) const;

 private:
  RssAdmin(std::string address, std::string token, absl::Duration rpc_timeout,
           std::shared_ptr<rssv1::Rss::Stub> stub)
      : address_(std::move(address)),
        token_(std::move(token)),
        rpc_timeout_(rpc_timeout),
        stub_(std::move(stub)) {}
  void SetDeadline(grpc::ClientContext* context) const;
  // Puts the admin token, else the job's owner secret, into a per-job request.
  template <typename Request>
  absl::Status SetCredential(const std::string& job, Request* request) const;
  absl::StatusOr<rssv1::ListJobsResponse> ListOwnedJobs();
  absl::Status Convert(const grpc::Status& status, const std::string& what,
                       const std::string& job) const;

  std::string address_;
  std::string token_;
  std::string owner_file_;
  absl::Duration rpc_timeout_;
  std::shared_ptr<rssv1::Rss::Stub> stub_;
};

// Reads a one-line token file; NOT_FOUND / PERMISSION_DENIED name the file.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace srs::tools

#endif  // SRS_TOOLS_RSS_ADMIN_H_
