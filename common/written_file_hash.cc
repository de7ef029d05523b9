#include "common/written_file_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/checksum.h"

namespace srs {
namespace {

absl::Status IoError(const char* what, const std::string& path) {
  int err = errno;
  std::string text = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  return err == ENOENT ? absl::NotFoundError(text) : absl::InternalError(text);
}

// Hashes the file bytes [from, to) read with pread.
absl::Status HashGap(int fd, const std::string& path, uint64_t from, uint64_t to,
                     Xxh3Hasher* hasher) {
  char buf[64 << 10];
  while (from < to) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buf, to - from));
    ssize_t got = pread(fd, buf, want, static_cast<off_t>(from));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) errno = EIO;
      return IoError("read", path);
    }
    hasher->Update(buf, static_cast<size_t>(got));
    from += static_cast<uint64_t>(got);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FileDigest> HashWrittenFile(const std::string& path,
                                           std::vector<WrittenRange> ranges) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status status = IoError("stat", path);
    close(fd);
    return status;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::sort(ranges.begin(), ranges.end(),
            [](const WrittenRange& a, const WrittenRange& b) { return a.offset < b.offset; });
  Xxh3Hasher hasher;
  uint64_t pos = 0;
  absl::Status status;
  for (const WrittenRange& range : ranges) {
    if (range.size == 0) continue;
    if (range.offset < pos || range.size > size || range.offset > size - range.size) {
      status = absl::InvalidArgumentError(absl::StrCat(
          path, ": written range at ", range.offset, " (", range.size,
          " bytes) overlaps another or ends past the end of the file (", size, " bytes)"));
      break;
    }
    status = HashGap(fd, path, pos, range.offset, &hasher);
    if (!status.ok()) break;
    hasher.Update(range.data, range.size);
    pos = range.offset + range.size;
  }
  if (status.ok()) status = HashGap(fd, path, pos, size, &hasher);
  close(fd);
  if (!status.ok()) return status;
  return FileDigest{static_cast<int64_t>(size), hasher.Digest()};
}

}  // namespace srs
