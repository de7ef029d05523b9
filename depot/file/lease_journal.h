// A file depot's lease changes (Renew: a pin is lease 0, a renewal a new expiry), appended to one
// file and made durable by one fdatasync per call.
//
// Why a journal: the commit of a checkpoint waits for the RSS to pin every piece it names, and
// rewriting each piece's .meta (write, fsync, rename, fsync of pieces/) costs two file-system
// journal commits a piece: ~1.5 ms for the two pieces of a 2-rank checkpoint on this machine, a
// second for a thousand. Appended here, a pin of any number of pieces is one record each and one
// fdatasync. The .meta files stay the authority between restarts: the depot folds the journal
// into them when it starts (FileBackend::LoadRecords), when the journal grows past
// kCompactBytes, and when it stops cleanly, then empties it.
//
// Record (one line): "<piece_id> <expires_unix_ms> <piece xxh3, 16 hex> <xxh3 of what precedes,
// 16 hex>\n". The piece's checksum ties the record to the piece it was written for. Records are
// only appended and every Append ends in fdatasync, so a crash can only tear the tail: what
// follows the last newline is cut by Open before anything is appended after it. A whole line
// that fails its checksum (a damaged disk block) is skipped and logged; the records after it
// still count.
#ifndef SRS_DEPOT_FILE_LEASE_JOURNAL_H_
#define SRS_DEPOT_FILE_LEASE_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace srs {
namespace depot {

class LeaseJournal {
 public:
  // Past this size Append's caller folds the journal into the .meta files (~14000 records).
  static constexpr int64_t kCompactBytes = int64_t{1} << 20;

  struct Entry {
    std::string piece_id;         // [0-9a-zA-Z_-], 1..64 characters (the depot's own ids)
    int64_t expires_unix_ms = 0;  // 0 = pinned
    uint64_t piece_xxh3 = 0;
  };

  // Opens `path`, creating it (mode 0600) if absent, and returns the records in it, oldest first,
  // in `*entries`. A torn tail is cut off and damaged lines are skipped (both logged). Errors: the
  // file cannot be opened, read, cut or synced (INTERNAL; RESOURCE_EXHAUSTED when the disk is
  // full).
  static absl::StatusOr<std::unique_ptr<LeaseJournal>> Open(const std::string& path,
                                                            std::vector<Entry>* entries);
  ~LeaseJournal();
  LeaseJournal(const LeaseJournal&) = delete;
  LeaseJournal& operator=(const LeaseJournal&) = delete;

  // Appends `entries` and fdatasyncs: durable when OK. INVALID_ARGUMENT for a malformed piece
  // id; on a write error the file is cut back to where it was, so no half record stays before
  // the next append. Not thread-safe: the caller serializes.
  absl::Status Append(const std::vector<Entry>& entries);
  // Empties the journal (after its records were made durable elsewhere).
  absl::Status Reset();
  int64_t bytes() const { return bytes_; }

  // The line for `entry` (exposed for tests that tear or corrupt records).
  static std::string Format(const Entry& entry);

 private:
  LeaseJournal(std::string path, int fd, int64_t bytes)
      : path_(std::move(path)), fd_(fd), bytes_(bytes) {}
  std::string path_;
  int fd_;
  int64_t bytes_;
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_FILE_LEASE_JOURNAL_H_
