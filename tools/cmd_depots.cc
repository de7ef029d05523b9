// `srs depots [--json]`: the depots the RSS knows (DESIGN.md §6): id, host, failure domain,
// address, state (as the RSS judges it from the depot's heartbeats), capacity and free space.
#include <cstdio>

#include "absl/time/clock.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/format.h"
#include "tools/json_output.h"
#include "tools/site.h"

namespace srs::tools {

int DepotsCommand(const Args& argv) {
  ArgParser args("srs depots [--json]",
                 "Lists the depots registered with the RSS: id, host, failure domain, address,\n"
                 "state (up, or down when the RSS has not heard its heartbeat within its depot\n"
                 "timeout, about three heartbeats), capacity and free space. Pieces are located\n"
                 "by depot id: a depot that re-registers on a new address serves them there.");
  args.AddFlag("json", 'j', "one JSON object {\"depots\": [...]} (fields: tools/README.md)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("depots", parsed);
  if (args.help()) return args.PrintHelp();

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail("depots", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("depots", admin.status());
  absl::StatusOr<rssv1::ListDepotsResponse> depots = admin->ListDepots();
  if (!depots.ok()) return Fail("depots", depots.status());
  cliv1::DepotsOutput out = DepotsJson(*depots, absl::Now());
  if (args.Has("json")) return PrintJson("depots", out);
  if (out.depots().empty()) {
    std::printf("no depots registered at the RSS %s\n", admin->address().c_str());
    return 0;
  }
  Table table({"ID", "HOST", "DOMAIN", "ADDRESS", "STATE", "CAPACITY", "FREE", "LAST SEEN"});
  for (const cliv1::DepotInfo& d : out.depots()) {
    int64_t capacity = static_cast<int64_t>(d.capacity_bytes());
    table.AddRow({d.id(), d.host(), d.failure_domain(), d.address(), d.state(),
                  capacity > 0 ? HumanBytes(capacity) : "unlimited",
                  HumanBytes(static_cast<int64_t>(d.free_bytes())),
                  AgeSince(static_cast<int64_t>(d.last_seen_unix_ms()))});
  }
  std::printf("%s", table.ToString().c_str());
  return 0;
}

}  // namespace srs::tools
