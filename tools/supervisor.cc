#include "tools/supervisor.h"

#include <signal.h>
#include <string.h>

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"

namespace srs::tools {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
constexpr absl::Duration kRetryInterval = absl::Milliseconds(500);

// Records the stop at the RSS: the job learns it on its watch stream and checkpoints at its next
// SRS_Check_Stop. Retried by the caller until it lands (the job may not have registered yet, or
// the private RSS may be restarting).
absl::StatusOr<int64_t> RecordStop(const Site& site, const std::string& job) {
  if (!Reachable(site.rss, absl::Milliseconds(300))) {
    return absl::UnavailableError(absl::StrCat("the RSS at ", site.rss, " does not answer"));
  }
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site);
  if (!admin.ok()) return admin.status();
  return admin->RequestStop(job);
}

class DaemonKeeper {
 public:
  DaemonKeeper(Site* site, PrivateDaemons* daemons) : site_(site), daemons_(daemons) {}

  // Notices daemons that died and restarts them (a failed restart is retried later).
  void Check(absl::Time now) {
    if (daemons_ == nullptr) return;
    for (const auto& [name, how] : daemons_->ReapDead()) {
      std::fprintf(stderr, "srs run: the private %s %s; restarting it from %s\n", name.c_str(),
                   how.c_str(), site_->state_dir.c_str());
      to_restart_[name] = now;
    }
    for (auto it = to_restart_.begin(); it != to_restart_.end();) {
      if (now < it->second) {
        ++it;
        continue;
      }
      absl::Status restarted = RestartPrivateDaemon(site_, it->first, daemons_);
      if (!restarted.ok()) {
        std::fprintf(stderr, "srs run: restarting the private %s failed (%s); retrying\n",
                     it->first.c_str(), std::string(restarted.message()).c_str());
        it->second = now + absl::Seconds(1);
        ++it;
        continue;
      }
      std::fprintf(stderr, "srs run: the private %s is back (same port, same state)\n",
                   it->first.c_str());
      it = to_restart_.erase(it);
    }
  }

 private:
  Site* site_;
  PrivateDaemons* daemons_;
  std::map<std::string, absl::Time> to_restart_;  // name -> next attempt
};

}  // namespace

SupervisionResult Supervise(const SupervisedJob& job) {
  SupervisionResult result;
  DaemonKeeper keeper(job.site, job.daemons);
  bool want_stop = false;
  absl::Time next_stop_attempt = absl::InfinitePast();
  for (;;) {
    std::optional<int> status = job.launched->Poll();
    if (status.has_value()) {
      result.launcher_status = *status;
      return result;
    }
    absl::Time now = absl::Now();
    switch (job.preemption->Poll(now)) {
      case Preemption::Action::kCheckpointAndStop:
        std::fprintf(stderr,
                     "srs run: %s: asking %s to checkpoint and stop (a second signal stops it "
                     "at once)\n",
                     strsignal(job.preemption->first_signal()), job.job.c_str());
        want_stop = true;
        break;
      case Preemption::Action::kStopNow:
        // Named as received: the second signal may differ from the first (TERM, then INT).
        if (job.preemption->second_signal() != 0) {
          std::fprintf(stderr,
                       "srs run: %s (a second signal): stopping %s at once, without a "
                       "checkpoint\n",
                       strsignal(job.preemption->second_signal()), job.job.c_str());
        } else {
          std::fprintf(stderr,
                       "srs run: --grace ran out: stopping %s at once, without a checkpoint\n",
                       job.job.c_str());
        }
        job.launched->KillTree();
        result.stopped_at_once = true;
        break;
      case Preemption::Action::kNone:
        break;
    }
    keeper.Check(now);
    if (want_stop && !result.stop_recorded && !result.stopped_at_once && now >= next_stop_attempt) {
      absl::StatusOr<int64_t> request = RecordStop(*job.site, job.job);
      if (request.ok()) {
        result.stop_recorded = true;
        std::fprintf(stderr,
                     "srs run: stop recorded (request %lld); %s checkpoints at its next "
                     "SRS_Check_Stop\n",
                     static_cast<long long>(*request), job.job.c_str());
      }
      next_stop_attempt = absl::Now() + kRetryInterval;
    }
    absl::SleepFor(kPollInterval);
  }
}

}  // namespace srs::tools
