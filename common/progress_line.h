// The text of a progress line, shared by the tools (tools/progress.h: export, stop --wait) and
// libsrs (libsrs/src/restore_progress.h: a resume's reads), so every progress a user sees reads
// the same:
//   export: 1.2 GiB of 4.0 GiB  30%  210.5 MiB/s  14 s left
// Pure functions; drawing (and when) is the caller's business.
#ifndef SRS_COMMON_PROGRESS_LINE_H_
#define SRS_COMMON_PROGRESS_LINE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace srs {

// "512 B", "12.5 MiB", "1.2 GiB": binary units, one decimal above bytes. Negative counts print
// as they are, in bytes.
std::string ByteSize(int64_t bytes);

// The line for `done` of `total` bytes after `elapsed`: label, bytes, then (when total > 0) the
// total and a percentage (done is capped at total for it), then the rate and the time left once
// they mean something (done > 0 and either a second elapsed or 1 % of the total done; time left
// only while done < total). `rate_base`: bytes already done when `elapsed` began (the rate is
// (done - rate_base) / elapsed), for a transfer first seen part way through.
std::string ProgressLine(const std::string& label, int64_t done, int64_t total,
                         absl::Duration elapsed, int64_t rate_base = 0);

}  // namespace srs

#endif  // SRS_COMMON_PROGRESS_LINE_H_
