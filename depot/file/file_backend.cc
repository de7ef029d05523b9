#include "depot/file/file_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/checksum.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace srs {
namespace depot {
namespace {

constexpr char kMetaMagic[] = "srs-depot-meta 1\n";

// Bytes an unprivileged writer may still use on the file system holding `path`; -1 if unknown.
int64_t FreeBytesAt(const std::string& path) {
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  struct statvfs fs;
  if (dir.empty() || statvfs(dir.c_str(), &fs) != 0) return -1;
  return static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  int saved = errno;
  if (saved == ENOSPC || saved == EDQUOT) {
    // A full disk is not an internal error: the caller can free space or pick another depot.
    return absl::ResourceExhaustedError(absl::StrCat("no space left on the depot's disk (", what,
                                                     " ", path, ": ", strerror(saved), "; ",
                                                     FreeBytesAt(path), " bytes free)"));
  }
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", strerror(saved)));
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir", path);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Errno("write", path);
    data += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status FsyncFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

absl::StatusOr<PieceRecord> ParseMeta(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return Errno("open", path);
  std::string bytes;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  fclose(f);
  PieceRecord record;
  size_t a = sizeof(kMetaMagic) - 1;
  size_t b = bytes.find('\n', a), c = b == std::string::npos ? b : bytes.find('\n', b + 1);
  if (!absl::StartsWith(bytes, kMetaMagic) || c == std::string::npos ||
      !record.info.ParseFromArray(bytes.data() + c + 1, static_cast<int>(bytes.size() - c - 1))) {
    return absl::DataLossError(absl::StrCat(path, ": malformed piece record"));
  }
  record.read_cap = bytes.substr(a, b - a);
  record.manage_cap = bytes.substr(b + 1, c - b - 1);
  return record;
}

}  // namespace

absl::Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("fsync", dir);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> HashFile(const std::string& path, int64_t* size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  std::vector<char> buffer(kChunkBytes);
  Xxh3Hasher hasher;
  int64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = Errno("read", path);
      close(fd);
      return status;
    }
    if (n == 0) break;
    hasher.Update(buffer.data(), static_cast<size_t>(n));
    total += n;
  }
  close(fd);
  if (size != nullptr) *size = total;
  return hasher.Digest();
}

// ---- staged pieces ---------------------------------------------------------------------------

class FileStagedPiece : public StagedPiece {
 public:
  // `fd` >= 0: a streamed put writing `path`; -1: an adopted spool file already at `path`.
  FileStagedPiece(FileBackend* backend, std::string piece_id, std::string path, int fd)
      : backend_(backend), piece_id_(std::move(piece_id)), path_(std::move(path)), fd_(fd) {}
  ~FileStagedPiece() override {
    if (fd_ >= 0) close(fd_);
    if (published_) return;
    unlink(path_.c_str());
    unlink((backend_->MetaPath(piece_id_) + ".tmp").c_str());
    if (meta_renamed_) unlink(backend_->MetaPath(piece_id_).c_str());  // the record first
    if (moved_) unlink(backend_->PiecePath(piece_id_).c_str());
  }

  absl::Status Append(absl::string_view bytes) override {
    if (fd_ < 0) return absl::FailedPreconditionError("staged piece is not writable");
    SRS_RETURN_IF_ERROR(WriteAll(fd_, bytes.data(), bytes.size(), path_));
    size_ += static_cast<int64_t>(bytes.size());
    return absl::OkStatus();
  }

