// `srs stop JOB [--wait]` and `srs checkpoint JOB`: the outside requests a running job answers at
// its next SRS_Check_Stop.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/failure_view.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/progress.h"
#include "tools/site.h"

namespace srs::tools {
namespace {

// How long `srs stop --wait` keeps asking an RSS that does not answer (restarting, or its machine
// rebooting) before it gives up: an RSS that blinks costs a delay, not the wait.
constexpr absl::Duration kRssOutageBudget = absl::Seconds(60);

// GetJob, riding out an RSS that is briefly away (UNAVAILABLE, CANCELLED) for up to
// kRssOutageBudget and `deadline`: each retry reconnects, so a restarted RSS is found at once
// (a gRPC channel's own reconnection backs off for up to minutes). In embedded mode the RSS
// belongs to the `srs run` of the job, which stops it as soon as the job has left: reconnecting
// then brings the private RSS up again from its state.
absl::StatusOr<rssv1::GetJobResponse> GetJobReconnecting(OpenedSite* site, RssAdmin* admin,
                                                         const std::string& job,
                                                         absl::Time deadline) {
  const absl::Time give_up = std::min(deadline, absl::Now() + kRssOutageBudget);
  while (true) {
    absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
    if (info.ok() || (!absl::IsUnavailable(info.status()) && !absl::IsCancelled(info.status())) ||
        absl::Now() > give_up) {
      return info;
    }
    absl::SleepFor(absl::Milliseconds(200));
    if (site->site.embedded) {
      absl::StatusOr<OpenedSite> reopened = OpenSite(/*need_depot=*/false);
      if (!reopened.ok()) return reopened.status();
      *site = std::move(*reopened);
    }
    absl::StatusOr<RssAdmin> reconnected = ConnectAdmin(site->site);
    if (reconnected.ok()) *admin = std::move(*reconnected);
  }
}

// The stop checkpoint's progress as the RSS sees it: of `run_id`'s pending checkpoint, the bytes
// done (rank 0's last progress report, or the pieces the ranks reported, whichever says more) and
// its total (0 if no report said it yet). Both 0 before the checkpoint begins.
struct PendingProgress {
  int64_t done_bytes = 0;
  int64_t total_bytes = 0;
};
PendingProgress PendingBytes(const rssv1::GetJobResponse& info, const std::string& run_id) {
  PendingProgress progress;
  for (const rssv1::CheckpointSummary& checkpoint : info.checkpoints()) {
    if (checkpoint.run_id() != run_id || checkpoint.state() != "pending") continue;
    int64_t reported = 0;
    for (const rssv1::PieceRecord& piece : checkpoint.pieces()) reported += piece.size_bytes();
    progress.done_bytes = std::max(reported, checkpoint.progress_bytes());
    progress.total_bytes = checkpoint.progress_total_bytes();
  }
  return progress;
}

// Polls until the newest run is no longer running, then reports how it ended. On a terminal
// (not --quiet) a progress line shows the stop checkpoint's bytes done (as rank 0 reports them
// while it writes: libsrs/src/checkpoint_progress.h) against its size, or, until the first report,
// the size of the job's last committed checkpoint, the best estimate of what this one will be.
absl::Status WaitUntilStopped(OpenedSite* site, RssAdmin* admin, const std::string& job,
                              absl::Duration timeout, bool quiet) {
  absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<Progress> progress;
  while (true) {
    SRS_ASSIGN_OR_RETURN(rssv1::GetJobResponse info,
                         GetJobReconnecting(site, admin, job, deadline));
    const rssv1::Configuration* run = NewestRun(info);
    if (progress == nullptr) {
      progress = std::make_unique<Progress>(absl::StrCat("stopping ", job),
                                            info.summary().last_checkpoint_bytes(), quiet);
    }
    if (run != nullptr) {
      const PendingProgress pending = PendingBytes(info, run->run_id());
      progress->SetTotal(pending.total_bytes);
      // The write's first bytes seen: the rate counts from here, not from the wait's start.
      if (progress->done_bytes() == 0 && pending.done_bytes > 0) {
        progress->MeasureRateFrom(pending.done_bytes);
      }
      progress->Add(pending.done_bytes - progress->done_bytes());
      if (run->state() != "running") progress->Done();
    }
    if (run != nullptr) SRS_RETURN_IF_ERROR(StopFailure(info, *run));
    std::string state = run != nullptr ? run->state() : "";
    if (run != nullptr && state != "running") {
      const rssv1::CheckpointSummary* checkpoint = StopCheckpointOf(info, run->run_id());
      if (state == "stopped" && checkpoint != nullptr) {
        std::printf("%s stopped: checkpoint epoch %lld committed (%s)\n", job.c_str(),
                    static_cast<long long>(checkpoint->epoch()),
                    HumanBytes(checkpoint->timings().bytes()).c_str());
        return absl::OkStatus();
      }
      if (state == "finished") {
        std::printf("%s finished before it saw the stop\n", job.c_str());
        return absl::OkStatus();
      }
      return absl::AbortedError(absl::StrCat(job, " ended as '", state,
                                             "' without a stop checkpoint (srs ls ", job, ")"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(job, " could not checkpoint and stop within ", absl::FormatDuration(timeout),
                       " (still running; the stop stays pending until its next SRS_Check_Stop)"));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

int RequestCommand(const Args& argv, bool stop) {
  const std::string name = stop ? "stop" : "checkpoint";
  ArgParser args(stop ? "srs stop JOB [--wait [--timeout SECONDS] | --deadline SECONDS]"
                      : "srs checkpoint JOB",
                 stop ? "Asks the running job JOB to write a checkpoint and leave at its next\n"
                        "SRS_Check_Stop. Resume it later with `srs run --resume` on any count.\n"
                        "With --wait on a terminal, a progress line shows the checkpoint's bytes\n"
                        "as the ranks write them (not with --quiet, nor when stderr is a file)."
                      : "Asks the running job JOB to write a checkpoint at its next\n"
                        "SRS_Check_Stop and go on.");
  args.AddPositional("JOB", "the job's name (its SRS_APP, or the program's base name)");
  if (stop) {
    args.AddFlag("wait", 'w', "wait until the run has stopped and its checkpoint is committed");
    args.AddValue("timeout", 't', "SECONDS", "give up waiting after this long (default 600)");
    args.AddValue("deadline", 0, "SECONDS",
                  "the stop checkpoint must commit within this long, else exit 1 (implies --wait)");
  }
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail(name, parsed);
  if (args.help()) return args.PrintHelp();
  absl::StatusOr<int64_t> timeout = args.GetInt("timeout", 600, 1);
  if (!timeout.ok()) return Fail(name, timeout.status());
  absl::StatusOr<int64_t> deadline = args.GetInt("deadline", 0, 1);
  if (!deadline.ok()) return Fail(name, deadline.status());
  if (args.Has("deadline") && args.Has("timeout")) {
    return Fail(name, absl::InvalidArgumentError("give --timeout or --deadline, not both"));
  }
  bool wait = stop && (args.Has("wait") || args.Has("deadline"));
  int64_t wait_seconds = args.Has("deadline") ? *deadline : *timeout;
  const std::string job = args.Positional("JOB");

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/false);
  if (!site.ok()) return Fail(name, site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail(name, admin.status());
  absl::StatusOr<int64_t> request = stop ? admin->RequestStop(job) : admin->RequestCheckpoint(job);
  if (!request.ok()) return Fail(name, request.status());
  if (!args.quiet()) {
    std::printf("%s requested for %s (request %lld)\n", stop ? "stop" : "checkpoint", job.c_str(),
                static_cast<long long>(*request));
    std::fflush(stdout);
  }
  if (wait) {
    absl::Status waited =
        WaitUntilStopped(&*site, &*admin, job, absl::Seconds(wait_seconds), args.quiet());
    if (!waited.ok()) return Fail(name, waited);
  }
  return 0;
}

}  // namespace

int StopCommand(const Args& args) { return RequestCommand(args, /*stop=*/true); }
int CheckpointCommand(const Args& args) { return RequestCommand(args, /*stop=*/false); }

}  // namespace srs::tools
