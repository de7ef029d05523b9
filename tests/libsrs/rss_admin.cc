// A test helper speaking to the RSS as an operator would (admin token from SRS_TOKEN_FILE):
//   rss_admin stop JOB | checkpoint JOB | epochs JOB
// `epochs` prints the committed checkpoint epochs of JOB, one per line.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "rss/client/rss_client.h"

int main(int argc, char** argv) {
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
