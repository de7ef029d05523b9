#include "common/direct_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace srs {
namespace {

absl::Status Errno(const std::string& path, const char* call, int error) {
  std::string message = absl::StrCat(path, ": ", call, ": ", strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// pwrite(2) of all `bytes` at `offset`, continuing after short writes and EINTR; `error` gets
// the errno of a failure.
absl::Status PwriteAll(int fd, const char* data, uint64_t bytes, uint64_t offset,
                       const std::string& path, const char* what, int* error) {
  *error = 0;
  while (bytes > 0) {
    ssize_t n = pwrite(fd, data, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = errno;
      return Errno(path, what, *error);
    }
    if (n == 0) return absl::InternalError(absl::StrCat(path, ": ", what, " wrote nothing"));
    data += n;
    bytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

bool DirectWritable(const void* data) {
  return reinterpret_cast<uintptr_t>(data) % kDirectAlign == 0;
}

absl::Status WriteRangesDirect(const std::string& path, const std::vector<WrittenRange>& ranges,
                               const std::function<void(int64_t)>& on_written) {
  Fd buffered(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (buffered.get() < 0) return Errno(path, "open", errno);
  Fd direct(open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT));
  // EINVAL: this file system has no direct I/O; everything then goes through `buffered`.
  if (direct.get() < 0 && errno != EINVAL) return Errno(path, "open O_DIRECT", errno);
  bool use_direct = direct.get() >= 0;
  int64_t written = 0;
  for (const WrittenRange& range : ranges) {
    const char* data = static_cast<const char*>(range.data);
    const bool aligned = range.offset % kDirectAlign == 0 && DirectWritable(data);
    for (uint64_t at = 0; at < range.size;) {
      // Directly: whole blocks only; the range's last partial block goes buffered.
      uint64_t step = std::min<uint64_t>(kDirectStepBytes, range.size - at);
      const bool now_direct = use_direct && aligned && step >= kDirectAlign;
      if (now_direct) step = step / kDirectAlign * kDirectAlign;
      int error = 0;
      absl::Status status =
          PwriteAll(now_direct ? direct.get() : buffered.get(), data + at, step, range.offset + at,
                    path, now_direct ? "direct pwrite" : "pwrite", &error);
      if (now_direct && error == EINVAL) {
        use_direct = false;  // refused after all (e.g. a device with larger blocks): buffered
        continue;
      }
      if (!status.ok()) return status;
      at += step;
      written += static_cast<int64_t>(step);
      if (on_written) on_written(written);
    }
  }
  return absl::OkStatus();
}

}  // namespace srs
