// Writes byte ranges into an existing file with direct I/O (O_DIRECT): the bytes go from the
// caller's memory to the disk by DMA, with no copy into the page cache and none of the page
// reclaim and writeback work that a buffered write of the same size costs the CPU. For an
// asynchronous checkpoint written from page-aligned staging memory while the solver computes
// (libsrs/src/async_checkpoints.h) that CPU is the solver's: on a node whose cores all run ranks,
// a buffered 256 MiB write costs them ~0.1–0.7 s of system time, a direct one ~0.03 s (dd on this
// project's 2-core test machine).
//
//   std::vector<srs::WrittenRange> ranges = {{dataset_offset, staging_data, bytes}};
//   SRS_RETURN_IF_ERROR(srs::WriteRangesDirect(path, ranges, on_written));
//   ... then fsync the file (direct I/O bypasses the page cache, not the disk's own cache)
//
// Alignment: direct I/O needs the file offset, the memory address and the length to be multiples
// of kDirectAlign. Each range's largest aligned part is written directly; what is not aligned (a
// range's last partial block, a range whose offset or memory is not aligned) is written with an
// ordinary buffered pwrite, so any range is written exactly. A file system without direct I/O
// (tmpfs answers EINVAL) gets buffered writes throughout: slower, never wrong.
//
// Errors: INTERNAL naming the path and the call; ENOSPC / EDQUOT are RESOURCE_EXHAUSTED.
#ifndef SRS_COMMON_DIRECT_WRITE_H_
#define SRS_COMMON_DIRECT_WRITE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/written_file_hash.h"

namespace srs {

// The block size direct I/O is aligned to (the page size; a multiple of every common logical
// block size, 512 and 4096).
inline constexpr uint64_t kDirectAlign = 4096;
// Direct writes go in steps of this many bytes; `on_written` is called after each.
inline constexpr uint64_t kDirectStepBytes = uint64_t{8} << 20;

// True when a range of `bytes` at `data` placed at a kDirectAlign-aligned file offset would be
// written mostly directly: `data` is aligned.
bool DirectWritable(const void* data);

// Writes every range's bytes at its offset in the existing file `path` (which must be large
// enough or is extended). `on_written` (may be empty) gets the running total of bytes written.
absl::Status WriteRangesDirect(const std::string& path, const std::vector<WrittenRange>& ranges,
                               const std::function<void(int64_t)>& on_written);

}  // namespace srs

#endif  // SRS_COMMON_DIRECT_WRITE_H_
