// Progress of a long transfer on the terminal: one line on stderr, redrawn in place at most five
// times a second, e.g.
//   export: 1.2 GiB of 4.0 GiB  30%  210.5 MiB/s  14 s left
// Shown only when stderr is a terminal and the command was not given --quiet, so logs, pipes and
// scripts never see it; the line is erased when the transfer ends.
#ifndef SRS_TOOLS_PROGRESS_H_
#define SRS_TOOLS_PROGRESS_H_

#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace srs::tools {

class Progress {
 public:
  // `total_bytes` >= 0 (0: unknown, no percentage or time left). `quiet`: never show.
  Progress(std::string label, int64_t total_bytes, bool quiet);
  ~Progress() { Done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Counts `bytes` more as done (negative counts are ignored) and redraws if it is time to.
  void Add(int64_t bytes);
  // Replaces the total once a better one is known (`total_bytes` <= 0: left as it is).
  void SetTotal(int64_t total_bytes) {
    if (total_bytes > 0) total_ = total_bytes;
  }
  // Measures the rate (and time left) from now, when `done_bytes` are done (call it before the
  // Add that brings them), for a transfer whose start the caller did not see (a stop
  // checkpoint's write begins at the job's next SRS_Check_Stop, seconds after `srs stop` began).
  void MeasureRateFrom(int64_t done_bytes) {
    start_ = absl::Now();
    rate_base_ = done_bytes;
  }
  // Erases the line (once); later Add()s are still counted but not shown.
  void Done();

  bool shown() const { return shown_; }
  int64_t done_bytes() const { return done_; }

  // The line for `done` of `total` bytes after `elapsed`: label, bytes, percentage, rate and time
  // left (the last three only once they mean something). Pure, for the unit tests.
  static std::string Line(const std::string& label, int64_t done, int64_t total,
                          absl::Duration elapsed);

 private:
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t rate_base_ = 0;
  bool shown_;
  bool drawn_ = false;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
};

}  // namespace srs::tools

#endif  // SRS_TOOLS_PROGRESS_H_
