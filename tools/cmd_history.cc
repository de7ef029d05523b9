// `srs history JOB`: every configuration the job ran with — when, on how many ranks, where, how
// it ended, and how long its stop (checkpoint write + commit) and its restart (reading the
// previous checkpoint back) took.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/failure_view.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/json_output.h"
#include "tools/site.h"

namespace srs::tools {
namespace {

std::string Duration(const rssv1::Configuration& run) {
  if (run.started_unix_ms() <= 0) return "-";
  int64_t end = run.ended_unix_ms() > 0 ? run.ended_unix_ms() : absl::ToUnixMillis(absl::Now());
  std::string text = HumanSeconds(static_cast<double>(end - run.started_unix_ms()) / 1000.0);
  return run.ended_unix_ms() > 0 ? text : text + "+";
}

std::string StopText(const rssv1::GetJobResponse& job, const rssv1::Configuration& run) {
  const rssv1::CheckpointSummary* stop = StopCheckpointOf(job, run.run_id());
  if (stop == nullptr) return "-";
  const rssv1::PhaseTimings& t = stop->timings();
  return absl::StrFormat("%s (epoch %d, %s)", HumanSeconds(t.write_seconds() + t.commit_seconds()),
                         stop->epoch(), HumanBytes(t.bytes()));
}

std::string RestartText(const rssv1::Configuration& run) {
  if (run.resumed_from_epoch() <= 0) return "fresh";
  return absl::StrFormat("%s (epoch %d, %s)", HumanSeconds(run.restart_read_seconds()),
                         run.resumed_from_epoch(), HumanBytes(run.restart_bytes()));
}

}  // namespace

int HistoryCommand(const Args& argv) {
  ArgParser args("srs history JOB [--json]",
                 "Lists every configuration JOB ran with, oldest first: run id, start time\n"
                 "(UTC), ranks, hosts, how the run ended, how long it ran, how long its restart\n"
                 "read took (and from which checkpoint), how long its stop checkpoint took.");
  args.AddPositional("JOB", "the job's name");
  args.AddFlag("json", 'j', "one JSON object {\"job\", \"runs\": [...]} (tools/README.md)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("history", parsed);
  if (args.help()) return args.PrintHelp();

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail("history", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("history", admin.status());
  const std::string job = args.Positional("JOB");
  absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
  if (!info.ok()) return Fail("history", info.status());

  if (args.Has("json")) return PrintJson("history", HistoryJson(job, *info));
  Table table(
      {"RUN", "STARTED (UTC)", "RANKS", "HOSTS", "STATE", "RAN", "RESTART", "STOP", "ERROR"});
  for (const rssv1::Configuration& run : info->runs()) {
    table.AddRow({run.run_id(), FormatUnixMs(run.started_unix_ms()), std::to_string(run.nprocs()),
                  HostList(run, 3), run.state(), Duration(run), RestartText(run),
                  StopText(*info, run), FailureText(run.failure())});
  }
  std::printf("%s", table.ToString().c_str());
  return 0;
}

}  // namespace srs::tools
