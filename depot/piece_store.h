// The depot's storage engine, in two layers:
//
//  - PieceBackend: where the bytes of pieces live (depot/file/: a POSIX directory, durable;
//    depot/memory/: process memory, for tests). Small on purpose: stage bytes, adopt a spool
//    file, publish, read, remove, persist a record, reload records at startup.
//  - PieceStore: everything else, written once over any backend: capabilities, keys, leases,
//    capacity, checksum and HDF5 verification at commit, integrity checks before reads, ranged
//    reads streamed in bounded chunks. It knows nothing of gRPC; depot_service.cc is a thin
//    translation layer over it.
//
// One conformance suite (tests/depot/piece_store_conformance.h) runs against PieceStore over
// every backend and, through the real srs-depot binary, against the gRPC service.
//
//   auto backend = FileBackend::Open("/var/srs/depot");
//   PieceStore store(std::move(*backend), {.capacity_bytes = 0, .default_lease = absl::Hours(1)});
//   SRS_ASSIGN_OR_RETURN(auto put, store.BeginPut(header));
//   SRS_RETURN_IF_ERROR(put->Append(bytes));
//   SRS_ASSIGN_OR_RETURN(PutResult result, put->Commit(Xxh3(bytes), bytes.size()));
//
// Thread-safe: every method may be called concurrently (the gRPC server does).
#ifndef SRS_DEPOT_PIECE_STORE_H_
#define SRS_DEPOT_PIECE_STORE_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/datatype.h"
#include "common/piece_format.h"
#include "common/written_file_hash.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace depot {

// Bytes per chunk of every streamed transfer (reads and writes): the proto's "~1 MiB".
inline constexpr size_t kChunkBytes = 1 << 20;

// Input limits (docs/security.md, "Depots and TLS"): a job name of at most 256 bytes (the RSS's
// limit too), a lease of at most 366 days (a larger one would outlive any run and overflow the
// clock arithmetic), a Renew of at most 1 Mi capabilities (100 000 ranks x keep fits).
inline constexpr size_t kMaxJobNameBytes = 256;
inline constexpr int64_t kMaxLeaseSeconds = int64_t{366} * 24 * 3600;
inline constexpr size_t kMaxCapsPerRenew = size_t{1} << 20;

// What the depot remembers about a committed piece (the file backend's <id>.meta sidecar).
struct PieceRecord {
  v1::PieceInfo info;
  std::string read_cap;
  std::string manage_cap;
  // Not stored: whether the commit read every byte of the piece (a backend may then remember the
  // piece as verified); false when it trusted the writer's checksum (CommitLocalPut with one).
  bool bytes_verified = true;
};

// Receives the chunks of a read; returns false when the receiver is gone (stop reading).
using ChunkSink = std::function<bool(absl::string_view chunk)>;

// ---- the backend interface ---------------------------------------------------------------

// The bytes of one piece on their way in. Destroying it without Publish removes everything it
// wrote: an aborted or failed put leaves nothing behind.
class StagedPiece {
 public:
  virtual ~StagedPiece() = default;
  virtual absl::Status Append(absl::string_view bytes) = 0;
  // All bytes are in: make them durable (fsync) and return their size (no byte is read back:
  // Verify does that, once).
  struct Sealed {
    int64_t size = 0;
  };
  virtual absl::StatusOr<Sealed> Seal() = 0;
  // HDF5 structure, every dataset checksum, and the size and XXH3 of the whole piece as it is
  // stored, from one read of it (piece::VerifyPieceFile).
  virtual absl::StatusOr<piece::VerifiedFile> Verify() = 0;
  // The HDF5 structure and attributes only, no data read (commits that trust the writer's
  // checksum). Backends without a cheaper way verify everything.
  virtual absl::StatusOr<piece::PieceSummary> Summarize() {
    absl::StatusOr<piece::VerifiedFile> verified = Verify();
    if (!verified.ok()) return verified.status();
    return verified->summary;
  }
  // Makes the piece visible and durable under record.info.piece_id, with its record.
  virtual absl::Status Publish(const PieceRecord& record) = 0;
};

