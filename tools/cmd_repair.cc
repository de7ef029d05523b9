// `srs repair JOB` (re-create the missing copies of a job's committed checkpoints after a depot
// or node is lost) and `srs drop JOB --epoch E` (remove one checkpoint, e.g. one that lost every
// copy of a piece, so an older kept one becomes the restart point). The RSS does the work
// (RepairJob, DropCheckpoint in rss.proto; docs/repair-and-drop.md); these print its answer.
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/format.h"
#include "tools/json_output.h"
#include "tools/site.h"

namespace srs::tools {

int RepairCommand(const Args& argv) {
  ArgParser args("srs repair JOB [--json] [--timeout SECONDS]",
                 "Re-creates the missing copies of every piece of JOB's committed checkpoints:\n"
                 "a piece with fewer healthy copies (depot up, piece present and intact) than\n"
                 "its checkpoint's redundancy is copied, depot to depot, to a live depot of a\n"
                 "failure domain holding none. Copies on down depots leave the catalog. Prints\n"
                 "each copy made and each problem; exits 1 when problems remain. Idempotent.");
  args.AddPositional("JOB", "the job's name");
  args.AddFlag("json", 'j',
               "one JSON object {\"made\": [...], \"problems\": [...]} (tools/README.md)");
  args.AddValue("timeout", 't', "SECONDS", "give up after this long (default 3600)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("repair", parsed);
  if (args.help()) return args.PrintHelp();
  absl::StatusOr<int64_t> timeout = args.GetInt("timeout", 3600, 1);
  if (!timeout.ok()) return Fail("repair", timeout.status());
  const std::string job = args.Positional("JOB");

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail("repair", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("repair", admin.status());
  absl::StatusOr<rssv1::RepairJobResponse> repaired =
      admin->RepairJob(job, absl::Seconds(*timeout));
  if (!repaired.ok()) return Fail("repair", repaired.status());

  const int exit_code = repaired->problems().empty() ? 0 : 1;
  if (args.Has("json")) {
    // A Struct, not RepairJobResponse: its checkpoints (with read capabilities) stay out, and
    // epochs print as JSON numbers like the other commands' output.
    google::protobuf::Struct out;
    google::protobuf::ListValue* made = (*out.mutable_fields())["made"].mutable_list_value();
    for (const rssv1::RepairedCopy& copy : repaired->made()) {
      auto& fields = *made->add_values()->mutable_struct_value()->mutable_fields();
      fields["epoch"].set_number_value(static_cast<double>(copy.epoch()));
      fields["rank"].set_number_value(copy.rank());
      fields["from_depot_id"].set_string_value(copy.from_depot_id());
      fields["to_depot_id"].set_string_value(copy.to_depot_id());
    }
    google::protobuf::ListValue* problems =
        (*out.mutable_fields())["problems"].mutable_list_value();
    for (const std::string& problem : repaired->problems()) {
      problems->add_values()->set_string_value(problem);
    }
    int printed = PrintJson("repair", out);
    return printed != 0 ? printed : exit_code;
  }
  int checkpoints = 0;
  int pieces = 0;
  for (const rssv1::CheckpointSummary& checkpoint : repaired->checkpoints()) {
    if (checkpoint.state() != "committed") continue;
    ++checkpoints;
    pieces += checkpoint.pieces_size();
  }
  for (const rssv1::RepairedCopy& made : repaired->made()) {
    std::printf("epoch %lld rank %d: %s -> %s\n", static_cast<long long>(made.epoch()), made.rank(),
                made.from_depot_id().c_str(), made.to_depot_id().c_str());
  }
  for (const std::string& problem : repaired->problems()) {
    std::printf("problem: %s\n", problem.c_str());
  }
  std::printf("%s: %d cop%s made, %d problem%s (%d piece%s in %d committed checkpoint%s)\n",
              job.c_str(), repaired->made_size(), repaired->made_size() == 1 ? "y" : "ies",
              repaired->problems_size(), repaired->problems_size() == 1 ? "" : "s", pieces,
              pieces == 1 ? "" : "s", checkpoints, checkpoints == 1 ? "" : "s");
  if (exit_code != 0) {
    bool lost = false, out_of_reach = false;
    for (const std::string& problem : repaired->problems()) {
      lost = lost || absl::StrContains(problem, "no healthy copy left");
      out_of_reach = out_of_reach || absl::StrContains(problem, "none known lost");
    }
    std::fprintf(stderr, "srs repair: %d problem%s remain%s\n", repaired->problems_size(),
                 repaired->problems_size() == 1 ? "" : "s",
                 repaired->problems_size() == 1 ? "s" : "");
    // A piece whose depots are only down is not lost: dropping its checkpoint would delete
    // copies that come back with their depot (a private depot between runs is "down" too).
    if (out_of_reach) {
      std::fprintf(stderr,
                   "srs repair: some copies are on depots that are down or not answering (srs "
                   "depots): start them or wait for them, then run srs repair %s again\n",
                   job.c_str());
    }
    if (lost) {
      std::fprintf(stderr,
                   "srs repair: a checkpoint with no healthy copy of a piece can be dropped "
                   "(srs drop %s --epoch E)\n",
                   job.c_str());
    }
  }
  return exit_code;
}

int DropCommand(const Args& argv) {
  ArgParser args("srs drop JOB --epoch E",
                 "Removes checkpoint E of JOB (e.g. one that lost every copy of a piece): it\n"
                 "becomes \"deleted\" and its pieces are deleted from their depots (later for\n"
                 "depots that are down). A resume then starts from the newest checkpoint left.");
  args.AddPositional("JOB", "the job's name");
  args.AddValue("epoch", 'e', "E", "the checkpoint's epoch (srs ls JOB lists them)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("drop", parsed);
  if (args.help()) return args.PrintHelp();
  if (!args.Has("epoch")) {
    return Fail("drop",
                absl::InvalidArgumentError("--epoch E is required (srs ls JOB lists them)"));
  }
  absl::StatusOr<int64_t> epoch = args.GetInt("epoch", 0, 1);
  if (!epoch.ok()) return Fail("drop", epoch.status());
  const std::string job = args.Positional("JOB");

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail("drop", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("drop", admin.status());
  absl::StatusOr<std::string> state = admin->DropCheckpoint(job, *epoch);
  if (!state.ok()) return Fail("drop", state.status());
  std::printf(
      "%s: checkpoint epoch %lld dropped (now %s); its pieces are deleted from their "
      "depots\n",
      job.c_str(), static_cast<long long>(*epoch), state->c_str());
  absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
  if (info.ok()) {
    int64_t last = info->summary().last_epoch();
    if (last != 0) {
      std::printf("%s: a resume now starts from epoch %lld\n", job.c_str(),
                  static_cast<long long>(last));
    } else {
      std::printf("%s: no committed checkpoint is left to resume from\n", job.c_str());
    }
  }
  return 0;
}

}  // namespace srs::tools
