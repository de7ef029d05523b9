#include "tools/format.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/checksum.h"
#include "common/progress_line.h"

namespace srs::tools {

std::string Table::ToString(const std::string& indent) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string text;
  for (const auto& row : rows_) {
    std::string line = indent;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    text += line + "\n";
  }
  return text;
}

std::string HumanBytes(int64_t bytes) { return ByteSize(bytes); }

std::string HumanSeconds(double seconds) {
  if (seconds < 60) return absl::StrFormat("%.3f s", seconds);
  int64_t whole = static_cast<int64_t>(seconds);
  if (whole < 3600) return absl::StrFormat("%d min %d s", whole / 60, whole % 60);
  return absl::StrFormat("%d h %d min", whole / 3600, (whole % 3600) / 60);
}

std::string FormatUnixMs(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

std::string AgeSince(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  double seconds = absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMillis(unix_ms));
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return absl::StrFormat("%d s ago", static_cast<int64_t>(seconds));
  if (seconds < 7200) return absl::StrFormat("%d min ago", static_cast<int64_t>(seconds / 60));
  if (seconds < 172800) return absl::StrFormat("%d h ago", static_cast<int64_t>(seconds / 3600));
  return absl::StrFormat("%d days ago", static_cast<int64_t>(seconds / 86400));
}

std::string Checksum(uint64_t xxh3) { return ChecksumToString(xxh3); }

int Fail(const std::string& command, const absl::Status& status) {
  std::string message(status.message());
  std::fprintf(stderr, "srs %s: %s\n", command.c_str(), message.c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace srs::tools
