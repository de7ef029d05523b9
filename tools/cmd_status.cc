// `srs status [JOB]`: one line per job: state, process count, hosts, last checkpoint, its size
// and age. Lost runs (their lease ran out) show as "lost".
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/failure_view.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/json_output.h"
#include "tools/site.h"

namespace srs::tools {
namespace {

// How much of a failure reason the STATE column shows: the table stays about as wide as a
// terminal; `srs history JOB` and `--json` give the reason whole.
constexpr size_t kReasonChars = 48;

// `text` cut to `max` characters, the cut marked with "..." (UTF-8 sequences kept whole).
std::string Ellipsize(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::vector<std::string> Row(const rssv1::JobSummary& job) {
  std::string state = job.state().empty() ? "-" : job.state();
  if (job.stop_pending()) state += " (stop pending)";
  if (job.state() != "finished" && job.has_failure())
    state += " (" + Ellipsize(FailureText(job.failure()), kReasonChars) + ")";
  bool has_checkpoint = job.last_epoch() > 0;
  return {job.job(),
          state,
          job.nprocs() > 0 ? std::to_string(job.nprocs()) : "-",
          HostList(job.hosts(), 3),
          has_checkpoint ? std::to_string(job.last_epoch()) : "-",
          has_checkpoint ? HumanBytes(job.last_checkpoint_bytes()) : "-",
          has_checkpoint ? AgeSince(job.last_checkpoint_unix_ms()) : "-"};
}

}  // namespace

int StatusCommand(const Args& argv) {
  ArgParser args("srs status [JOB] [--json]",
                 "Shows every job the RSS knows (or only JOB): the state of its newest run\n"
                 "(running, stopped, finished, lost), its process count and hosts, and its last\n"
                 "committed checkpoint (epoch, size, age).");
  args.AddPositional("JOB", "only this job", /*optional=*/true);
  args.AddFlag("json", 'j', "one JSON object {\"jobs\": [...]} (fields: tools/README.md)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("status", parsed);
  if (args.help()) return args.PrintHelp();

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail("status", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("status", admin.status());

  std::vector<rssv1::JobSummary> summaries;
  const std::string job = args.Positional("JOB");
  if (!job.empty()) {
    absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
    if (!info.ok()) return Fail("status", info.status());
    summaries.push_back(info->summary());
  } else {
    absl::StatusOr<rssv1::ListJobsResponse> jobs = admin->ListJobs();
    if (!jobs.ok()) return Fail("status", jobs.status());
    summaries.assign(jobs->jobs().begin(), jobs->jobs().end());
  }
  if (args.Has("json")) {
    cliv1::StatusOutput out;
    for (const rssv1::JobSummary& summary : summaries) *out.add_jobs() = JobStatusJson(summary);
    return PrintJson("status", out);
  }
  if (summaries.empty()) {
    std::printf("no jobs at the RSS %s\n", admin->address().c_str());
    return 0;
  }
  Table table({"JOB", "STATE", "NPROCS", "HOSTS", "CHECKPOINT", "SIZE", "AGE"});
  for (const rssv1::JobSummary& summary : summaries) table.AddRow(Row(summary));
  std::printf("%s", table.ToString().c_str());
  return 0;
}

}  // namespace srs::tools
