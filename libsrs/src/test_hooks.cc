// See test_hooks.h. Only built with SRS_TEST_HOOKS.
#include "libsrs/src/test_hooks.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace srs {
namespace libsrs {
namespace {

const char* PointName(TestPoint point) {
  switch (point) {
    case TestPoint::kAfterPut:
      return "put";
    case TestPoint::kAfterReport:
      return "report";
    case TestPoint::kAfterCommit:
      return "commit";
  }
  return "?";
}

// An unset variable matches anything; a set one must equal `value`.
bool Matches(const char* variable, long long value, long long unset_default) {
  const char* text = std::getenv(variable);
  long long want = unset_default;
  if (text != nullptr && *text != '\0') want = std::atoll(text);
  return want < 0 || want == value;
}

}  // namespace

bool TestHookArmed(TestPoint point) {
  const char* after = std::getenv("SRS_TEST_DIE_AFTER");
  return after != nullptr && std::strcmp(after, PointName(point)) == 0;
}

void TestHookMaybeDie(TestPoint point, int64_t epoch, int rank) {
  const char* after = std::getenv("SRS_TEST_DIE_AFTER");
  if (after == nullptr || std::strcmp(after, PointName(point)) != 0) return;
  // Without SRS_TEST_DIE_EPOCH any epoch matches; without SRS_TEST_DIE_RANK only rank 0 dies.
  if (!Matches("SRS_TEST_DIE_EPOCH", epoch, -1) || !Matches("SRS_TEST_DIE_RANK", rank, 0)) return;
  const char* how = std::getenv("SRS_TEST_DIE_SIGNAL");
  const bool freeze = how != nullptr && std::strcmp(how, "STOP") == 0;
  std::fprintf(stderr, "srs-test-hook: %s after %s epoch %lld rank %d\n",
               freeze ? "freezing (SIGSTOP)" : "dying", PointName(point),
               static_cast<long long>(epoch), rank);
  std::fflush(stderr);
  if (freeze) {
    // Frozen like a hung node: the test SIGCONTs or kills it. Fire once per process.
    unsetenv("SRS_TEST_DIE_AFTER");
    kill(getpid(), SIGSTOP);
    return;
  }
  kill(getpid(), SIGKILL);
  pause();  // SIGKILL cannot be caught; never returns
}

namespace {

void SleepMillisecondsFrom(const char* variable) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return;
  long long ms = std::atoll(text);
  if (ms > 0) usleep(static_cast<useconds_t>(ms * 1000));
}

}  // namespace

void TestHookSlowRead() { SleepMillisecondsFrom("SRS_TEST_SLOW_READ_MS"); }

void TestHookSlowWrite() { SleepMillisecondsFrom("SRS_TEST_SLOW_WRITE_MS"); }

int64_t TestHookEpochGuessOffset() {
  const char* guess = std::getenv("SRS_TEST_EPOCH_GUESS");
  return guess != nullptr && std::string(guess) == "wrong" ? 1 : 0;
}

}  // namespace libsrs
}  // namespace srs
