#include "tools/preemption.h"

#include <signal.h>

namespace srs::tools {
namespace {

volatile sig_atomic_t g_signal_count = 0;
volatile sig_atomic_t g_first_signal = 0;
volatile sig_atomic_t g_second_signal = 0;

void CountSignal(int sig) {
  if (g_first_signal == 0) {
    g_first_signal = sig;
  } else if (g_second_signal == 0) {
    g_second_signal = sig;
  }
  g_signal_count = g_signal_count + 1;
}

}  // namespace

Preemption::Preemption(std::optional<absl::Duration> grace) : grace_(grace) {
  struct sigaction action {};
  action.sa_handler = CountSignal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: the gRPC calls and waits of the supervisor are not cut short by a signal.
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaction(sig, &action, nullptr);
}

int Preemption::first_signal() const { return g_first_signal; }
int Preemption::second_signal() const { return g_second_signal; }

Preemption::Action Preemption::Poll(absl::Time now) {
  int count = g_signal_count;
  if (count == 0 || stop_now_sent_) return Action::kNone;
  if (!first_seen_.has_value()) {
    first_seen_ = now;
    if (count == 1) return Action::kCheckpointAndStop;
  }
  if (count >= 2 || (grace_.has_value() && now - *first_seen_ >= *grace_)) {
    stop_now_sent_ = true;
    return Action::kStopNow;
  }
  return Action::kNone;
}

}  // namespace srs::tools