  absl::StatusOr<Sealed> Seal() override {
    if (fd_ >= 0) {
      if (fsync(fd_) != 0) return Errno("fsync", path_);
      close(fd_);
      fd_ = -1;
      return Sealed{size_};
    }
    // Adopted: the writer created (and normally fsynced) the file; the depot makes it durable
    // itself all the same, which costs little when the writer already did. The fsync runs
    // while the commit checks the file (Summarize, Verify): Publish waits for it first.
    struct stat st;
    if (lstat(path_.c_str(), &st) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("local put: the writer did not create ", path_));
    }
    if (!S_ISREG(st.st_mode)) {  // a symlink would adopt a file outside the depot
      return absl::FailedPreconditionError(
          absl::StrCat("local put: ", path_, " is not a regular file"));
    }
    durable_ = std::async(std::launch::async, [path = path_] { return FsyncFile(path); });
    return Sealed{static_cast<int64_t>(st.st_size)};
  }

  absl::StatusOr<piece::VerifiedFile> Verify() override { return piece::VerifyPieceFile(path_); }
  absl::StatusOr<piece::PieceSummary> Summarize() override {
    return piece::ReadPieceSummary(path_);
  }

  absl::Status Publish(const PieceRecord& record) override {
    // The record is written, both files renamed into place, and only then made durable: the
    // record's fsync commits the file system's journal with the renames in it, so pieces/'s own
    // fsync after it finds (on ext4, XFS) nothing left to write. Until both returned the put is
    // not acknowledged, and what a crash leaves is dropped at startup: a .h5 without its .meta,
    // or a .meta that does not parse (renamed before its bytes reached the disk).
    if (durable_.valid()) SRS_RETURN_IF_ERROR(durable_.get());         // Seal's fsync of the file
    SRS_RETURN_IF_ERROR(backend_->WriteMeta(record, /*sync=*/false));  // to <id>.meta.tmp
    const std::string final_path = backend_->PiecePath(piece_id_);
    const std::string meta = backend_->MetaPath(piece_id_);
    if (rename(path_.c_str(), final_path.c_str()) != 0) return Errno("rename", path_);
    moved_ = true;
    if (rename((meta + ".tmp").c_str(), meta.c_str()) != 0) return Errno("rename", meta);
    meta_renamed_ = true;
    SRS_RETURN_IF_ERROR(FsyncFile(meta));
    // spool/ is not fsynced: should its old entry for the .h5 come back after a crash, startup
    // removes it from spool/, which leaves the committed piece (the same file) as it is.
    SRS_RETURN_IF_ERROR(FsyncDir(backend_->dir() + "/pieces"));
    published_ = true;
    // Remembered as verified only if the commit read it (else the store checks it later).
    if (record.bytes_verified) backend_->MarkVerified(piece_id_);
    return absl::OkStatus();
  }

 private:
  FileBackend* backend_;
  std::string piece_id_;
  std::string path_;
  int fd_;
  int64_t size_ = 0;
  std::future<absl::Status> durable_;  // an adopted file's fsync, started by Seal
  bool moved_ = false;
  bool meta_renamed_ = false;
  bool published_ = false;
};

// ---- FileBackend -----------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<FileBackend>> FileBackend::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("depot directory is empty");
  SRS_RETURN_IF_ERROR(MakeDir(dir));
  SRS_RETURN_IF_ERROR(MakeDir(dir + "/pieces"));
  SRS_RETURN_IF_ERROR(MakeDir(dir + "/spool"));
  std::vector<LeaseJournal::Entry> unfolded;
  SRS_ASSIGN_OR_RETURN(std::unique_ptr<LeaseJournal> journal,
                       LeaseJournal::Open(dir + "/leases.journal", &unfolded));
  return std::unique_ptr<FileBackend>(
      new FileBackend(dir, std::move(journal), std::move(unfolded)));
}

FileBackend::~FileBackend() {
  absl::MutexLock lock(&journal_mu_);
  if (journaled_.empty()) return;
  absl::Status folded = FoldJournalLocked();
  if (!folded.ok()) {
    SRS_LOG(WARNING) << "lease journal not folded at stop (the next start folds it): " << folded;
  }
}

std::string FileBackend::PiecePath(const std::string& piece_id) const {
  return absl::StrCat(dir_, "/pieces/", piece_id, ".h5");
}
std::string FileBackend::MetaPath(const std::string& piece_id) const {
  return absl::StrCat(dir_, "/pieces/", piece_id, ".meta");
}

absl::StatusOr<std::vector<PieceRecord>> FileBackend::LoadRecords() {
  // Puts in flight when the depot stopped were never acknowledged: drop them.
  for (const std::string& name : ListDir(dir_ + "/spool")) {
    SRS_LOG(INFO).Field("file", name) << "removing partial put left by a previous run";
    unlink(absl::StrCat(dir_, "/spool/", name).c_str());
  }
  std::vector<PieceRecord> records;
  const std::string pieces = dir_ + "/pieces/";
  for (const std::string& name : ListDir(pieces)) {
    std::string path = pieces + name;
    if (absl::EndsWith(name, ".tmp")) {
      unlink(path.c_str());
    } else if (absl::EndsWith(name, ".h5")) {
      std::string id = name.substr(0, name.size() - 3);
      if (access(MetaPath(id).c_str(), F_OK) != 0) {  // renamed, but never committed
        SRS_LOG(INFO).Field("piece", id) << "removing uncommitted piece left by a previous run";
        unlink(path.c_str());
      }
    } else if (absl::EndsWith(name, ".meta")) {
      std::string id = name.substr(0, name.size() - 5);
      absl::StatusOr<PieceRecord> record = ParseMeta(path);
      if (!record.ok() || record->info.piece_id() != id ||
          access(PiecePath(id).c_str(), F_OK) != 0) {
        SRS_LOG(WARNING).Field("piece", id) << "dropping unreadable or orphaned piece record";
        unlink(path.c_str());
        unlink(PiecePath(id).c_str());
        continue;
      }
      records.push_back(std::move(*record));
    }
  }
  // Pins and renewals made since the last fold: applied (to the piece each was written for),
  // then made the .meta files' own.
  absl::MutexLock lock(&journal_mu_);
  std::map<std::string, PieceRecord*> by_id;
  for (PieceRecord& record : records) by_id[record.info.piece_id()] = &record;
  for (const LeaseJournal::Entry& entry : unfolded_) {
    auto it = by_id.find(entry.piece_id);
    if (it == by_id.end() || it->second->info.xxh3_64() != entry.piece_xxh3) continue;
    it->second->info.set_lease_expires_unix_ms(entry.expires_unix_ms);
    journaled_[entry.piece_id] = entry;
  }
  unfolded_.clear();
  if (journaled_.empty() && journal_->bytes() == 0) return records;
  // Applied in memory already: a fold that fails (a full disk) leaves the journal for later and
  // does not keep the depot from serving its pieces.
  absl::Status folded = FoldJournalLocked();
  if (!folded.ok()) {
    SRS_LOG(WARNING) << "lease journal not folded at start (kept; folded later): " << folded;
  }
  return records;
}

