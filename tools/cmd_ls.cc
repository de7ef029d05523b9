// `srs ls JOB [--all]`: a job's checkpoints, each with its arrays, its pieces (rank, depot, size,
// checksum, and every copy: depot id, address, failure domain, state) and the time each phase
// took.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/json_output.h"
#include "tools/site.h"

namespace srs::tools {
namespace {

void PrintCheckpoint(const rssv1::CheckpointSummary& checkpoint) {
  const rssv1::PhaseTimings& t = checkpoint.timings();
  std::printf("checkpoint %lld  %s  reason %s  run %s  %d ranks  %s\n",
              static_cast<long long>(checkpoint.epoch()), checkpoint.state().c_str(),
              ReasonName(checkpoint.reason()), checkpoint.run_id().c_str(), checkpoint.nprocs(),
              HumanBytes(t.bytes()).c_str());
  std::printf("  created %s UTC (%s), committed %s UTC\n",
              FormatUnixMs(checkpoint.created_unix_ms()).c_str(),
              AgeSince(checkpoint.created_unix_ms()).c_str(),
              FormatUnixMs(checkpoint.committed_unix_ms()).c_str());
  std::printf("  timings: write %s (slowest rank), commit %s\n",
              HumanSeconds(t.write_seconds()).c_str(), HumanSeconds(t.commit_seconds()).c_str());
  if (checkpoint.copies_required() > 1) {
    std::printf("  redundancy: %d copies of every piece, on distinct failure domains\n",
                checkpoint.copies_required());
  }
  Table arrays({"ARRAY", "TYPE", "GLOBAL COUNT", "DISTRIBUTION"});
  for (const rssv1::ArraySpec& array : checkpoint.arrays()) {
    arrays.AddRow({array.name(), array.srs_type(), std::to_string(array.global_count()),
                   DistributionText(array.distribution())});
  }
  std::printf("%s", arrays.ToString("  ").c_str());
  Table pieces({"RANK", "DEPOT", "SIZE", "CHECKSUM", "COPIES (DEPOT ID ADDRESS DOMAIN STATE)"});
  for (const rssv1::PieceRecord& piece : checkpoint.pieces()) {
    std::vector<std::string> copies;
    for (const rssv1::PieceCopy& copy : piece.copies()) {
      copies.push_back(absl::StrCat(copy.depot_id().empty() ? "?" : copy.depot_id(), " ",
                                    copy.depot_address(), " ",
                                    copy.failure_domain().empty() ? "?" : copy.failure_domain(),
                                    " ", copy.state().empty() ? "?" : copy.state()));
    }
    pieces.AddRow({std::to_string(piece.rank()), piece.depot_address(),
                   HumanBytes(piece.size_bytes()), Checksum(piece.xxh3_64()),
                   absl::StrJoin(copies, "; ")});
  }
  std::printf("%s", pieces.ToString("  ").c_str());
}

}  // namespace

int LsCommand(const Args& argv) {
  ArgParser args("srs ls JOB [--all] [--json]",
                 "Lists the checkpoints of JOB: state, reason, run, process count, size,\n"
                 "per-phase timings, the arrays they hold, and every piece (rank, depot, size,\n"
                 "XXH3 checksum). Committed and pending checkpoints by default.");
  args.AddPositional("JOB", "the job's name");
  args.AddFlag("all", 'a', "also discarded and deleted checkpoints");
  args.AddFlag("json", 'j', "one JSON object {\"job\", \"checkpoints\": [...]} (tools/README.md)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("ls", parsed);
  if (args.help()) return args.PrintHelp();

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail("ls", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("ls", admin.status());
  const std::string job = args.Positional("JOB");
  absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
  if (!info.ok()) return Fail("ls", info.status());

  if (args.Has("json")) return PrintJson("ls", LsJson(job, *info, args.Has("all")));
  int shown = 0;
  for (const rssv1::CheckpointSummary& checkpoint : info->checkpoints()) {
    bool live = checkpoint.state() == "committed" || checkpoint.state() == "pending";
    if (!live && !args.Has("all")) continue;
    if (shown++ > 0) std::printf("\n");
    PrintCheckpoint(checkpoint);
  }
  if (shown == 0)
    std::printf("%s has no checkpoints%s\n", job.c_str(),
                args.Has("all") ? "" : " (--all shows deleted ones)");
  return 0;
}

}  // namespace srs::tools
