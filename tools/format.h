// Text output of the tools: aligned tables, sizes, times and ages a person reads at a glance,
// and the one-line error every subcommand ends with when it fails.
#ifndef SRS_TOOLS_FORMAT_H_
#define SRS_TOOLS_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace srs::tools {

// Columns padded to their widest cell; the first row is the header.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string ToString(const std::string& indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string HumanBytes(int64_t bytes);      // "12.5 MiB"
std::string HumanSeconds(double seconds);   // "0.412 s", "3 min 12 s"
std::string FormatUnixMs(int64_t unix_ms);  // "2026-11-22 04:50:01" (UTC), "-" for 0
std::string AgeSince(int64_t unix_ms);      // "42 s ago", "-" for 0
std::string Checksum(uint64_t xxh3);        // "xxh3:0123456789abcdef"

// Prints "srs CMD: MESSAGE" on stderr and returns the exit code: 2 for bad arguments, 1 else.
int Fail(const std::string& command, const absl::Status& status);

}  // namespace srs::tools

#endif  // SRS_TOOLS_FORMAT_H_
