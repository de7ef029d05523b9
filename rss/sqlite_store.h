// SqliteStore: the RSS's durable state, one SQLite database in the state directory.
//
// Durability: WAL journal with synchronous=FULL, so a transaction that returned from Commit() is
// on disk and survives kill -9 of the daemon and a power cut. Callers wrap every state change in
// one Begin()/Commit() pair; nothing is written outside a transaction. The schema is versioned
// with PRAGMA user_version: an unknown (newer) version is refused instead of being misread, an
// older one is brought up the migration ladder (sqlite_store.cc, kMigrations), every step from
// its version to kSchemaVersion in ONE transaction, so a failed step leaves the database as it
// was; a step is SQL plus, where rows must be rewritten, a C++ pass in the same transaction.
// Versions: 1 = the first release; 2 = jobs.owner_hash (job ownership; jobs migrated from
// 1 have none until the admin token adopts them, see docs/security.md); 3 = depots known by id
// (issue 13): delete_queue.depot_id, and every piece record rewritten with copies[0] taken from
// its legacy fields and its depot_id resolved from the depots table by address (left "" when no
// depot was registered there; such a copy is then found by its recorded address).
//
// Rows carry the srs.rss.v1 messages as serialized blobs (configurations, checkpoint summaries,
// piece records, depots): those messages are the RSS's vocabulary, and blobs keep the schema
// stable when fields are added to the proto.
//
// Not thread-safe: RssState serializes all access under its mutex.
#ifndef SRS_RSS_SQLITE_STORE_H_
#define SRS_RSS_SQLITE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "srs/rss/v1/rss.pb.h"

struct sqlite3;
struct sqlite3_stmt;

namespace srs {

struct JobRow {
  std::string name;
  int64_t next_epoch = 1;  // epochs are monotonic per job, never reused
  int32_t keep = 1;
  std::string owner_hash;  // SHA-256 hex of the owner secret; "" = no owner (migrated from v1)
};

struct RunRow {
  std::string run_id;
  std::string job;
  std::string token;
  int64_t seq = 0;                 // 1 for the job's first run
  int64_t stop_request = 0;        // pending stop request id, 0 = none
  int64_t checkpoint_request = 0;  // pending checkpoint request id, 0 = none
  // Stored as one blob: config serialized, then ranks_wire. The state keeps config without its
  // ranks and the ranks packed in ranks_wire (rss/run_ranks.h); LoadAll returns them unpacked
  // (all in config) and PutRun takes either shape.
  rss::v1::Configuration config;
  std::string ranks_wire;
  std::vector<std::string> hosts;  // distinct hosts of the ranks (packed rows only), if
  bool hosts_complete = true;      // there are at most kMaxCachedHosts of them
};

struct CheckpointRow {
  std::string job;
  int64_t request_id = 0;              // the RunEvent it answered, 0 = none
  rss::v1::CheckpointSummary summary;  // epoch, run_id, state, ...; pieces kept in their table
};

struct PieceRow {
  std::string job;
  int64_t epoch = 0;
  rss::v1::PieceRecord record;  // with its manage capability
};

// A piece to delete from a depot, retried with backoff until the depot answers.
struct DeleteTask {
  int64_t id = 0;
  std::string depot;
  std::string manage_cap;
  std::string what;  // "job heat epoch 3 rank 1", for logs
  int32_t attempts = 0;
  int64_t next_try_unix_ms = 0;
  // The depot by id (schema 3): `depot` is then only the address it had when queued, and the
  // deletion goes to the depot's current address. "" for a depot that was never registered.
  std::string depot_id;
  bool depot_down = false;  // not stored: set for one round of ProcessDeleteQueue
};

struct StoreSnapshot {
  std::map<std::string, int64_t> meta;
  std::vector<JobRow> jobs;
  std::vector<RunRow> runs;                // ordered by (job, seq)
  std::vector<CheckpointRow> checkpoints;  // ordered by (job, epoch)
  std::vector<PieceRow> pieces;
  std::vector<rss::v1::DepotRecord> depots;
  std::vector<DeleteTask> deletes;
};

class SqliteStore {
 public:
  static constexpr int kSchemaVersion = 3;

  // Opens (creating if needed) the database at `path` and migrates an older schema.
  // FAILED_PRECONDITION if its schema is newer than this binary understands; INTERNAL with
  // SQLite's message on I/O or corruption errors or a failed migration (nothing changed then).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status Begin();
  absl::Status Commit();
  void Rollback();

  absl::Status PutMeta(const std::string& key, int64_t value);
  absl::Status PutJob(const JobRow& row);
  absl::Status PutRun(const RunRow& row);
  absl::Status PutCheckpoint(const CheckpointRow& row);
  absl::Status PutPiece(const PieceRow& row);
  absl::Status DeletePieces(const std::string& job, int64_t epoch);
  absl::Status PutDepot(const rss::v1::DepotRecord& depot);
  // Sets task->id.
  absl::Status EnqueueDelete(DeleteTask* task);
  absl::Status UpdateDelete(const DeleteTask& task);
  absl::Status RemoveDelete(int64_t id);

  absl::StatusOr<StoreSnapshot> LoadAll();

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  // Brings the schema from PRAGMA user_version up to kSchemaVersion in one transaction.
  absl::Status Migrate();
  absl::Status ExecScript(const char* sql);
  // Returns a cached prepared statement, reset and with bindings cleared.
  absl::StatusOr<sqlite3_stmt*> Prepare(const char* sql);
  absl::Status Error(const char* what) const;

  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace srs

#endif  // SRS_RSS_SQLITE_STORE_H_
