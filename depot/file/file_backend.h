// The durable backend: pieces are HDF5 files in a POSIX directory, readable by h5dump in place.
//
//   <dir>/pieces/<piece_id>.h5     the piece (DESIGN.md §5)
//   <dir>/pieces/<piece_id>.meta   its record: "srs-depot-meta 1\n", the read and manage
//                                  capabilities (one line each), then the binary PieceInfo
//   <dir>/spool/                   puts in flight (streamed <id>.part, local <id>.h5, and a
//                                  same-host writer's <random>.writing before its ticket)
//
//   <dir>/leases.journal           lease changes (pins) not yet folded into the .meta files
//                                  (lease_journal.h)
//
// Durability: a piece is written in spool/ and fsynced, its .meta written to a temporary name,
// the .h5 and the .meta are renamed into pieces/ (in that order), then the .meta and pieces/
// are fsynced (a .meta that a crash left unreadable is dropped at startup with its .h5). A piece is
// committed once its .meta is in place; at startup spool/ is emptied and a .h5 without its .meta (a
// depot killed between the two renames) is removed, so a put that was never acknowledged is never
// visible. Delete removes the .meta first for the same reason. A lease change is durable once its
// journal record is; the journal is folded into the .meta files (each rewritten atomically, then
// pieces/ fsynced, then the journal emptied) at startup, when it passes LeaseJournal::kCompactBytes
// and when the depot stops. An srs-depot older than the journal that starts on a directory a newer
// one left after a crash would not see the journal's pins (its pieces would expire with their
// put-time lease): a clean stop folds it.
//
// Integrity before reads: the XXH3 of the whole file is checked against the record, and the
// result cached per (inode, size, mtime, ctime), so repeated ranged reads of a piece hash it
// once while any change to the file (flipped byte, truncation) is noticed.
#ifndef SRS_DEPOT_FILE_FILE_BACKEND_H_
#define SRS_DEPOT_FILE_FILE_BACKEND_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "depot/file/lease_journal.h"
#include "depot/piece_store.h"

namespace srs {
namespace depot {

class FileBackend : public PieceBackend {
 public:
  // Creates <dir>, pieces/ and spool/ as needed (mode 0700: the capabilities live here).
  static absl::StatusOr<std::unique_ptr<FileBackend>> Open(const std::string& dir);
  // Folds the lease journal into the .meta files (a failure is logged: the journal stays).
  ~FileBackend() override;

  std::string Describe() const override { return dir_; }
  absl::StatusOr<std::vector<PieceRecord>> LoadRecords() override;
  absl::StatusOr<std::unique_ptr<StagedPiece>> Stage(const std::string& piece_id) override;
  absl::StatusOr<std::string> SpoolPath(const std::string& piece_id) override;
  absl::StatusOr<std::unique_ptr<StagedPiece>> AdoptSpool(const std::string& piece_id) override;
  void DiscardSpool(const std::string& piece_id) override;
  absl::Status CheckIntegrity(const PieceRecord& record) override;
  absl::Status ReadBytes(const std::string& piece_id, int64_t offset, size_t n, char* out) override;
  absl::Status ReadSelection(const std::string& piece_id, const std::string& dataset,
                             ElementType wire_type, const std::vector<piece::Hyperslab>& selections,
                             void* out, size_t out_bytes) override;
  absl::StatusOr<std::string> LocalPath(const std::string& piece_id) override;
  absl::Status UpdateLeases(const std::vector<PieceRecord>& records) override;
  absl::Status Remove(const std::string& piece_id) override;
  int RemoveStrayWrites(absl::Time cutoff, const std::set<std::string>& live_ids) override;

  const std::string& dir() const { return dir_; }
  std::string PiecePath(const std::string& piece_id) const;
  std::string MetaPath(const std::string& piece_id) const;

 private:
  FileBackend(std::string dir, std::unique_ptr<LeaseJournal> journal,
              std::vector<LeaseJournal::Entry> unfolded)
      : dir_(std::move(dir)), journal_(std::move(journal)), unfolded_(std::move(unfolded)) {}
  friend class FileStagedPiece;
  // Writes <id>.meta.tmp (mode 0600), fsynced if `sync`.
  absl::Status WriteMeta(const PieceRecord& record, bool sync = true);
  // WriteMeta, then the rename over <id>.meta (the caller fsyncs pieces/).
  absl::Status ReplaceMeta(const PieceRecord& record);
  // Rewrites the .meta of every piece with a journaled lease, fsyncs pieces/, empties the journal.
  absl::Status FoldJournalLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(journal_mu_);
  void Forget(const std::string& piece_id);
  // Records the just-published file as verified: its bytes were hashed on the way in, so the
  // first read need not hash it again. Any later change moves mtime/ctime and voids this.
  void MarkVerified(const std::string& piece_id);

  const std::string dir_;
  struct FileStamp {
    uint64_t inode = 0;
    int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp& o) const {
      return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
    }
  };
  static bool StampOf(const std::string& path, FileStamp* stamp);
  absl::Mutex mu_;
  std::map<std::string, FileStamp> verified_ ABSL_GUARDED_BY(mu_);
  // Held by lease changes and by Remove (a fold must not bring back a removed piece's .meta).
  absl::Mutex journal_mu_;
  std::unique_ptr<LeaseJournal> journal_ ABSL_GUARDED_BY(journal_mu_);
  // The newest journaled lease of each piece since the last fold.
  std::map<std::string, LeaseJournal::Entry> journaled_ ABSL_GUARDED_BY(journal_mu_);
  // The journal's records found by Open, for LoadRecords to apply and fold.
  std::vector<LeaseJournal::Entry> unfolded_ ABSL_GUARDED_BY(journal_mu_);
};

// Durability helpers, shared with the benchmark's raw baseline.
absl::Status FsyncDir(const std::string& dir);
absl::StatusOr<uint64_t> HashFile(const std::string& path, int64_t* size);

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_FILE_FILE_BACKEND_H_
