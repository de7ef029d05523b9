// request_stop JOB: asks the RSS at $SRS_RSS (admin token from $SRS_TOKEN_FILE) to stop JOB, the
// way `srs stop JOB` does. The example tests use it when the `srs` tool is not built.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "rss/client/rss_client.h"

int main(int argc, char** argv) {
  const char* rss = std::getenv("SRS_RSS");
  const char* token_file = std::getenv("SRS_TOKEN_FILE");
  if (argc != 2 || rss == nullptr || token_file == nullptr) {
    std::fprintf(stderr, "usage: SRS_RSS=HOST:PORT SRS_TOKEN_FILE=PATH request_stop JOB\n");
    return 2;
  }
  auto token = srs::ReadAdminToken(token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "request_stop: %s\n", token.status().ToString().c_str());
    return 1;
  }
  auto client = srs::RssClient::Connect(rss, absl::Seconds(10));
  if (!client.ok()) {
    std::fprintf(stderr, "request_stop: %s\n", client.status().ToString().c_str());
    return 1;
  }
  srs::rss::v1::RequestStopRequest req;
  req.set_admin_token(*token);
  req.set_job(argv[1]);
  auto resp = (*client)->RequestStop(req);
  if (!resp.ok()) {
    std::fprintf(stderr, "request_stop: %s\n", resp.status().ToString().c_str());
    return 1;
  }
  std::printf("request_stop: stop requested for %s (request %lld)\n", argv[1],
              static_cast<long long>(resp->request_id()));
  return 0;
}
