// A small logging shim (Debian's Abseil has no absl/log): one line per record on stderr,
//
//   2026-11-22T04:50:00.123Z W depot[1234]: put refused job=heat epoch=3 reason="capacity"
//
// quiet by default (warnings and errors), verbose with SRS_LOG=info or SRS_LOG=debug. A process
// names itself once with SetLogComponent ("depot", "rss", "srs rank 3"); the library never
// writes to stdout.
//
//   SRS_LOG(INFO) << "listening on " << address;
//   SRS_LOG(WARNING).Field("piece", id) << "checksum mismatch";
#ifndef SRS_COMMON_LOG_H_
#define SRS_COMMON_LOG_H_

#include <sstream>
#include <string>

#include "absl/strings/string_view.h"

namespace srs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

// Parses "debug", "info", "warning"/"warn", "error", "off"; anything else gives `fallback`.
LogLevel ParseLogLevel(absl::string_view text, LogLevel fallback);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Reads SRS_LOG from the environment (default: warning).
void InitLogLevelFromEnv();
void SetLogComponent(absl::string_view component);

class LogRecord {
 public:
  LogRecord(LogLevel level, const char* file, int line);
  ~LogRecord();
  LogRecord(const LogRecord&) = delete;
  LogRecord& operator=(const LogRecord&) = delete;

  // Appends key=value to the record (values with spaces are quoted).
  LogRecord& Field(absl::string_view key, absl::string_view value);
  LogRecord& Field(absl::string_view key, long long value);

  template <typename T>
  LogRecord& operator<<(const T& value) {
    message_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream message_;
  std::string fields_;
};

namespace log_internal {
inline bool Enabled(LogLevel level) { return level >= GetLogLevel(); }
}  // namespace log_internal

}  // namespace srs

#define SRS_LOG_LEVEL_DEBUG ::srs::LogLevel::kDebug
#define SRS_LOG_LEVEL_INFO ::srs::LogLevel::kInfo
#define SRS_LOG_LEVEL_WARNING ::srs::LogLevel::kWarning
#define SRS_LOG_LEVEL_ERROR ::srs::LogLevel::kError

#define SRS_LOG(severity)                                                        \
  if (!::srs::log_internal::Enabled(SRS_LOG_LEVEL_##severity)) {                 \
  } else                                                                         \
    ::srs::LogRecord(SRS_LOG_LEVEL_##severity, __FILE__, __LINE__)

#endif  // SRS_COMMON_LOG_H_
