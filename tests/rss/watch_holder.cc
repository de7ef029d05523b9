// rss_watch_holder ADDRESS RUN_TOKEN: holds a run's watch stream open, printing one line per
// event, like rank 0 of a job. A test freezes it (SIGSTOP) to play a hung job.
#include <cstdio>

#include "rss/client/rss_client.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: rss_watch_holder ADDRESS RUN_TOKEN\n");
    return 2;
  }
  auto client = srs::RssClient::Connect(argv[1], absl::Seconds(10));
  if (!client.ok()) return 1;
  grpc::ClientContext ctx;
  absl::Status status = (*client)->WatchRun(
      argv[2],
      [](const srs::rss::v1::RunEvent& event) {
        std::printf("%s\n", srs::rss::v1::RunEvent::Kind_Name(event.kind()).c_str());
        std::fflush(stdout);
      },
      &ctx);
  std::printf("END %s\n", status.ToString().c_str());
  return 0;
}
