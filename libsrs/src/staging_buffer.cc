#include "libsrs/src/staging_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/direct_write.h"

namespace srs {
namespace libsrs {
namespace {

// Every array starts 64-byte aligned (cache lines, SIMD); an array large enough to be written
// with direct I/O (piece::kDirectMinBytes) starts page-aligned, so the asynchronous write sends it
// from here to the disk with no copy (common/direct_write.h).
constexpr int64_t kAlign = 64;

int64_t AlignUp(int64_t n, int64_t align) { return (n + align - 1) / align * align; }

// Where an array of `bytes` goes when the previous one ended at `at`.
int64_t PlaceAt(int64_t at, int64_t bytes) {
  return AlignUp(at, bytes >= piece::kDirectMinBytes ? static_cast<int64_t>(kDirectAlign) : kAlign);
}

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
        bytes > (int64_t{1} << 60)) {
      return -1;
    }
    total = PlaceAt(total, bytes);  // below 2^61 + 4 KiB: no overflow
    if (__builtin_add_overflow(total, bytes, &total) || total > (int64_t{1} << 61)) return -1;
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
    at = PlaceAt(at, static_cast<int64_t>(bytes));
    if (bytes > 0) std::memcpy(memory_ + at, ds.data, bytes);
    ds.data = memory_ + at;
    at += static_cast<int64_t>(bytes);
  }
  return absl::OkStatus();
}

}  // namespace libsrs
}  // namespace srs
