#include "tools/rss_admin.h"

#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/error_codes.h"
#include "common/owner_file.h"
#include "common/tls.h"

namespace srs::tools {
namespace {

std::chrono::system_clock::time_point ToChrono(absl::Time t) { return absl::ToChronoTime(t); }

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args);
}

// True only when every address HOST:PORT resolves to refused a TCP connection. Anything else
// (an address it cannot parse or resolve, a timeout, an accepted connection) is left to gRPC.
bool RefusesConnections(const std::string& address, absl::Duration timeout) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos) return false;
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find_first_of("/[]") != std::string::npos) return false;  // not a plain HOST:PORT
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool refused = found != nullptr;
  for (addrinfo* a = found; a != nullptr && refused; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      refused = false;
      break;
    }
    timeval tv = absl::ToTimeval(timeout);  // bounds connect() on Linux
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    refused = connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno == ECONNREFUSED;
    close(fd);
  }
  freeaddrinfo(found);
  return refused;
}

}  // namespace

bool Listening(const std::string& address, absl::Duration timeout) {
  if (address.empty() || RefusesConnections(address, timeout)) return false;
  return Reachable(address, timeout);
}

bool Reachable(const std::string& address, absl::Duration timeout) {
  if (address.empty()) return false;
  std::shared_ptr<grpc::Channel> channel = MakeChannel(address);
  return channel->WaitForConnected(ToChrono(absl::Now() + timeout));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the admin token file ", path,
                                            " (set token_file in srs.config or SRS_TOKEN_FILE)"));
  }
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty())
    return absl::DataLossError(absl::StrCat("admin token file ", path, " is empty"));
  return token;
}

absl::StatusOr<RssAdmin> RssAdmin::Connect(const std::string& address, const std::string& token,
                                           absl::Duration connect_timeout,
                                           absl::Duration rpc_timeout) {
  std::shared_ptr<grpc::Channel> channel = MakeChannel(address);
  if (!channel->WaitForConnected(ToChrono(absl::Now() + connect_timeout))) {
    return absl::UnavailableError(absl::StrCat(
        "no RSS reachable at ", address, " (is srs-rss running? check rss in srs.config or SRS_RSS",
        tls::ConnectHint(), ")"));
  }
  return RssAdmin(address, token, rpc_timeout, rssv1::Rss::NewStub(channel));
}

void RssAdmin::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(ToChrono(absl::Now() + rpc_timeout_));
}

absl::Status RssAdmin::Convert(const grpc::Status& status, const std::string& what,
                               const std::string& job) const {
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::NOT_FOUND && !job.empty()) {
    return absl::NotFoundError(absl::StrCat("unknown job '", job, "' at the RSS ", address_,
                                            " (srs status lists the jobs it knows)"));
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::UnavailableError(absl::StrCat("RSS at ", address_, " unavailable during ", what,
                                               ": ", status.error_message()));
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    return FromGrpcStatus(
        status, absl::StrCat(what, " at ", address_,
                             token_.empty() ? " (wrong owner secret? check owner_file, or set "
                                              "token_file to the RSS's admin token)"
                                            : " (wrong admin token? check token_file)"));
  }
  // The RSS names the call in its own messages; say only which RSS answered.
  return FromGrpcStatus(status, absl::StrCat("RSS ", address_));
}

template <typename Request>
absl::Status RssAdmin::SetCredential(const std::string& job, Request* request) const {
  if (!token_.empty()) {
    request->set_admin_token(token_);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> secret = ReadOwnerSecret(owner_file_, address_, job);
  if (!secret.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no admin token (token_file) and no owner secret for job '", job, "' of the RSS ", address_,
        " in ", owner_file_.empty() ? "owner_file" : owner_file_));
  }
  request->set_owner_secret(*secret);
  return absl::OkStatus();
}

bool RssAdmin::HasCredentialFor(const std::string& job) const {
  return !token_.empty() || ReadOwnerSecret(owner_file_, address_, job).ok();
}

