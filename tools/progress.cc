#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/format.h"

namespace srs::tools {
namespace {

constexpr absl::Duration kRedrawEvery = absl::Milliseconds(200);

// "14 s", "3 min 12 s", "2 h 5 min": whole seconds, for a time left.
std::string TimeLeft(double seconds) {
  int64_t whole = static_cast<int64_t>(seconds + 0.5);
  if (whole < 60) return absl::StrFormat("%d s", whole);
  if (whole < 3600) return absl::StrFormat("%d min %d s", whole / 60, whole % 60);
  return absl::StrFormat("%d h %d min", whole / 3600, (whole % 3600) / 60);
}

}  // namespace

Progress::Progress(std::string label, int64_t total_bytes, bool quiet)
    : label_(std::move(label)),
      total_(total_bytes > 0 ? total_bytes : 0),
      shown_(!quiet && isatty(STDERR_FILENO) == 1),
      start_(absl::Now()) {}

std::string Progress::Line(const std::string& label, int64_t done, int64_t total,
                           absl::Duration elapsed) {
  std::string line = absl::StrCat(label, ": ", HumanBytes(done));
  if (total > 0) {
    int64_t shown_done = done < total ? done : total;
    absl::StrAppend(
        &line, " of ", HumanBytes(total), "  ",
        static_cast<int>(100.0 * static_cast<double>(shown_done) / static_cast<double>(total)),
        "%");
  }
  double seconds = absl::ToDoubleSeconds(elapsed);
  if (seconds <= 0 || done <= 0) return line;
  double rate = static_cast<double>(done) / seconds;
  absl::StrAppend(&line, "  ", HumanBytes(static_cast<int64_t>(rate)), "/s");
  if (total > done) {
    absl::StrAppend(&line, "  ", TimeLeft(static_cast<double>(total - done) / rate), " left");
  }
  return line;
}

void Progress::Add(int64_t bytes) {
  if (bytes > 0) done_ += bytes;
  if (!shown_) return;
  absl::Time now = absl::Now();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  // \r and "erase to end of line" keep it one line however its length changes.
  std::fprintf(stderr, "\r%s\033[K", Line(label_, done_, total_, now - start_).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Done() {
  if (shown_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  shown_ = false;
}

}  // namespace srs::tools
