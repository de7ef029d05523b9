#include "libsrs/src/staging_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace srs {
namespace libsrs {
namespace {

constexpr int64_t kAlign = 64;

int64_t AlignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

StagingBuffer::~StagingBuffer() {
  if (memory_ != nullptr) munmap(memory_, static_cast<size_t>(capacity_));
}

int64_t StagingBuffer::BytesNeeded(const std::vector<piece::DatasetWrite>& datasets) {
  int64_t total = 0;
  for (const piece::DatasetWrite& ds : datasets) {
    int64_t bytes = 0;
    if (ds.count < 0 ||
        __builtin_mul_overflow(ds.count, static_cast<int64_t>(ElementSize(ds.type)), &bytes) ||
        bytes > (int64_t{1} << 60) || __builtin_add_overflow(total, AlignUp(bytes), &total)) {
      return -1;
    }
  }
  return total;
}

bool StagingBuffer::Fits(const std::vector<piece::DatasetWrite>& datasets) const {
  int64_t needed = BytesNeeded(datasets);
  return needed >= 0 && needed <= limit_;
}

absl::Status StagingBuffer::Reserve(int64_t bytes) {
  if (bytes <= capacity_) return absl::OkStatus();
  if (memory_ != nullptr) munmap(memory_, static_cast<size_t>(capacity_));
  memory_ = nullptr;
  capacity_ = 0;
  // MAP_POPULATE: the page faults are paid here, once, not inside every checkpoint's copy.
  void* p = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("staging: cannot map ", bytes, " bytes: ", std::strerror(errno)));
  }
  memory_ = static_cast<char*>(p);
  capacity_ = bytes;
  ++allocations_;
  return absl::OkStatus();
}

absl::Status StagingBuffer::CopyIn(std::vector<piece::DatasetWrite>* datasets) {
  int64_t needed = BytesNeeded(*datasets);
  if (needed < 0 || needed > limit_) {
    return absl::ResourceExhaustedError(absl::StrCat("staging: the registered arrays need ", needed,
                                                     " bytes, above staging_limit ", limit_));
  }
  if (needed == 0) return absl::OkStatus();
  absl::Status reserved = Reserve(needed);
  if (!reserved.ok()) return reserved;
  int64_t at = 0;
  for (piece::DatasetWrite& ds : *datasets) {
    size_t bytes = static_cast<size_t>(ds.count) * ElementSize(ds.type);
    if (bytes > 0) std::memcpy(memory_ + at, ds.data, bytes);
    ds.data = memory_ + at;
    at += AlignUp(static_cast<int64_t>(bytes));
  }
  return absl::OkStatus();
}

}  // namespace libsrs
}  // namespace srs