class PieceBackend {
 public:
  virtual ~PieceBackend() = default;
  // Human-readable location for logs ("/var/srs/depot", "memory").
  virtual std::string Describe() const = 0;
  // Every committed record found at startup (partial puts of a killed depot are discarded).
  virtual absl::StatusOr<std::vector<PieceRecord>> LoadRecords() = 0;
  virtual absl::StatusOr<std::unique_ptr<StagedPiece>> Stage(const std::string& piece_id) = 0;
  // Same-host fast path: where a writer on this host creates the piece file itself.
  // FAILED_PRECONDITION when the backend has no spool directory.
  virtual absl::StatusOr<std::string> SpoolPath(const std::string& piece_id) = 0;
  virtual absl::StatusOr<std::unique_ptr<StagedPiece>> AdoptSpool(const std::string& piece_id) = 0;
  virtual void DiscardSpool(const std::string& piece_id) = 0;
  // Whole-file check of a committed piece against record.info.xxh3_64 (DATA_LOSS naming it).
  virtual absl::Status CheckIntegrity(const PieceRecord& record) = 0;
  virtual absl::Status ReadBytes(const std::string& piece_id, int64_t offset, size_t n,
                                 char* out) = 0;
  virtual absl::Status ReadSelection(const std::string& piece_id, const std::string& dataset,
                                     ElementType wire_type,
                                     const std::vector<piece::Hyperslab>& selections, void* out,
                                     size_t out_bytes) = 0;
  // Path of a committed piece for same-host readers; FAILED_PRECONDITION if not a file.
  virtual absl::StatusOr<std::string> LocalPath(const std::string& piece_id) = 0;
  // Makes the new lease_expires_unix_ms of every record durable (Renew; 0 = pinned), all or
  // nothing from the caller's view: OK only once every one is.
  virtual absl::Status UpdateLeases(const std::vector<PieceRecord>& records) = 0;
  virtual absl::Status Remove(const std::string& piece_id) = 0;
  // Removes files same-host writers left in the spool, last changed before `cutoff`: under their
  // own names (`*.writing`, see depot/client/local_put.cc: a writer that died before renaming
  // its piece to its ticket's path), and at the path of a ticket no put holds any more (a ticket
  // reclaimed or replaced while its writer was still writing there: its file came after the
  // ticket's own clean-up). `live_ids`: the piece ids of the puts in flight, whose files stay.
  // Returns how many.
  virtual int RemoveStrayWrites(absl::Time cutoff, const std::set<std::string>& live_ids) {
    return 0;
  }
};

// ---- the store -----------------------------------------------------------------------------

struct PutResult {
  v1::Capabilities caps;
  v1::PieceInfo info;
};

// One streamed put. Destroying it before a successful Commit aborts the put.
class PutSession {
 public:
  virtual ~PutSession() = default;
  virtual absl::Status Append(absl::string_view bytes) = 0;
  // Checks the trailer against the bytes received, seals, verifies, publishes.
  virtual absl::StatusOr<PutResult> Commit(uint64_t xxh3_64, int64_t total_bytes) = 0;
};

struct LocalPutTicket {
  std::string put_id;
  std::string spool_path;
};

struct StoreOptions {
  int64_t capacity_bytes = 0;  // 0 = unlimited
  absl::Duration default_lease = absl::Hours(1);
  std::string depot_id;  // names the depot in logs
  // Clock for leases; tests move it forward.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class PieceStore {
 public:
  // Loads the backend's records (LoadRecords) and owns the backend.
  static absl::StatusOr<std::unique_ptr<PieceStore>> Open(std::unique_ptr<PieceBackend> backend,
                                                          StoreOptions options);
  ~PieceStore();

  absl::StatusOr<std::unique_ptr<PutSession>> BeginPut(const v1::PutHeader& header);
  // A ticket for `header`'s key (the caller checked the write grant); an uncommitted earlier
  // ticket of the same key is aborted first (a writer's retry whose first answer was lost).
  absl::StatusOr<LocalPutTicket> BeginLocalPut(const v1::PutHeader& header);
  // `written`: the writer's size and XXH3 of the file (WritePieceFileHashed). Then the commit
  // checks the size and the HDF5 metadata only, and the piece's bytes are checked against the
  // checksum by a background pass (and by the first read, if it comes first); without it every
  // dataset checksum is verified before the commit.
  absl::StatusOr<PutResult> CommitLocalPut(const std::string& put_id,
                                           const std::optional<FileDigest>& written = std::nullopt);
  // The piece key a local put in flight was begun for; NOT_FOUND like CommitLocalPut.
  absl::StatusOr<v1::PieceKey> LocalPutKey(const std::string& put_id);
  absl::Status AbortLocalPut(const std::string& put_id);
  // A retried CommitLocalPut whose first answer was lost (the put is committed, so its put id
  // is no longer known): the committed piece for `key` when its size and XXH3 are `written`,
  // with its capabilities, as the first commit answered. NOT_FOUND when no piece for `key` is
  // committed (the put was lost: redo it), ALREADY_EXISTS when another one is. The caller has
  // checked the write grant for `key`.
  absl::StatusOr<PutResult> CommittedPut(const v1::PieceKey& key, const FileDigest& written);

  // Reads verify the whole piece first; a corrupt or truncated piece is DATA_LOSS naming it.
  absl::Status Get(const std::string& read_cap, const ChunkSink& sink);
  // The stored bytes of the piece `read_cap` names, in order, for a copy to another depot
  // (Replicate): one read, hashed on the way instead of a verifying pass before it. When they do
  // not match the record (rot, truncation) the answer is DATA_LOSS naming the piece, returned
  // after the last chunk and before the caller finishes its put, so the copy stores nothing.
  absl::Status CopyOut(const std::string& read_cap, const ChunkSink& sink);
  absl::Status ReadRange(const std::string& read_cap, const std::string& dataset,
                         const std::string& wire_type,
                         const std::vector<piece::Hyperslab>& selections, const ChunkSink& sink);
  struct LocalOpen {
    std::string path;
    v1::PieceInfo info;
  };
  absl::StatusOr<LocalOpen> OpenLocal(const std::string& read_cap);

