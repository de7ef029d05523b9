// Schema 2 -> 3 (depots known by id): a version-2 database built here by SQL, as the previous
// release left it, is opened by the current store and checked row by row.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "rss/rss_state.h"
#include "rss/sqlite_store.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using testing_util::TempDir;

// Schema version 2 exactly as released (version 1 plus jobs.owner_hash).
constexpr const char* kReleasedSchemaV2 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE jobs (name TEXT PRIMARY KEY, next_epoch INTEGER NOT NULL, keep INTEGER NOT NULL,
                   owner_hash TEXT NOT NULL DEFAULT '');
CREATE TABLE runs (run_id TEXT PRIMARY KEY, job TEXT NOT NULL, seq INTEGER NOT NULL,
                   token TEXT NOT NULL, stop_request INTEGER NOT NULL,
                   checkpoint_request INTEGER NOT NULL, config BLOB NOT NULL);
CREATE TABLE checkpoints (job TEXT NOT NULL, epoch INTEGER NOT NULL, request_id INTEGER NOT NULL,
                          summary BLOB NOT NULL, PRIMARY KEY (job, epoch));
CREATE TABLE pieces (job TEXT NOT NULL, epoch INTEGER NOT NULL, rank INTEGER NOT NULL,
                     record BLOB NOT NULL, PRIMARY KEY (job, epoch, rank));
CREATE TABLE depots (depot_id TEXT PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE delete_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, depot TEXT NOT NULL,
                           manage_cap TEXT NOT NULL, what TEXT NOT NULL,
                           attempts INTEGER NOT NULL, next_try_unix_ms INTEGER NOT NULL);
PRAGMA user_version=2;
)sql";

class Db {
 public:
  explicit Db(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~Db() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << " in " << sql;
    sqlite3_free(error);
  }
  // Binds `texts` as text (as hand-written SQL does), then `blobs`, then `ints`.
  void Insert(const std::string& sql, const std::vector<std::string>& texts,
              const std::vector<std::string>& blobs, const std::vector<int64_t>& ints) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int i = 1;
    for (const std::string& t : texts) {
      sqlite3_bind_text(stmt, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    }
    for (const std::string& b : blobs) {
      sqlite3_bind_blob(stmt, i++, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    }
    for (int64_t v : ints) sqlite3_bind_int64(stmt, i++, v);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sql;
    sqlite3_finalize(stmt);
  }
  int UserVersion() {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr);
    int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return version;
  }

 private:
  sqlite3* db_ = nullptr;
};

v1::DepotRecord Depot(const std::string& id, const std::string& address, int64_t last_seen) {
  v1::DepotRecord depot;
  depot.set_depot_id(id);
  depot.set_host("node1");
  depot.set_address(address);
  depot.set_last_seen_unix_ms(last_seen);
  return depot;
}

// Job "heat", committed epoch 2 of 3 ranks: ranks 0 and 1 on depot "d1" at 10.0.0.1:7000 (an
// older depot "gone" held that address before), rank 2 on an address no depot registered. Two
// queued deletions, one per address.
void MakeV2Database(const std::string& path) {
  Db db(path);
  db.Exec(kReleasedSchemaV2);
  db.Insert("INSERT INTO jobs (name, owner_hash, next_epoch, keep) VALUES (?, ?, ?, ?)",
            {"heat", "abc"}, {}, {3, 1});
  v1::Configuration config;
  config.set_run_id("heat-1");
  config.set_nprocs(3);
  config.set_state("stopped");
  db.Insert(
      "INSERT INTO runs (run_id, job, token, config, seq, stop_request, checkpoint_request)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)",
      {"heat-1", "heat", "0123456789abcdef0123456789abcdef"}, {config.SerializeAsString()},
      {1, 0, 0});
  v1::CheckpointSummary summary;
  summary.set_epoch(2);
  summary.set_run_id("heat-1");
  summary.set_state("committed");
  summary.set_nprocs(3);
  db.Insert("INSERT INTO checkpoints (job, summary, epoch, request_id) VALUES (?, ?, ?, ?)",
            {"heat"}, {summary.SerializeAsString()}, {2, 0});
  for (int rank = 0; rank < 3; ++rank) {
    v1::PieceRecord piece =
        testing_util::Piece(rank, 2, rank < 2 ? "10.0.0.1:7000" : "10.0.0.9:7000");
    db.Insert("INSERT INTO pieces (job, record, epoch, rank) VALUES (?, ?, ?, ?)", {"heat"},
              {piece.SerializeAsString()}, {2, rank});
  }
  db.Insert("INSERT INTO depots (depot_id, record) VALUES (?, ?)", {"gone"},
            {Depot("gone", "10.0.0.1:7000", 1000).SerializeAsString()}, {});
  db.Insert("INSERT INTO depots (depot_id, record) VALUES (?, ?)", {"d1"},
            {Depot("d1", "10.0.0.1:7000", 5000).SerializeAsString()}, {});
  for (const char* address : {"10.0.0.1:7000", "10.0.0.9:7000"}) {
    db.Insert(
        "INSERT INTO delete_queue (depot, manage_cap, what, attempts, next_try_unix_ms)"
        " VALUES (?, ?, ?, ?, ?)",
        {address, std::string("cap@") + address, "job old epoch 1 rank 0"}, {}, {2, 0});
  }
}

