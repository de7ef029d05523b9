#include "common/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace srs {
namespace {

constexpr off_t kMaxSecretFileBytes = 64 << 10;

absl::Status IoError(absl::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status WriteSecretFile(const std::string& path, absl::string_view content) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError("write", tmp);
  bool ok = fchmod(fd, 0600) == 0 &&
            write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            fsync(fd) == 0;
  int saved = errno;
  close(fd);
  errno = saved;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status status = IoError("write", path);
    unlink(tmp.c_str());
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  // O_NONBLOCK: a FIFO given by mistake must not hang the daemon in open(); regular files
  // ignore it.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return IoError("read", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status status = IoError("stat", path);
    close(fd);
    return status;
  }
  // Only a regular file holds a secret; anything else (a device such as /dev/null, a directory,
  // a FIFO) is refused before its mode is touched: tightening /dev/null's mode as root would
  // break the whole machine.
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a regular file; a secret file must be one"));
  }
  if ((st.st_mode & 077) != 0 && st.st_uid == geteuid()) {
    SRS_LOG(WARNING).Field("file", path) << "secret file was readable by others: mode set to 0600";
    fchmod(fd, st.st_mode & 0700);
  }
  if (st.st_size > kMaxSecretFileBytes) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", st.st_size, " bytes is too large for a secret file"));
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = read(fd, content.data(), content.size());
  int saved = errno;
  close(fd);
  errno = saved;
  if (n < 0) return IoError("read", path);
  content.resize(static_cast<size_t>(n));
  return content;
}

}  // namespace srs
