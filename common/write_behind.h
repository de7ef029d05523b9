// Write-behind for a file that another part of this process is writing (HDF5's sec2 driver, in
// piece::WritePieceFileHashed): while the writer copies its buffers into the page cache, a thread
// starts the kernel's writeback of each range the file has grown past and waits for it, so the
// disk works during the copy instead of only in the final fsync, and the bytes that have reached
// the disk can be counted as they get there (a stop checkpoint's progress,
// libsrs/src/checkpoint_progress.h).
//
//   SRS_ASSIGN_OR_RETURN(std::unique_ptr<WriteBehind> behind,
//                        WriteBehind::Start(path, expected_bytes, on_durable));
//   ... write the file (any descriptor), close it ...
//   SRS_RETURN_IF_ERROR(behind->Finish());  // the rest, then fsync: the file is durable
//
// A file too small for the thread (under kMinThreadBytes; or one whose thread could not be
// started, or with direct-I/O datasets) has its writeback started by the writer instead, range by
// range as it writes (Written; piece_format.cc hands over its datasets in 1 MiB slabs): a 4 MiB
// piece's data otherwise reached the disk only once its file was closed.
//
// The kernel calls: sync_file_range(2) with SYNC_FILE_RANGE_WRITE to start a range's writeback
// and SYNC_FILE_RANGE_WAIT_BEFORE | WAIT_AFTER to wait for it, in kChunkBytes steps; Finish ends
// with fsync(2), which also writes the file's metadata and any page written again since (HDF5
// rewrites its superblock and headers at close). sync_file_range alone is not durable (it writes
// neither metadata nor the disk's cache): only Finish's fsync is.
//
// Errors: a writeback error seen by sync_file_range is reported by this descriptor only once
// (Linux's errseq), so the thread keeps the first one and Finish returns it. ENOSPC and EDQUOT
// are RESOURCE_EXHAUSTED, anything else INTERNAL, naming the path.
#ifndef SRS_COMMON_WRITE_BEHIND_H_
#define SRS_COMMON_WRITE_BEHIND_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace srs {

class WriteBehind {
 public:
  // Writeback is started and waited for in steps of this many bytes (8 MiB: large enough for the
  // disk's queue, small enough that the progress moves several times a second on a slow disk).
  static constexpr int64_t kChunkBytes = int64_t{8} << 20;
  // Files expected to be smaller than this get no thread: Finish is then a plain fsync (a piece
  // of one chunk or less would count nothing before its end anyway).
  static constexpr int64_t kMinThreadBytes = kChunkBytes;

  // Called with the bytes of the file known to be written back so far (a running total, from the
  // thread or from Finish; never concurrently with itself). May block: it delays the writeback.
  using OnDurable = std::function<void(int64_t durable_bytes)>;

  // Opens `path` (which must exist) read-only; the writer keeps its own descriptor.
  // `expected_bytes`: about how large the file will be (decides the thread). `on_durable` may be
  // empty. NOT_FOUND / INTERNAL naming the path when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<WriteBehind>> Start(const std::string& path,
                                                            int64_t expected_bytes,
                                                            OnDurable on_durable);
  // Stops the thread (without syncing anything: a write that failed needs no durability).
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // True while no thread writes the file back (a file expected under kMinThreadBytes, or one
  // whose thread could not be started): the writer then says what it has written (Written), so
  // the disk starts on it during the copy.
  bool WantsRanges() const { return !thread_.joinable(); }
  // Written pages are handed to the kernel once at least this many have gathered: fewer calls
  // for many medium datasets, each a whole number of pages.
  static constexpr int64_t kEagerBytes = int64_t{512} << 10;
  // The writer has just written [offset, offset + bytes) (ranges in increasing order, as HDF5
  // lays datasets out). Without a thread, once kEagerBytes of whole pages have gathered since
  // the last start, starts their writeback (no wait). A range's partial last page waits for the
  // next range (a slab's or a dataset's end is rarely on a page boundary: started early, the
  // page would be written twice, and on a disk with stable pages the next write would wait for
  // it). Nothing with a thread. Errors are kept for Finish / StartRest.
  void Written(uint64_t offset, uint64_t bytes);
  // Where the writeback Written started ends (tests).
  uint64_t eager_end() const { return eager_end_; }

  // Once the writer has written and closed the file: writes back what is left, counting it,
  // then fsyncs. The first writeback error of the whole write, else fsync's. Call once.
  absl::Status Finish();
  // Finish without the fsync, for a file whose reader makes it durable itself (a same-host
  // depot fsyncs every spool file it adopts, depot/file/file_backend.cc): with a thread, the
  // rest is written back and counted as in Finish; without one (a small file), its writeback
  // is only started, so the disk works while the writer hashes the file and the depot checks
  // it. Nothing is durable yet, and the end of the file is not counted (on_durable: the
  // caller counts it once the reader has made it durable). The first writeback error seen so
  // far. Call once, instead of Finish.
  absl::Status StartRest();

 private:
  WriteBehind(std::string path, int fd, OnDurable on_durable);
  void Loop();
  void StopThread();  // asks the thread to stop and joins it
  // One step: starts the writeback of whatever grew past started_ (whole chunks only, unless
  // `to_end`) and waits for the oldest started chunk. False when there was nothing to do.
  bool Step(bool to_end);
  void Record(int error, const char* call);  // keeps the first
  absl::Status ErrorStatus(const char* call, int error) const;

  const std::string path_;
  const int fd_;
  const OnDurable on_durable_;
  int64_t started_ = 0;     // writeback started for [0, started_)
  int64_t durable_ = 0;     // written back for [0, durable_)
  uint64_t eager_end_ = 0;  // Written started the writeback of whole pages up to here
  uint64_t last_end_ = 0;   // the end of the last range Written was told
  bool eager_any_ = false;  // Written was told a range
  int first_error_ = 0;
  const char* first_error_call_ = "";
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace srs

#endif  // SRS_COMMON_WRITE_BEHIND_H_
