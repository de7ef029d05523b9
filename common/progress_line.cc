#include "common/progress_line.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace srs {
namespace {

// "14 s", "3 min 12 s", "2 h 5 min": whole seconds, for a time left.
std::string TimeLeft(double seconds) {
  int64_t whole = static_cast<int64_t>(seconds + 0.5);
  if (whole < 60) return absl::StrFormat("%d s", whole);
  if (whole < 3600) return absl::StrFormat("%d min %d s", whole / 60, whole % 60);
  return absl::StrFormat("%d h %d min", whole / 3600, (whole % 3600) / 60);
}

}  // namespace

std::string ByteSize(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return absl::StrFormat("%d B", bytes);
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string ProgressLine(const std::string& label, int64_t done, int64_t total,
                         absl::Duration elapsed, int64_t rate_base) {
  std::string line = absl::StrCat(label, ": ", ByteSize(done));
  if (total > 0) {
    int64_t shown_done = done < total ? done : total;
    absl::StrAppend(
        &line, " of ", ByteSize(total), "  ",
        static_cast<int>(100.0 * static_cast<double>(shown_done) / static_cast<double>(total)),
        "%");
  }
  double seconds = absl::ToDoubleSeconds(elapsed);
  const int64_t moved = done - (rate_base > 0 ? rate_base : 0);
  if (seconds <= 0 || moved <= 0) return line;
  // A rate from the first few bytes is noise (an export's first redraw said "4 B of 1.0 GiB,
  // 14 B/s, 20999 h left"): wait for a second of it, or for 1 % of the total.
  const bool enough = seconds >= 1 || (total > 0 && moved >= total / 100);
  if (!enough) return line;
  double rate = static_cast<double>(moved) / seconds;
  absl::StrAppend(&line, "  ", ByteSize(static_cast<int64_t>(rate)), "/s");
  if (total > done) {
    absl::StrAppend(&line, "  ", TimeLeft(static_cast<double>(total - done) / rate), " left");
  }
  return line;
}

}  // namespace srs
