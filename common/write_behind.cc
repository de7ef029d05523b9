#include "common/write_behind.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace srs {
namespace {

// How long the thread sleeps when the file has not grown by a whole chunk since it last looked.
constexpr auto kIdleWait = std::chrono::milliseconds(5);

}  // namespace

absl::StatusOr<std::unique_ptr<WriteBehind>> WriteBehind::Start(const std::string& path,
                                                                int64_t expected_bytes,
                                                                OnDurable on_durable) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    std::string message = absl::StrCat(path, ": open for writeback: ", strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::InternalError(message);
  }
  std::unique_ptr<WriteBehind> behind(new WriteBehind(path, fd, std::move(on_durable)));
  if (expected_bytes >= kMinThreadBytes) {
    try {
      behind->thread_ = std::thread([raw = behind.get()] { raw->Loop(); });
    } catch (const std::system_error&) {
      // No thread to be had (EAGAIN): the writer hands over its ranges instead (WantsRanges).
    }
  }
  return behind;
}

WriteBehind::WriteBehind(std::string path, int fd, OnDurable on_durable)
    : path_(std::move(path)), fd_(fd), on_durable_(std::move(on_durable)) {}

WriteBehind::~WriteBehind() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  close(fd_);
}

void WriteBehind::Record(int error, const char* call) {
  if (first_error_ != 0) return;
  first_error_ = error;
  first_error_call_ = call;
}

absl::Status WriteBehind::ErrorStatus(const char* call, int error) const {
  std::string message = absl::StrCat(path_, ": ", call, ": ", strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

bool WriteBehind::Step(bool to_end) {
  struct stat st;
  if (fstat(fd_, &st) != 0) {
    Record(errno, "fstat");
    return false;
  }
  const int64_t size = st.st_size;
  // While the writer is still at it, only whole chunks: the last one is probably still growing.
  const int64_t ready = to_end ? size : size / kChunkBytes * kChunkBytes;
  bool worked = false;
  if (ready > started_) {
    if (sync_file_range(fd_, started_, ready - started_, SYNC_FILE_RANGE_WRITE) != 0) {
      Record(errno, "sync_file_range");
    }
    started_ = ready;
    worked = true;
  }
  if (durable_ < started_) {
    const int64_t length = std::min(kChunkBytes, started_ - durable_);
    if (sync_file_range(fd_, durable_, length,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
      Record(errno, "sync_file_range");
    }
    durable_ += length;
    if (on_durable_) on_durable_(durable_);
    worked = true;
  }
  return worked;
}

void WriteBehind::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    const bool worked = Step(/*to_end=*/false);
    lock.lock();
    if (!worked) wake_.wait_for(lock, kIdleWait, [this] { return stop_; });
  }
}

void WriteBehind::Written(uint64_t offset, uint64_t bytes) {
  if (!WantsRanges() || bytes == 0) return;
  constexpr uint64_t kPage = 4096;
  constexpr uint64_t kNear = uint64_t{64} << 10;
  // A range close behind the last one (a dataset's next slab, or the next dataset after its few
  // KiB of object header) continues it: the header's pages go along, and HDF5 may write them
  // again at close, a page or two twice. Any other range starts at its first whole page.
  const bool near = eager_any_ && offset >= last_end_ && offset - last_end_ <= kNear;
  if (!near) eager_end_ = std::max(eager_end_, (offset + kPage - 1) / kPage * kPage);
  eager_any_ = true;
  last_end_ = offset + bytes;
  const uint64_t to = last_end_ / kPage * kPage;  // its last page waits for the next range
  if (to <= eager_end_ || to - eager_end_ < static_cast<uint64_t>(kEagerBytes)) return;
  if (sync_file_range(fd_, static_cast<off64_t>(eager_end_), static_cast<off64_t>(to - eager_end_),
                      SYNC_FILE_RANGE_WRITE) != 0) {
    Record(errno, "sync_file_range");
  }
  eager_end_ = to;
}

void WriteBehind::StopThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::Status WriteBehind::StartRest() {
  if (thread_.joinable()) {
    // A large file: the thread has been writing it back chunk by chunk all along; the rest
    // (about a chunk) is written back and counted as Finish would, only without the fsync.
    StopThread();
    while (Step(/*to_end=*/true)) {
    }
  } else {
    // The whole file (length 0: to its end), without waiting: the disk works while the caller
    // hashes the file and the depot checks it.
    if (sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE) != 0) Record(errno, "sync_file_range");
  }
  if (first_error_ != 0) return ErrorStatus(first_error_call_, first_error_);
  return absl::OkStatus();
}

absl::Status WriteBehind::Finish() {
  if (thread_.joinable()) {
    StopThread();
    while (Step(/*to_end=*/true)) {
    }
  }
  if (fsync(fd_) != 0) Record(errno, "fsync");
  if (first_error_ != 0) return ErrorStatus(first_error_call_, first_error_);
  if (on_durable_) {  // all of it now, whether or not a thread counted the chunks
    struct stat st;
    if (fstat(fd_, &st) == 0 && st.st_size > durable_) {
      durable_ = st.st_size;
      on_durable_(durable_);
    }
  }
  return absl::OkStatus();
}

}  // namespace srs
