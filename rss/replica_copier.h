// ReplicaCopier: what a repair (rss/rss_repair.cc) asks of depots — is this copy of a piece
// still there and intact (srs.depot.v1 Stat), and copy a piece from the depot holding it to
// another depot (srs.depot.v1 Replicate, depot to depot; the bytes never pass through the RSS).
// Behind an interface so the repair logic is unit-tested with a fake; pinning the new copy goes
// through the DepotJanitor like a commit's pins.
#ifndef SRS_RSS_REPLICA_COPIER_H_
#define SRS_RSS_REPLICA_COPIER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grant.h"

namespace srs {

// What a depot says about one stored piece.
struct StoredPiece {
  int64_t size_bytes = 0;
  uint64_t xxh3_64 = 0;  // of the whole file
};

// One copy to make: piece (job, epoch, rank) from the depot at `source_address` (which holds it
// under `source_manage_cap`) to the depot `target_depot_id` at `target_address`.
struct CopyOrder {
  std::string job;
  int64_t epoch = 0;
  int32_t rank = 0;
  std::string source_address;
  std::string source_manage_cap;
  std::string target_depot_id;
  std::string target_address;
};

// The new copy's capabilities on the target depot.
struct CopyMade {
  std::string read_cap;
  std::string manage_cap;
};

class ReplicaCopier {
 public:
  virtual ~ReplicaCopier() = default;
  // The depot's facts about the piece behind `read_cap`. NOT_FOUND when the depot no longer has
  // it; UNAVAILABLE / DEADLINE_EXCEEDED when the depot does not answer; a DATA_LOSS from the
  // depot means it found the piece corrupt. `size_bytes`: the piece's recorded size; the depot
  // reads the whole file to check it (once per file state), so the call's deadline grows with
  // it (1 s per 64 MiB), or a large healthy piece would look like a depot not answering.
  virtual absl::StatusOr<StoredPiece> Stat(const std::string& address, const std::string& read_cap,
                                           int64_t size_bytes) = 0;
  // Makes the copy (the target verifies the checksum; the source deletes a mismatching copy).
  // The copy has the target's default lease until the caller pins it. ALREADY_EXISTS when the
  // target already holds the key (e.g. an unpinned copy of an interrupted repair);
  // FAILED_PRECONDITION when `target_address` is no longer that depot's.
  virtual absl::StatusOr<CopyMade> Copy(const CopyOrder& order) = 0;
};

// The real copier: srs.depot.v1 stubs over cached channels (the RSS's TLS settings), a write
// grant per copy minted with the RSS's grant key for the piece's key, valid for copy_timeout
// plus a minute (source and target both check it).
class GrpcReplicaCopier : public ReplicaCopier {
 public:
  // `key`: the RSS's grant key (not owned, outlives this); null = no grant is sent (only tests
  // whose depots check no grants). `rpc_timeout` bounds a Stat (plus 1 s per 64 MiB); a Copy
  // streams a whole piece and gets `copy_timeout`.
  GrpcReplicaCopier(const GrantKey* key, absl::Duration rpc_timeout, absl::Duration copy_timeout);
  ~GrpcReplicaCopier() override;
  absl::StatusOr<StoredPiece> Stat(const std::string& address, const std::string& read_cap,
                                   int64_t size_bytes) override;
  absl::StatusOr<CopyMade> Copy(const CopyOrder& order) override;

 private:
  struct Stub;
  Stub* StubFor(const std::string& address);

  const GrantKey* key_;
  absl::Duration rpc_timeout_;
  absl::Duration copy_timeout_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace srs

#endif  // SRS_RSS_REPLICA_COPIER_H_