absl::StatusOr<rssv1::ListJobsResponse> RssAdmin::ListOwnedJobs() {
  rssv1::ListJobsResponse response;
  for (const std::string& job : OwnedJobs(owner_file_, address_)) {
    absl::StatusOr<rssv1::GetJobResponse> got = GetJob(job);
    if (got.ok()) {
      *response.add_jobs() = got->summary();
    } else if (!absl::IsNotFound(got.status()) && !absl::IsPermissionDenied(got.status())) {
      return got.status();  // a secret the RSS no longer knows is skipped; an outage is not
    }
  }
  return response;
}

absl::StatusOr<rssv1::ListJobsResponse> RssAdmin::ListJobs() {
  if (token_.empty()) return ListOwnedJobs();
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::ListJobsRequest request;
  request.set_admin_token(token_);
  rssv1::ListJobsResponse response;
  absl::Status status = Convert(stub_->ListJobs(&context, request, &response), "ListJobs", "");
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<rssv1::GetJobResponse> RssAdmin::GetJob(const std::string& job) {
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::GetJobRequest request;
  absl::Status credential = SetCredential(job, &request);
  if (!credential.ok()) return credential;
  request.set_job(job);
  rssv1::GetJobResponse response;
  absl::Status status = Convert(stub_->GetJob(&context, request, &response), "GetJob", job);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<int64_t> RssAdmin::RequestStop(const std::string& job) {
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::RequestStopRequest request;
  absl::Status credential = SetCredential(job, &request);
  if (!credential.ok()) return credential;
  request.set_job(job);
  rssv1::RequestStopResponse response;
  absl::Status status =
      Convert(stub_->RequestStop(&context, request, &response), "RequestStop", job);
  if (!status.ok()) return status;
  return response.request_id();
}

absl::StatusOr<int64_t> RssAdmin::RequestCheckpoint(const std::string& job) {
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::RequestCheckpointRequest request;
  absl::Status credential = SetCredential(job, &request);
  if (!credential.ok()) return credential;
  request.set_job(job);
  rssv1::RequestCheckpointResponse response;
  absl::Status status =
      Convert(stub_->RequestCheckpoint(&context, request, &response), "RequestCheckpoint", job);
  if (!status.ok()) return status;
  return response.request_id();
}

absl::StatusOr<rssv1::ListDepotsResponse> RssAdmin::ListDepots() {
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::ListDepotsRequest request;
  request.set_admin_token(token_);
  rssv1::ListDepotsResponse response;
  absl::Status status = Convert(stub_->ListDepots(&context, request, &response), "ListDepots", "");
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<std::string> RssAdmin::EndRun(const std::string& job, const std::string& run_id,
                                             const std::string& reason) {
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::EndRunRequest request;
  absl::Status credential = SetCredential(job, &request);
  if (!credential.ok()) return credential;
  request.set_job(job);
  request.set_run_id(run_id);
  request.set_reason(reason);
  rssv1::EndRunResponse response;
  absl::Status status = Convert(stub_->EndRun(&context, request, &response), "EndRun", job);
  if (!status.ok()) return status;
  return response.state();
}

absl::StatusOr<rssv1::RepairJobResponse> RssAdmin::RepairJob(const std::string& job,
                                                             absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(ToChrono(absl::Now() + timeout));
  rssv1::RepairJobRequest request;
  absl::Status credential = SetCredential(job, &request);
  if (!credential.ok()) return credential;
  request.set_job(job);
  rssv1::RepairJobResponse response;
  absl::Status status = Convert(stub_->RepairJob(&context, request, &response), "RepairJob", job);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<std::string> RssAdmin::DropCheckpoint(const std::string& job, int64_t epoch) {
  grpc::ClientContext context;
  SetDeadline(&context);
  rssv1::DropCheckpointRequest request;
  absl::Status credential = SetCredential(job, &request);
  if (!credential.ok()) return credential;
  request.set_job(job);
  request.set_epoch(epoch);
  rssv1::DropCheckpointResponse response;
  grpc::Status got = stub_->DropCheckpoint(&context, request, &response);
  // NOT_FOUND here may be the epoch, not the job: keep the RSS's own words.
  if (got.error_code() == grpc::StatusCode::NOT_FOUND) {
    return FromGrpcStatus(got, absl::StrCat("RSS ", address_));
  }
  absl::Status status = Convert(got, "DropCheckpoint", job);
  if (!status.ok()) return status;
  return response.state();
}

}  // namespace srs::tools