absl::StatusOr<std::unique_ptr<StagedPiece>> FileBackend::Stage(const std::string& piece_id) {
  std::string path = absl::StrCat(dir_, "/spool/", piece_id, ".part");
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", path);
  return std::unique_ptr<StagedPiece>(new FileStagedPiece(this, piece_id, path, fd));
}

absl::StatusOr<std::string> FileBackend::SpoolPath(const std::string& piece_id) {
  return absl::StrCat(dir_, "/spool/", piece_id, ".h5");
}

absl::StatusOr<std::unique_ptr<StagedPiece>> FileBackend::AdoptSpool(const std::string& piece_id) {
  SRS_ASSIGN_OR_RETURN(std::string path, SpoolPath(piece_id));
  return std::unique_ptr<StagedPiece>(new FileStagedPiece(this, piece_id, path, -1));
}

void FileBackend::DiscardSpool(const std::string& piece_id) {
  unlink(absl::StrCat(dir_, "/spool/", piece_id, ".h5").c_str());
}

absl::Status FileBackend::CheckIntegrity(const PieceRecord& record) {
  const std::string& id = record.info.piece_id();
  const std::string path = PiecePath(id);
  auto stamp_of = [&](FileStamp* stamp) { return StampOf(path, stamp); };
  FileStamp before;
  if (!stamp_of(&before)) {
    return absl::DataLossError(absl::StrCat("piece ", id, ": file ", path, " is missing"));
  }
  if (before.size != record.info.size_bytes()) {
    return absl::DataLossError(absl::StrCat("piece ", id, ": file ", path, " has ", before.size,
                                            " bytes, expected ", record.info.size_bytes(),
                                            " (truncated or overwritten)"));
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = verified_.find(id);
    if (it != verified_.end() && it->second == before) return absl::OkStatus();
  }
  int64_t size = 0;
  SRS_ASSIGN_OR_RETURN(uint64_t digest, HashFile(path, &size));
  if (digest != record.info.xxh3_64() || size != record.info.size_bytes()) {
    return absl::DataLossError(absl::StrCat("piece ", id, ": file ", path, " is corrupt (checksum ",
                                            ChecksumToString(digest), ", expected ",
                                            ChecksumToString(record.info.xxh3_64()), ")"));
  }
  FileStamp after;
  absl::MutexLock lock(&mu_);
  // Cache only if the file did not change while it was being hashed.
  if (stamp_of(&after) && after == before) verified_[id] = before;
  return absl::OkStatus();
}

absl::Status FileBackend::ReadBytes(const std::string& piece_id, int64_t offset, size_t n,
                                    char* out) {
  const std::string path = PiecePath(piece_id);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("piece ", piece_id, ": ", strerror(errno)));
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, out + done, n - done, offset + static_cast<int64_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  close(fd);
  if (done != n) return absl::DataLossError(absl::StrCat("piece ", piece_id, ": short read"));
  return absl::OkStatus();
}

absl::Status FileBackend::ReadSelection(const std::string& piece_id, const std::string& dataset,
                                        ElementType wire_type,
                                        const std::vector<piece::Hyperslab>& selections, void* out,
                                        size_t out_bytes) {
  return Annotate(
      piece::ReadSelection(PiecePath(piece_id), dataset, wire_type, selections, out, out_bytes),
      absl::StrCat("piece ", piece_id));
}

absl::StatusOr<std::string> FileBackend::LocalPath(const std::string& piece_id) {
  return PiecePath(piece_id);
}

