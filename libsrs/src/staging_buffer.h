// Staging memory of asynchronous checkpoints: one buffer per process, allocated once (and grown
// only when the registered arrays grow) and reused by every checkpoint, so a periodic checkpoint
// costs the application one memcpy of its registered bytes, not a fresh allocation and its page
// faults each time. Bounded by `staging_limit` (DESIGN.md §3).
//
//   StagingBuffer staging(settings.staging_limit);
//   if (staging.Fits(datasets)) SRS_RETURN_IF_ERROR(staging.CopyIn(&datasets));
//   // datasets[i].data now point into the buffer; the application may change its arrays.
//
// Not thread-safe: the application thread fills it while no flush is in flight; the flusher
// thread only reads it between CopyIn and the end of that flush.
#ifndef SRS_LIBSRS_SRC_STAGING_BUFFER_H_
#define SRS_LIBSRS_SRC_STAGING_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/piece_format.h"

namespace srs {
namespace libsrs {

class StagingBuffer {
 public:
  // `limit`: bytes this buffer may ever hold (0 = never stage).
  explicit StagingBuffer(int64_t limit) : limit_(limit) {}
  ~StagingBuffer();
  StagingBuffer(const StagingBuffer&) = delete;
  StagingBuffer& operator=(const StagingBuffer&) = delete;

  // Bytes the datasets' elements take in staging (each array starts 64-byte aligned, one of at
  // least piece::kDirectMinBytes page-aligned). -1 if the sum overflows.
  static int64_t BytesNeeded(const std::vector<piece::DatasetWrite>& datasets);

  // Whether `datasets` fit under the limit.
  bool Fits(const std::vector<piece::DatasetWrite>& datasets) const;

  // Copies every dataset's elements into the buffer and points `data` at the copy. Grows the
  // buffer (one mmap, pre-faulted) only when it is too small. RESOURCE_EXHAUSTED beyond the
  // limit or when the memory cannot be mapped; the datasets are left unchanged then.
  absl::Status CopyIn(std::vector<piece::DatasetWrite>* datasets);

  int64_t capacity() const { return capacity_; }
  // How many times the buffer was (re)allocated: 1 for a run whose arrays keep their sizes.
  int allocations() const { return allocations_; }

 private:
  absl::Status Reserve(int64_t bytes);

  const int64_t limit_;
  char* memory_ = nullptr;
  int64_t capacity_ = 0;
  int allocations_ = 0;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_STAGING_BUFFER_H_
