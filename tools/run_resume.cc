#include "tools/run_resume.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tools/format.h"
#include "tools/job_view.h"

namespace srs::tools {
namespace {

// How long a run with an open watch stream may take to notice its own death (the RSS sees the
// stream break within about a lease) before the resume gives up on it.
constexpr absl::Duration kWatchedPatience = absl::Seconds(20);

absl::Status NothingToResume(const Site& site, const ResumeRequest& request, bool job_known) {
  if (!job_known) {
    return absl::NotFoundError(absl::StrCat("nothing to resume: the RSS ", site.rss,
                                            " knows no job '", request.job,
                                            "' (run it without --resume first)"));
  }
  return absl::NotFoundError(
      request.epoch == 0
          ? absl::StrCat("nothing to resume: job '", request.job,
                         "' has no committed checkpoint (srs ls ", request.job, ")")
          : absl::StrCat("nothing to resume: job '", request.job, "' has no committed epoch ",
                         request.epoch, " (srs ls ", request.job, " lists them)"));
}

// Waits until the job's newest run is no longer "running" with a live lease. Returns the job as
// the RSS then describes it.
absl::StatusOr<rssv1::GetJobResponse> WaitForLease(RssAdmin* admin, const ResumeRequest& request,
                                                   rssv1::GetJobResponse info) {
  absl::Time watched_since = absl::InfiniteFuture();
  absl::Time next_note = absl::InfinitePast();
  for (;;) {
    const rssv1::Configuration* run = NewestRun(info);
    if (run == nullptr || run->state() != "running" || request.force) return info;
    if (request.interrupted()) {
      return absl::CancelledError("interrupted while waiting for the previous run's lease");
    }
    absl::Time now = absl::Now();
    if (run->watched()) {
      watched_since = std::min(watched_since, now);
      if (now - watched_since > kWatchedPatience) {
        return absl::FailedPreconditionError(absl::StrCat(
            "job ", request.job, " is still running as run ", run->run_id(),
            " (its ranks keep a watch stream open at the RSS): stop it with `srs stop ",
            request.job, "`, or take over with --force"));
      }
      if (now >= next_note) {
        std::fprintf(stderr,
                     "srs run: %s's run %s still has a watch stream open; waiting up to %s for "
                     "it to end\n",
                     request.job.c_str(), run->run_id().c_str(),
                     absl::FormatDuration(kWatchedPatience).c_str());
        next_note = now + absl::Seconds(10);
      }
    } else {
      absl::Duration left = absl::FromUnixMillis(run->lease_expires_unix_ms()) - now;
      if (left <= absl::ZeroDuration()) return info;  // registering now marks it lost
      if (now >= next_note) {
        std::fprintf(stderr,
                     "srs run: %s's previous run %s died without ending; its lease runs out "
                     "in %.0f s, waiting\n",
                     request.job.c_str(), run->run_id().c_str(),
                     std::ceil(absl::ToDoubleSeconds(left)));
        next_note = now + absl::Seconds(5);
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
    SRS_ASSIGN_OR_RETURN(info, admin->GetJob(request.job));
  }
}

void Announce(const ResumeRequest& request, const rssv1::GetJobResponse& info) {
  const rssv1::CheckpointSummary* checkpoint = CommittedCheckpoint(info, request.epoch);
  if (checkpoint == nullptr) return;  // a fresh start with nothing to keep: nothing to say
  if (request.choice == ResumeChoice::kFresh) {
    std::printf(
        "srs run: starting %s fresh (--fresh); its checkpoint epoch %lld stays resumable until "
        "the new run commits one or finishes\n",
        request.job.c_str(), static_cast<long long>(checkpoint->epoch()));
    return;
  }
  std::printf(
      "srs run: resuming %s from checkpoint epoch %lld (committed %s, %d ranks then, "
      "%lld now); --fresh starts over\n",
      request.job.c_str(), static_cast<long long>(checkpoint->epoch()),
      AgeSince(checkpoint->committed_unix_ms()).c_str(), checkpoint->nprocs(),
      static_cast<long long>(request.nprocs));
}

}  // namespace

const char* ResumeEnvValue(ResumeChoice choice) {
  switch (choice) {
    case ResumeChoice::kYes:
      return "yes";
    case ResumeChoice::kFresh:
      return "no";
    default:
      return "auto";
  }
}

absl::Status PrepareResume(const Site& site, const ResumeRequest& request) {
  absl::StatusOr<RssAdmin> connected = ConnectAdmin(site);
  // Without an admin token the tool cannot look; the library's RegisterRun decides alone.
  if (absl::IsFailedPrecondition(connected.status())) return absl::OkStatus();
  SRS_RETURN_IF_ERROR(connected.status());
  if (!connected->HasCredentialFor(request.job)) {
    // A plain user of a shared RSS with no owner secret for the job: either a new job (its
    // registration creates the secret) or someone else's (the RSS refuses the registration, and
    // the library says so). Nothing to look at or wait for here.
    if (request.choice != ResumeChoice::kYes) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "nothing to resume: no owner secret for job '", request.job, "' of the RSS ",
        connected->address(), " here (only the user who started a job can resume it)"));
  }
  absl::StatusOr<rssv1::GetJobResponse> info = connected->GetJob(request.job);
  if (absl::IsNotFound(info.status())) {
    if (request.choice == ResumeChoice::kYes) return NothingToResume(site, request, false);
    return absl::OkStatus();  // a new job
  }
  SRS_RETURN_IF_ERROR(info.status());
  SRS_ASSIGN_OR_RETURN(rssv1::GetJobResponse settled,
                       WaitForLease(&*connected, request, *std::move(info)));
  if (request.choice == ResumeChoice::kYes &&
      CommittedCheckpoint(settled, request.epoch) == nullptr) {
    return NothingToResume(site, request, true);
  }
  Announce(request, settled);
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace srs::tools
