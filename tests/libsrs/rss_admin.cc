// A test helper speaking to the RSS as an operator would (admin token from SRS_TOKEN_FILE):
//   rss_admin stop JOB | checkpoint JOB | epochs JOB
//   rss_admin pieces JOB DEPOT_ADDRESS
// `epochs` prints the committed checkpoint epochs of JOB, one per line; `pieces` prints how
// many pieces of JOB the depot holds. (A separate process: a program linked with libsrs.so
// must not link the proto library a second time — protobuf's descriptor pool is global.)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grant.h"
#include "depot/client/depot_client.h"
#include "rss/client/rss_client.h"

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "pieces") {
    // Listing needs a grant of the job: as the operator, mint one with the RSS's grant key,
    // which sits next to its admin token.
    const char* token_file = std::getenv("SRS_TOKEN_FILE");
    std::string state = token_file ? token_file : "";
    state = state.substr(0, state.rfind('/') + 1);
    auto key = srs::GrantKey::Load(state + "grant.key");
    srs::depot::v1::WriteGrant grant;
    if (key.ok()) grant = key->Mint({argv[2], 0, 0, "", absl::Now() + absl::Minutes(1)});
    auto depot = srs::DepotClient::Connect(argv[3], absl::Seconds(10));
    auto pieces = depot.ok() ? (*depot)->ListJob(argv[2], grant) : depot.status();
    if (!pieces.ok()) {
      std::fprintf(stderr, "rss_admin pieces: %s\n", pieces.status().ToString().c_str());
      return 1;
    }
    std::printf("%zu\n", pieces->size());
    return 0;
  }
  if (argc != 3 || std::getenv("SRS_RSS") == nullptr || std::getenv("SRS_TOKEN_FILE") == nullptr) {
    std::fprintf(stderr, "usage: SRS_RSS=.. SRS_TOKEN_FILE=.. %s stop|checkpoint|epochs JOB\n",
                 argv[0]);
    return 2;
  }
  auto rss = srs::RssClient::Connect(std::getenv("SRS_RSS"), absl::Seconds(10));
  auto token = srs::ReadAdminToken(std::getenv("SRS_TOKEN_FILE"));
  if (!rss.ok() || !token.ok()) {
    std::fprintf(stderr, "rss_admin: %s\n",
                 (!rss.ok() ? rss.status() : token.status()).ToString().c_str());
    return 1;
  }
  std::string command = argv[1], job = argv[2];
  absl::Status status;
  if (command == "stop") {
    srs::rss::v1::RequestStopRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    status = (*rss)->RequestStop(req).status();
  } else if (command == "checkpoint") {
    srs::rss::v1::RequestCheckpointRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    status = (*rss)->RequestCheckpoint(req).status();
  } else if (command == "epochs") {
    srs::rss::v1::GetJobRequest req;
    req.set_admin_token(*token);
    req.set_job(job);
    auto resp = (*rss)->GetJob(req);
    status = resp.status();
    if (resp.ok()) {
      for (const auto& c : resp->checkpoints()) {
        if (c.state() == "committed") std::printf("%lld\n", static_cast<long long>(c.epoch()));
      }
    }
  } else {
    std::fprintf(stderr, "rss_admin: unknown command %s\n", command.c_str());
    return 2;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "rss_admin %s: %s\n", command.c_str(), status.ToString().c_str());
    return 1;
  }
  return 0;
}