TEST(SchemaMigrationV3, PiecesGetCopiesByDepotIdAndDeletionsTheirDepotId) {
  TempDir dir;
  const std::string path = dir.path() + "/rss.db";
  MakeV2Database(path);
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto snap = (*store)->LoadAll();
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->pieces.size(), 3u);
  for (const PieceRow& row : snap->pieces) {
    const v1::PieceRecord& record = row.record;
    ASSERT_EQ(record.copies_size(), 1) << record.DebugString();
    const v1::PieceCopy& copy = record.copies(0);
    // Nothing of the legacy record is lost: its fields stay and become copies[0].
    EXPECT_EQ(copy.read_cap(), record.read_cap());
    EXPECT_EQ(copy.manage_cap(), record.manage_cap());
    EXPECT_EQ(copy.depot_address(), record.depot_address());
    EXPECT_EQ(record.size_bytes(), 8000);
    if (record.rank() < 2) {
      EXPECT_EQ(copy.depot_id(), "d1");  // the depot seen last at that address
      EXPECT_EQ(record.depot_id(), "d1");
    } else {
      EXPECT_EQ(copy.depot_id(), "");  // no depot registered there: found by address
    }
  }
  ASSERT_EQ(snap->deletes.size(), 2u);
  EXPECT_EQ(snap->deletes[0].depot, "10.0.0.1:7000");
  EXPECT_EQ(snap->deletes[0].depot_id, "d1");
  EXPECT_EQ(snap->deletes[0].attempts, 2);
  EXPECT_EQ(snap->deletes[1].depot_id, "");
  ASSERT_EQ(snap->jobs.size(), 1u);
  EXPECT_EQ(snap->jobs[0].owner_hash, "abc");
  store->reset();
  Db db(path);
  EXPECT_EQ(db.UserVersion(), 3);
}

TEST(SchemaMigrationV3, TheMigratedStateServesAResumeAtTheDepotsCurrentAddress) {
  TempDir dir;
  const std::string path = dir.path() + "/rss.db";
  MakeV2Database(path);
  testing_util::FakeJanitor janitor;
  RssStateOptions options;
  absl::Time now = absl::FromUnixMillis(6000);
  options.clock = [&now] { return now; };
  auto state = RssState::Open(path, &janitor, options);
  ASSERT_TRUE(state.ok()) << state.status();
  v1::RegisterDepotRequest moved;
  moved.set_depot_id("d1");
  moved.set_host("node1");
  moved.set_address("10.0.0.1:7777");
  ASSERT_TRUE((*state)->RegisterDepot(moved).ok());
  auto job = (*state)->GetJob("heat");
  ASSERT_TRUE(job.ok()) << job.status();
  const v1::CheckpointSummary& ckpt = job->checkpoints(0);
  ASSERT_EQ(ckpt.pieces_size(), 3);
  EXPECT_EQ(ckpt.pieces(0).depot_address(), "10.0.0.1:7777");
  EXPECT_EQ(ckpt.pieces(0).copies(0).state(), "ok");
  EXPECT_EQ(ckpt.pieces(2).copies(0).state(), "depot_unknown");
  // The migrated deletion of d1 goes to its new address.
  EXPECT_EQ((*state)->ProcessDeleteQueue(), 0);
  EXPECT_EQ(janitor.deleted_at().at("cap@10.0.0.1:7000"), "10.0.0.1:7777");
  EXPECT_EQ(janitor.deleted_at().at("cap@10.0.0.9:7000"), "10.0.0.9:7000");
}

TEST(SchemaMigrationV3, VersionThreeOpensAsItIsAndANewerOneIsRefused) {
  TempDir dir;
  const std::string path = dir.path() + "/rss.db";
  {
    auto store = SqliteStore::Open(path);  // created at the current version
    ASSERT_TRUE(store.ok()) << store.status();
  }
  {
    auto again = SqliteStore::Open(path);
    ASSERT_TRUE(again.ok()) << again.status();
  }
  {
    Db db(path);
    EXPECT_EQ(db.UserVersion(), 3);
    db.Exec("PRAGMA user_version=4");
  }
  auto newer = SqliteStore::Open(path);
  EXPECT_TRUE(absl::IsFailedPrecondition(newer.status())) << newer.status();
  EXPECT_THAT(std::string(newer.status().message()), ::testing::HasSubstr("schema version 4"));
}

}  // namespace
}  // namespace srs
