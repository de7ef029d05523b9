// The XXH3-64 of a file just written, without reading back the bytes the writer still holds in
// memory ("hash on the way to the disk"): the caller names where in the file each of its buffers
// went; only the bytes between them (e.g. HDF5's own metadata, a few KiB) are read from the file.
//
//   std::vector<srs::WrittenRange> ranges = {{dataset_offset, data, bytes}};
//   SRS_ASSIGN_OR_RETURN(srs::FileDigest digest, srs::HashWrittenFile(path, ranges));
//
// The caller guarantees that each range's file bytes are exactly its memory bytes (written from
// that memory, in the same byte order, and not changed since); the result is then the same as
// hashing the whole file.
#ifndef SRS_COMMON_WRITTEN_FILE_HASH_H_
#define SRS_COMMON_WRITTEN_FILE_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace srs {

struct WrittenRange {
  uint64_t offset = 0;  // in the file
  const void* data = nullptr;
  size_t size = 0;
};

struct FileDigest {
  int64_t size = 0;   // bytes in the file
  uint64_t xxh3 = 0;  // XXH3-64 of all of them, in file order
};

// INVALID_ARGUMENT when ranges overlap or reach past the end of the file; NOT_FOUND / INTERNAL
// for I/O errors, naming `path`.
absl::StatusOr<FileDigest> HashWrittenFile(const std::string& path,
                                           std::vector<WrittenRange> ranges);

}  // namespace srs

#endif  // SRS_COMMON_WRITTEN_FILE_HASH_H_
