#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace srs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kWarning)};

std::mutex& ComponentMutex() {
  static std::mutex mu;
  return mu;
}
std::string& Component() {
  static std::string component = "srs";
  return component;
}

char LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 'D';
    case LogLevel::kInfo:
      return 'I';
    case LogLevel::kWarning:
      return 'W';
    default:
      return 'E';
  }
}

}  // namespace

LogLevel ParseLogLevel(absl::string_view text, LogLevel fallback) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  if (lower == "off" || lower == "none") return LogLevel::kOff;
  return fallback;
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

void InitLogLevelFromEnv() {
  const char* env = std::getenv("SRS_LOG");
  if (env != nullptr) SetLogLevel(ParseLogLevel(env, GetLogLevel()));
}

void SetLogComponent(absl::string_view component) {
  std::lock_guard<std::mutex> lock(ComponentMutex());
  Component() = std::string(component);
}

LogRecord::LogRecord(LogLevel level, const char* /*file*/, int /*line*/) : level_(level) {}

LogRecord& LogRecord::Field(absl::string_view key, absl::string_view value) {
  bool quote = value.empty() || value.find_first_of(" \t\"=") != absl::string_view::npos;
  absl::StrAppend(&fields_, " ", key, "=", quote ? absl::StrCat("\"", value, "\"") : value);
  return *this;
}

LogRecord& LogRecord::Field(absl::string_view key, long long value) {
  absl::StrAppend(&fields_, " ", key, "=", value);
  return *this;
}

LogRecord::~LogRecord() {
  std::string component;
  {
    std::lock_guard<std::mutex> lock(ComponentMutex());
    component = Component();
  }
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
      std::string(1, LevelLetter(level_)), " ", component, "[", getpid(), "]: ", message_.str(),
      fields_, "\n");
  // One write per record so lines from threads and ranks do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace srs