absl::Status FileBackend::WriteMeta(const PieceRecord& record, bool sync) {
  const std::string tmp = MetaPath(record.info.piece_id()) + ".tmp";
  std::string bytes = absl::StrCat(kMetaMagic, record.read_cap, "\n", record.manage_cap, "\n",
                                   record.info.SerializeAsString());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  absl::Status status = WriteAll(fd, bytes.data(), bytes.size(), tmp);
  if (status.ok() && sync && fsync(fd) != 0) status = Errno("fsync", tmp);
  close(fd);
  if (!status.ok()) unlink(tmp.c_str());
  return status;
}

absl::Status FileBackend::ReplaceMeta(const PieceRecord& record) {
  SRS_RETURN_IF_ERROR(WriteMeta(record));
  const std::string meta = MetaPath(record.info.piece_id());
  if (rename((meta + ".tmp").c_str(), meta.c_str()) != 0) return Errno("rename", meta);
  return absl::OkStatus();
}

absl::Status FileBackend::UpdateLeases(const std::vector<PieceRecord>& records) {
  std::vector<LeaseJournal::Entry> entries;
  for (const PieceRecord& record : records) {
    entries.push_back(
        {record.info.piece_id(), record.info.lease_expires_unix_ms(), record.info.xxh3_64()});
  }
  absl::MutexLock lock(&journal_mu_);
  SRS_RETURN_IF_ERROR(journal_->Append(entries));
  for (LeaseJournal::Entry& entry : entries) journaled_[entry.piece_id] = std::move(entry);
  if (journal_->bytes() < LeaseJournal::kCompactBytes) return absl::OkStatus();
  // The leases are durable already; a failed fold only leaves the journal longer.
  absl::Status folded = FoldJournalLocked();
  if (!folded.ok()) {
    SRS_LOG(WARNING) << "lease journal not folded: " << folded;
  }
  return absl::OkStatus();
}

absl::Status FileBackend::FoldJournalLocked() {
  for (const auto& [id, entry] : journaled_) {
    absl::StatusOr<PieceRecord> record = ParseMeta(MetaPath(id));
    if (!record.ok() || record->info.xxh3_64() != entry.piece_xxh3) continue;  // removed since
    if (record->info.lease_expires_unix_ms() == entry.expires_unix_ms) continue;
    record->info.set_lease_expires_unix_ms(entry.expires_unix_ms);
    SRS_RETURN_IF_ERROR(ReplaceMeta(*record));
  }
  SRS_RETURN_IF_ERROR(FsyncDir(dir_ + "/pieces"));
  SRS_RETURN_IF_ERROR(journal_->Reset());
  journaled_.clear();
  return absl::OkStatus();
}

int FileBackend::RemoveStrayWrites(absl::Time cutoff, const std::set<std::string>& live_ids) {
  int removed = 0;
  const std::string spool = dir_ + "/spool/";
  for (const std::string& name : ListDir(spool)) {
    struct stat st;
    const std::string path = spool + name;
    // A ticket's file (SpoolPath: <piece id>.h5) no put in flight holds.
    const bool orphan =
        absl::EndsWith(name, ".h5") && live_ids.count(name.substr(0, name.size() - 3)) == 0;
    if (!(absl::EndsWith(name, ".writing") || orphan) || lstat(path.c_str(), &st) != 0 ||
        S_ISDIR(st.st_mode)) {
      continue;
    }
    if (absl::FromUnixSeconds(st.st_mtim.tv_sec) >= cutoff) continue;
    SRS_LOG(INFO).Field("file", name) << "removing a writer's stray spool file";
    if (unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

absl::Status FileBackend::Remove(const std::string& piece_id) {
  absl::MutexLock journal_lock(&journal_mu_);
  journaled_.erase(piece_id);
  // The record first: a crash after it leaves a .h5 without a record, removed at startup.
  unlink(MetaPath(piece_id).c_str());
  unlink(PiecePath(piece_id).c_str());
  Forget(piece_id);
  return FsyncDir(dir_ + "/pieces");
}

bool FileBackend::StampOf(const std::string& path, FileStamp* stamp) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  *stamp = FileStamp{st.st_ino, st.st_size, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                     st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec};
  return true;
}

void FileBackend::MarkVerified(const std::string& piece_id) {
  FileStamp stamp;
  if (!StampOf(PiecePath(piece_id), &stamp)) return;
  absl::MutexLock lock(&mu_);
  verified_[piece_id] = stamp;
}

void FileBackend::Forget(const std::string& piece_id) {
  absl::MutexLock lock(&mu_);
  verified_.erase(piece_id);
}

}  // namespace depot
}  // namespace srs
