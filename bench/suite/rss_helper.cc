#include "bench/suite/rss_helper.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "depot/client/depot_client.h"
#include "rss/client/rss_client.h"

namespace srs::bench {
namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

struct Admin {
  std::unique_ptr<RssClient> rss;
  std::string token;
};

absl::StatusOr<Admin> Connect() {
  Admin a;
  SRS_ASSIGN_OR_RETURN(a.token, ReadAdminToken(Env("SRS_TOKEN_FILE")));
  SRS_ASSIGN_OR_RETURN(a.rss, RssClient::Connect(Env("SRS_RSS"), absl::Seconds(60)));
  return a;
}

absl::Status Stop() {
  SRS_ASSIGN_OR_RETURN(Admin a, Connect());
  rss::v1::RequestStopRequest req;
  req.set_admin_token(a.token);
  req.set_job(Env("SRS_APP"));
  return a.rss->RequestStop(req).status();
}

absl::StatusOr<rss::v1::GetJobResponse> Job() {
  SRS_ASSIGN_OR_RETURN(Admin a, Connect());
  rss::v1::GetJobRequest req;
  req.set_admin_token(a.token);
  req.set_job(Env("SRS_APP"));
  // On a loaded machine a first connection can time out; a listing is safe to retry.
  absl::StatusOr<rss::v1::GetJobResponse> job = a.rss->GetJob(req);
  for (int attempt = 1; attempt < 4 && absl::IsUnavailable(job.status()); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    job = a.rss->GetJob(req);
  }
  return job;
}

absl::Status CountPeriodic() {
  SRS_ASSIGN_OR_RETURN(rss::v1::GetJobResponse job, Job());
  int n = 0;
  for (const auto& c : job.checkpoints())
    if (c.reason() == rss::v1::REASON_PERIODIC && c.state() != "discarded" &&
        c.state() != "pending")
      ++n;
  printf("%d\n", n);
  return absl::OkStatus();
}

absl::Status Fetch(int index, int count) {
  SRS_ASSIGN_OR_RETURN(rss::v1::GetJobResponse job, Job());
  const rss::v1::CheckpointSummary* newest = nullptr;
  for (const auto& c : job.checkpoints())
    if (c.epoch() == job.summary().last_epoch() && c.state() == "committed") newest = &c;
  if (newest == nullptr) return absl::NotFoundError("no committed checkpoint of " + Env("SRS_APP"));
  auto t0 = std::chrono::steady_clock::now();
  int64_t bytes = 0;
  for (int i = index; i < newest->pieces_size(); i += count) {
    const auto& p = newest->pieces(i);
    SRS_ASSIGN_OR_RETURN(auto depot, DepotClient::Connect(p.depot_address(), absl::Seconds(600)));
    SRS_ASSIGN_OR_RETURN(std::string piece, depot->GetAll(p.read_cap()));
    bytes += static_cast<int64_t>(piece.size());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("SRSBENCH fetch_seconds %.9g\nSRSBENCH fetch_bytes %lld\n", secs,
         static_cast<long long>(bytes));
  return absl::OkStatus();
}

// Prints the state ("up", "down") the RSS gives the depot at `address`, or "unknown".
absl::Status DepotState(const std::string& address) {
  SRS_ASSIGN_OR_RETURN(Admin a, Connect());
  rss::v1::ListDepotsRequest req;
  req.set_admin_token(a.token);
  SRS_ASSIGN_OR_RETURN(rss::v1::ListDepotsResponse listed, a.rss->ListDepots(req));
  std::string state = "unknown";
  for (const rss::v1::DepotRecord& depot : listed.depots()) {
    if (depot.address() == address) state = depot.state();
  }
  printf("%s\n", state.c_str());
  return absl::OkStatus();
}

}  // namespace

int HelperMain(int argc, char** argv) {
  std::string what = argc > 2 ? argv[2] : "";
  absl::Status s;
  if (what == "stop" && argc == 3) {
    s = Stop();
  } else if (what == "count-periodic" && argc == 3) {
    s = CountPeriodic();
  } else if (what == "fetch" && argc == 5) {
    s = Fetch(std::atoi(argv[3]), std::atoi(argv[4]));
  } else if (what == "depot-state" && argc == 4) {
    s = DepotState(argv[3]);
  } else {
    fprintf(stderr,
            "srs-bench-suite --helper: stop | count-periodic | fetch INDEX COUNT | "
            "depot-state ADDRESS\n");
    return 2;
  }
  if (!s.ok()) {
    fprintf(stderr, "srs-bench-suite --helper %s: %s\n", what.c_str(), s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace srs::bench
