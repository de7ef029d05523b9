// A test helper speaking to the RSS as an operator would (RSS from SRS_RSS, admin token from
// SRS_TOKEN_FILE). Every command exits non-zero with a one-line reason on stderr when it cannot
// answer (unreachable RSS, unknown job, bad token): an empty output always means "none", never
// "could not ask".
//
//   rss_admin stop JOB | checkpoint JOB      RequestStop / RequestCheckpoint
//   rss_admin epochs JOB                     committed epochs, one per line, oldest first
//   rss_admin checkpoints JOB                every checkpoint: "EPOCH STATE RUN_ID NPROCS DEPOTS"
//                                            (DEPOTS = the distinct depot addresses,
//                                            comma-separated)
//   rss_admin runs JOB                       every run, oldest first: "RUN_ID STATE NPROCS
//                                            RESUMED_FROM_EPOCH" (0 = a fresh start)
//   rss_admin depots                         registered depots: "ID HOST ADDRESS"
//   rss_admin wait-depots N SECONDS          polls ListDepots until N depots are registered
//   rss_admin pieces JOB DEPOT_ADDRESS       how many pieces of JOB the depot holds
//
// (A separate process: a program linked with libsrs.so must not link the proto library a second
// time — protobuf's descriptor pool is global.)
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grant.h"
#include "depot/client/depot_client.h"
#include "rss/client/rss_client.h"

namespace {

namespace v1 = srs::rss::v1;

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "rss_admin %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: SRS_RSS=.. SRS_TOKEN_FILE=.. rss_admin stop|checkpoint|epochs|checkpoints|runs "
      "JOB | depots | wait-depots N SECONDS | pieces JOB DEPOT_ADDRESS\n");
  return 2;
}

int Pieces(const std::string& job, const std::string& address) {
  // Listing needs a grant of the job: as the operator, mint one with the RSS's grant key, which
  // sits next to its admin token.
  const char* token_file = std::getenv("SRS_TOKEN_FILE");
  std::string state = token_file ? token_file : "";
  state = state.substr(0, state.rfind('/') + 1);
  auto key = srs::GrantKey::Load(state + "grant.key");
  srs::depot::v1::WriteGrant grant;
  if (key.ok()) grant = key->Mint({job, 0, 0, "", absl::Now() + absl::Minutes(1)});
  auto depot = srs::DepotClient::Connect(address, absl::Seconds(10));
  auto pieces = depot.ok() ? (*depot)->ListJob(job, grant) : depot.status();
  if (!pieces.ok()) return Fail("pieces", pieces.status());
  std::printf("%zu\n", pieces->size());
  return 0;
}

absl::StatusOr<v1::ListDepotsResponse> ListDepots(srs::RssClient& rss, const std::string& token) {
  v1::ListDepotsRequest req;
  req.set_admin_token(token);
  return rss.ListDepots(req);
}

// Polls ListDepots (every 50 ms) until `want` depots are registered or `seconds` have passed.
int WaitDepots(srs::RssClient& rss, const std::string& token, const char* want_text,
               const char* seconds_text) {
  int want = 0, seconds = 0;
  if (!absl::SimpleAtoi(want_text, &want) || !absl::SimpleAtoi(seconds_text, &seconds)) {
    return Usage();
  }
  absl::Time deadline = absl::Now() + absl::Seconds(seconds);
  absl::Status last = absl::OkStatus();
  int seen = 0;
  while (absl::Now() < deadline) {
    auto depots = ListDepots(rss, token);
    last = depots.status();
    if (depots.ok()) {
      seen = depots->depots_size();
      if (seen >= want) return 0;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::fprintf(stderr, "rss_admin wait-depots: %d of %d depots registered after %d s (last: %s)\n",
               seen, want, seconds, last.ToString().c_str());
  return 1;
}

void PrintCheckpoints(const v1::GetJobResponse& job, bool committed_only) {
  for (const auto& c : job.checkpoints()) {
    if (committed_only) {
      if (c.state() == "committed") std::printf("%lld\n", static_cast<long long>(c.epoch()));
      continue;
    }
    std::set<std::string> depots;
    for (const auto& p : c.pieces()) depots.insert(p.depot_address());
    std::printf("%lld %s %s %d %s\n", static_cast<long long>(c.epoch()), c.state().c_str(),
                c.run_id().c_str(), c.nprocs(),
                depots.empty() ? "-" : absl::StrJoin(depots, ",").c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  if (command == "pieces") return argc == 4 ? Pieces(argv[2], argv[3]) : Usage();
  if (std::getenv("SRS_RSS") == nullptr || std::getenv("SRS_TOKEN_FILE") == nullptr) {
    return Usage();
  }
  auto rss = srs::RssClient::Connect(std::getenv("SRS_RSS"), absl::Seconds(10));
  if (!rss.ok()) return Fail(command, rss.status());
  auto token = srs::ReadAdminToken(std::getenv("SRS_TOKEN_FILE"));
  if (!token.ok()) return Fail(command, token.status());
  if (command == "wait-depots")
    return argc == 4 ? WaitDepots(**rss, *token, argv[2], argv[3]) : Usage();
  if (command == "depots") {
    if (argc != 2) return Usage();
    auto depots = ListDepots(**rss, *token);
    if (!depots.ok()) return Fail(command, depots.status());
    for (const auto& d : depots->depots()) {
      std::printf("%s %s %s\n", d.depot_id().c_str(), d.host().c_str(), d.address().c_str());
    }
    return 0;
  }
  if (argc != 3) return Usage();
  const std::string job = argv[2];
  absl::Status status;
  if (command == "stop") {
    v1::RequestStopRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    status = (*rss)->RequestStop(req).status();
  } else if (command == "checkpoint") {
    v1::RequestCheckpointRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    status = (*rss)->RequestCheckpoint(req).status();
  } else if (command == "runs") {
    v1::GetJobRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    auto resp = (*rss)->GetJob(req);
    status = resp.status();
    if (resp.ok()) {
      for (const auto& r : resp->runs()) {
        std::printf("%s %s %d %lld\n", r.run_id().c_str(), r.state().c_str(), r.nprocs(),
                    static_cast<long long>(r.resumed_from_epoch()));
      }
    }
  } else if (command == "epochs" || command == "checkpoints") {
    v1::GetJobRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    auto resp = (*rss)->GetJob(req);
    status = resp.status();
    if (resp.ok()) PrintCheckpoints(*resp, command == "epochs");
  } else {
    std::fprintf(stderr, "rss_admin: unknown command %s\n", command.c_str());
    return 2;
  }
  if (!status.ok()) return Fail(command, status);
  return 0;
}