  // The piece's record, after the same integrity check as a read (DATA_LOSS naming the piece
  // when its file no longer matches its checksum).
  absl::StatusOr<v1::PieceInfo> Stat(const std::string& cap);
  // The record of the piece `manage_cap` names (capabilities included), for an operation that
  // needs the manage capability (Replicate: it then reads the piece with record.read_cap).
  // Same refusals as Delete: PERMISSION_DENIED for a missing/malformed/wrong capability,
  // NOT_FOUND for a piece that is gone. `op` names the caller in errors and logs.
  absl::StatusOr<PieceRecord> LookupManaged(const std::string& manage_cap, absl::string_view op);
  absl::Status Delete(const std::string& manage_cap);
  absl::Status Renew(const std::vector<std::string>& manage_caps, int64_t lease_seconds);
  absl::StatusOr<std::vector<v1::PieceInfo>> ListJob(const std::string& job);

  struct Usage {
    int64_t capacity_bytes = 0;  // 0 = unlimited
    int64_t used_bytes = 0;      // committed pieces plus space reserved by puts in flight
    int64_t pieces = 0;
  };
  Usage GetUsage();

  // Reclaims pieces whose lease ran out and local puts abandoned past their lease, and (once a
  // minute) writers' stray spool files an hour old (PieceBackend::RemoveStrayWrites); returns
  // how many it removed. The server
  // calls it periodically.
  int Sweep();

  const StoreOptions& options() const { return options_; }

 private:
  friend class StreamPut;
  struct Pending {
    std::string piece_id;
    std::string key;
    v1::PutHeader header;
    int64_t reserved = 0;
    absl::Time expires;
  };
  PieceStore(std::unique_ptr<PieceBackend> backend, StoreOptions options);

  absl::StatusOr<Pending> Reserve(const v1::PutHeader& header);
  // Aborts the uncommitted local put ticket of `key`, if there is one (BeginLocalPut).
  void DropLocalTicketOf(const v1::PieceKey& key);
  absl::Status GrowReservation(Pending& pending, int64_t total);
  void Release(const Pending& pending);
  // Verifies and publishes. `expected_xxh3`: the hash of the streamed bytes, which the stored
  // file must have (nullptr for a local put, whose file is the only copy). `written`: the local
  // writer's digest, trusted at commit (metadata checked, bytes checked in the background).
  absl::StatusOr<PutResult> Finish(Pending& pending, StagedPiece& staged,
                                   const StagedPiece::Sealed& sealed, const uint64_t* expected_xxh3,
                                   const FileDigest* written = nullptr);
  // The background check of pieces committed on their writer's checksum.
  void QueueVerification(const PieceRecord& record);
  void VerifyLoop();
  enum class CapKind { kRead, kManage, kEither };
  absl::StatusOr<PieceRecord> Lookup(const std::string& cap, CapKind kind, absl::string_view op);
  absl::StatusOr<PieceRecord> LookupForRead(const std::string& read_cap, absl::string_view op);

  const std::unique_ptr<PieceBackend> backend_;
  const StoreOptions options_;
  absl::Mutex mu_;
  std::map<std::string, PieceRecord> pieces_ ABSL_GUARDED_BY(mu_);  // by piece id
  std::map<std::string, std::string> keys_ ABSL_GUARDED_BY(mu_);    // key -> piece id
  std::map<std::string, Pending> local_puts_ ABSL_GUARDED_BY(mu_);  // by put id
  // Sweep's last look for stray writer files (RemoveStrayWrites).
  static constexpr absl::Duration kStrayCheckEvery = absl::Minutes(1);
  static constexpr absl::Duration kStrayWriteAge = absl::Hours(1);
  absl::Time last_stray_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t used_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reserved_bytes_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex verify_mu_;
  struct QueuedCheck {
    PieceRecord record;
    absl::Time queued;
  };
  std::deque<QueuedCheck> to_verify_ ABSL_GUARDED_BY(verify_mu_);
  pid_t verifier_tid_ ABSL_GUARDED_BY(verify_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(verify_mu_) = false;
  absl::Time last_queued_ ABSL_GUARDED_BY(verify_mu_);  // the newest commit's
  std::thread verifier_;                                // started by the first QueueVerification
};

// Splits selections into groups that each select at most max_elements elements, keeping the
// request order; used to stream ranged reads with bounded memory. Selections must be valid.
std::vector<std::vector<piece::Hyperslab>> SplitSelections(
    const std::vector<piece::Hyperslab>& selections, int64_t max_elements);

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_PIECE_STORE_H_
