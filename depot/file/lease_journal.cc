#include "depot/file/lease_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/checksum.h"
#include "common/log.h"

namespace srs {
namespace depot {
namespace {

constexpr size_t kMaxPieceIdChars = 64;

absl::Status Failed(absl::string_view what, const std::string& path) {
  int saved = errno;
  std::string message = absl::StrCat("lease journal ", path, ": ", what, ": ", strerror(saved));
  if (saved == ENOSPC || saved == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

bool ValidPieceId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxPieceIdChars) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

bool ParseHex64(absl::string_view text, uint64_t* value) {
  return text.size() == 16 && absl::SimpleHexAtoi(text, value);
}

// One line without its newline; false unless it is a whole, intact record.
bool ParseRecord(absl::string_view line, LeaseJournal::Entry* entry) {
  std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
  if (fields.size() != 4) return false;
  uint64_t check = 0;
  absl::string_view body = line.substr(0, line.size() - fields[3].size() - 1);
  if (!ParseHex64(fields[3], &check) || check != Xxh3(body.data(), body.size())) return false;
  entry->piece_id = std::string(fields[0]);
  return ValidPieceId(fields[0]) && absl::SimpleAtoi(fields[1], &entry->expires_unix_ms) &&
         entry->expires_unix_ms >= 0 && ParseHex64(fields[2], &entry->piece_xxh3);
}

absl::Status ReadAll(int fd, const std::string& path, std::string* bytes) {
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failed("read", path);
    if (n == 0) return absl::OkStatus();
    bytes->append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

std::string LeaseJournal::Format(const Entry& entry) {
  std::string body = absl::StrCat(entry.piece_id, " ", entry.expires_unix_ms, " ",
                                  absl::Hex(entry.piece_xxh3, absl::kZeroPad16));
  uint64_t check = Xxh3(body.data(), body.size());
  return absl::StrCat(body, " ", absl::Hex(check, absl::kZeroPad16), "\n");
}

absl::StatusOr<std::unique_ptr<LeaseJournal>> LeaseJournal::Open(const std::string& path,
                                                                 std::vector<Entry>* entries) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Failed("open", path);
  auto journal = std::unique_ptr<LeaseJournal>(new LeaseJournal(path, fd, 0));
  std::string bytes;
  absl::Status read = ReadAll(fd, path, &bytes);
  if (!read.ok()) return read;
  size_t valid = 0;
  int64_t corrupt = 0;
  entries->clear();
  for (size_t end; valid < bytes.size() && (end = bytes.find('\n', valid)) != std::string::npos;
       valid = end + 1) {
    Entry entry;
    if (ParseRecord(absl::string_view(bytes).substr(valid, end - valid), &entry)) {
      entries->push_back(std::move(entry));
    } else {
      ++corrupt;  // a damaged line among whole ones: only its own lease is lost
    }
  }
  if (corrupt > 0) {
    SRS_LOG(ERROR).Field("file", path).Field("records", static_cast<long long>(corrupt))
        << "lease journal: skipping records that fail their checksum (their pieces keep the "
           "lease of their .meta)";
  }
  if (valid < bytes.size()) {
    // Written but never acknowledged (Append syncs before it returns): cut before appending.
    SRS_LOG(WARNING)
            .Field("file", path)
            .Field("bytes", static_cast<long long>(bytes.size() - valid))
        << "lease journal: cutting a torn or corrupt tail";
    if (ftruncate(fd, static_cast<off_t>(valid)) != 0) return Failed("ftruncate", path);
    if (fdatasync(fd) != 0) return Failed("fdatasync", path);
  }
  if (lseek(fd, 0, SEEK_END) < 0) return Failed("lseek", path);
  journal->bytes_ = static_cast<int64_t>(valid);
  return journal;
}

LeaseJournal::~LeaseJournal() {
  if (fd_ >= 0) close(fd_);
}

absl::Status LeaseJournal::Append(const std::vector<Entry>& entries) {
  std::string lines;
  for (const Entry& entry : entries) {
    if (!ValidPieceId(entry.piece_id) || entry.expires_unix_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("lease journal: cannot record piece id '", entry.piece_id, "'"));
    }
    lines += Format(entry);
  }
  if (lines.empty()) return absl::OkStatus();
  size_t done = 0;
  absl::Status status;
  while (done < lines.size()) {
    ssize_t n = pwrite(fd_, lines.data() + done, lines.size() - done,
                       static_cast<off_t>(bytes_ + static_cast<int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Failed("write", path_);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok() && fdatasync(fd_) != 0) status = Failed("fdatasync", path_);
  if (!status.ok()) {
    // Nothing of this call may stay in front of the next one's records.
    if (ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) {
      SRS_LOG(WARNING).Field("file", path_) << "lease journal: cannot cut a failed append";
    }
    return status;
  }
  bytes_ += static_cast<int64_t>(lines.size());
  return absl::OkStatus();
}

absl::Status LeaseJournal::Reset() {
  if (ftruncate(fd_, 0) != 0) return Failed("ftruncate", path_);
  if (fdatasync(fd_) != 0) return Failed("fdatasync", path_);
  bytes_ = 0;
  return absl::OkStatus();
}

}  // namespace depot
}  // namespace srs
