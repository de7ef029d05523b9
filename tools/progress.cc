#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/time/clock.h"
#include "common/progress_line.h"

namespace srs::tools {
namespace {

constexpr absl::Duration kRedrawEvery = absl::Milliseconds(200);

}  // namespace

Progress::Progress(std::string label, int64_t total_bytes, bool quiet)
    : label_(std::move(label)),
      total_(total_bytes > 0 ? total_bytes : 0),
      shown_(!quiet && isatty(STDERR_FILENO) == 1),
      start_(absl::Now()) {}

std::string Progress::Line(const std::string& label, int64_t done, int64_t total,
                           absl::Duration elapsed) {
  return ProgressLine(label, done, total, elapsed);
}

void Progress::Add(int64_t bytes) {
  if (bytes > 0) done_ += bytes;
  if (!shown_) return;
  absl::Time now = absl::Now();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  // \r and "erase to end of line" keep it one line however its length changes.
  std::fprintf(stderr, "\r%s\033[K",
               ProgressLine(label_, done_, total_, now - start_, rate_base_).c_str());
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
