// Job ownership at the state layer, the schema 1 -> 2 migration, and the client's owner file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <string>

#include "common/owner_file.h"
#include "rss/job_owner.h"
#include "rss/rss_state.h"
#include "rss/sqlite_store.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::HasSubstr;
using testing_util::FakeJanitor;
using testing_util::RunRequest;
using testing_util::TempDir;

constexpr char kDepot[] = "127.0.0.1:9";

// The schema of the first release (user_version 1), exactly as it shipped.
constexpr const char* kReleasedSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, next_epoch INTEGER NOT NULL,
                                 keep INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, job TEXT NOT NULL,
                                 seq INTEGER NOT NULL, token TEXT NOT NULL,
                                 stop_request INTEGER NOT NULL,
                                 checkpoint_request INTEGER NOT NULL, config BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (job TEXT NOT NULL, epoch INTEGER NOT NULL,
                                        request_id INTEGER NOT NULL, summary BLOB NOT NULL,
                                        PRIMARY KEY (job, epoch));
CREATE TABLE IF NOT EXISTS pieces (job TEXT NOT NULL, epoch INTEGER NOT NULL,
                                   rank INTEGER NOT NULL, record BLOB NOT NULL,
                                   PRIMARY KEY (job, epoch, rank));
CREATE TABLE IF NOT EXISTS depots (depot_id TEXT PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS delete_queue (id INTEGER PRIMARY KEY AUTOINCREMENT,
                                         depot TEXT NOT NULL, manage_cap TEXT NOT NULL,
                                         what TEXT NOT NULL, attempts INTEGER NOT NULL,
                                         next_try_unix_ms INTEGER NOT NULL);
PRAGMA user_version=1;
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
  // Runs an INSERT with text/int64 arguments as given and blobs for serialized protos.
  void Insert(const std::string& sql, const std::vector<std::string>& blobs,
              const std::vector<int64_t>& ints) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int i = 1;
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

// A version-1 database as the previous release left it: job "legacy", one stopped run of 2
// ranks, a committed checkpoint at epoch 3 with both pieces.
void MakeReleasedV1Database(const std::string& path) {
  Db db(path);
  db.Exec(kReleasedSchemaV1);
  db.Insert("INSERT INTO jobs (name, next_epoch, keep) VALUES (?, ?, ?)", {"legacy"}, {4, 1});
  v1::Configuration config;
  config.set_run_id("legacy-1");
  config.set_nprocs(2);
  config.set_state("stopped");
  db.Insert(
      "INSERT INTO runs (run_id, job, token, config, seq, stop_request, "
      "checkpoint_request) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {"legacy-1", "legacy", "0123456789abcdef0123456789abcdef", config.SerializeAsString()},
      {1, 0, 0});
  v1::CheckpointSummary summary;
  summary.set_epoch(3);
  summary.set_run_id("legacy-1");
  summary.set_state("committed");
  summary.set_nprocs(2);
  v1::ArraySpec* array = summary.add_arrays();
  array->set_name("u");
  array->set_srs_type("double");
  array->set_global_count(20);
  array->mutable_distribution()->set_kind("block");
  db.Insert("INSERT INTO checkpoints (job, summary, epoch, request_id) VALUES (?, ?, ?, ?)",
            {"legacy", summary.SerializeAsString()}, {3, 0});
  for (int rank = 0; rank < 2; ++rank) {
    v1::PieceRecord piece = testing_util::Piece(rank, 3, kDepot);
    db.Insert("INSERT INTO pieces (job, record, epoch, rank) VALUES (?, ?, ?, ?)",
              {"legacy", piece.SerializeAsString()}, {3, rank});
  }
}

TEST(JobOwner, SecretsAreRandomAndOnlyTheirHashMatches) {
  std::string a = NewOwnerSecret(), b = NewOwnerSecret();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  std::string hash = OwnerSecretHash(a);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_NE(hash, a);
  // SHA-256("abc"), the FIPS 180-2 test vector.
  EXPECT_EQ(OwnerSecretHash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(OwnerSecretMatches(a, hash));
  EXPECT_FALSE(OwnerSecretMatches(b, hash));
  EXPECT_FALSE(OwnerSecretMatches("", hash));
  EXPECT_FALSE(OwnerSecretMatches(a, ""));
}

TEST(SchemaMigration, AReleasedVersionOneDatabaseMigratesAndKeepsItsCheckpoints) {
  TempDir dir;
  std::string path = dir.path() + "/rss.db";
  MakeReleasedV1Database(path);
  FakeJanitor janitor;
  {
    auto state = RssState::Open(path, &janitor, RssStateOptions());
    ASSERT_TRUE(state.ok()) << state.status();
    absl::StatusOr<v1::GetJobResponse> job = (*state)->GetJob("legacy");
    ASSERT_TRUE(job.ok()) << job.status();
    ASSERT_EQ(job->checkpoints_size(), 1);
    EXPECT_EQ(job->checkpoints(0).state(), "committed");
    EXPECT_EQ(job->checkpoints(0).pieces_size(), 2);

    // No owner yet: without the admin token nobody gets the manifest, and nothing changes.
    v1::RegisterRunRequest req = RunRequest("legacy", 3, kDepot);
    absl::StatusOr<v1::RegisterRunResponse> refused = (*state)->RegisterRun(req, false);
    EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("admin token"));
    req.set_mode(v1::REGISTER_FRESH);
    EXPECT_TRUE(absl::IsPermissionDenied((*state)->RegisterRun(req, false).status()));
    EXPECT_EQ((*state)->GetJob("legacy")->checkpoints(0).state(), "committed");

    // The admin token adopts it: resume from epoch 3 and a new owner secret.
    req.set_mode(v1::REGISTER_AUTO);
    absl::StatusOr<v1::RegisterRunResponse> adopted = (*state)->RegisterRun(req, true);
    ASSERT_TRUE(adopted.ok()) << adopted.status();
    EXPECT_TRUE(adopted->restart());
    EXPECT_EQ(adopted->manifest().epoch(), 3);
    EXPECT_EQ(adopted->manifest().pieces_size(), 2);
    EXPECT_FALSE(adopted->owner_secret().empty());
    EXPECT_TRUE((*state)->CheckOwner("legacy", adopted->owner_secret()).ok());
  }
  Db db(path);
  EXPECT_EQ(db.UserVersion(), SqliteStore::kSchemaVersion);
}

TEST(SchemaMigration, AFailedStepLeavesTheDatabaseAtItsVersion) {
  TempDir dir;
  std::string path = dir.path() + "/rss.db";
  MakeReleasedV1Database(path);
  {
    Db db(path);  // a column in the way: step 1 -> 2 fails
    db.Exec("ALTER TABLE jobs ADD COLUMN owner_hash TEXT");
  }
  auto store = SqliteStore::Open(path);
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("from version 1 to 2"));
  Db db(path);
  EXPECT_EQ(db.UserVersion(), 1);
}

TEST(SchemaMigration, ANewerSchemaIsRefused) {
  TempDir dir;
  std::string path = dir.path() + "/rss.db";
  {
    Db db(path);
    db.Exec("PRAGMA user_version=99");
  }
  auto store = SqliteStore::Open(path);
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
}

TEST(JobOwnership, OnlyTheOwnerOrTheAdminRegistersAnExistingJob) {
  TempDir dir;
  FakeJanitor janitor;
  auto state = RssState::Open(dir.path() + "/rss.db", &janitor, RssStateOptions());
  ASSERT_TRUE(state.ok());
  RssState& rss = **state;
  v1::RegisterRunRequest req = RunRequest("heat", 2, kDepot);
  absl::StatusOr<v1::RegisterRunResponse> first = rss.RegisterRun(req, false);
  ASSERT_TRUE(first.ok()) << first.status();
  std::string secret = first->owner_secret();
  ASSERT_EQ(secret.size(), 64u);
  ASSERT_TRUE(rss.FinishRun(first->run_id()).ok());

  for (v1::RegisterMode mode : {v1::REGISTER_AUTO, v1::REGISTER_FRESH, v1::REGISTER_RESUME}) {
    req.set_mode(mode);
    req.clear_owner_secret();
    EXPECT_TRUE(absl::IsUnauthenticated(rss.RegisterRun(req, false).status())) << mode;
    req.set_owner_secret(NewOwnerSecret());
    EXPECT_TRUE(absl::IsPermissionDenied(rss.RegisterRun(req, false).status())) << mode;
  }
  req.set_mode(v1::REGISTER_AUTO);
  req.set_owner_secret(secret);
  absl::StatusOr<v1::RegisterRunResponse> again = rss.RegisterRun(req, false);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->owner_secret().empty());     // handed out once only
  EXPECT_EQ(rss.GetJob("heat")->runs_size(), 2);  // the refusals registered nothing

  EXPECT_TRUE(rss.CheckOwner("heat", secret).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(rss.CheckOwner("heat", NewOwnerSecret())));
  EXPECT_TRUE(absl::IsPermissionDenied(rss.CheckOwner("unknown", secret)));
}

TEST(OwnerFile, StoresReplacesAndListsSecretsPrivately) {
  TempDir dir;
  std::string path = dir.path() + "/state/srs/owners";
  EXPECT_TRUE(absl::IsNotFound(ReadOwnerSecret(path, "h:1", "heat").status()));
  ASSERT_TRUE(StoreOwnerSecret(path, "h:1", "heat", "s1").ok());
  ASSERT_TRUE(StoreOwnerSecret(path, "h:1", "jacobi", "s2").ok());
  ASSERT_TRUE(StoreOwnerSecret(path, "h:2", "heat", "s3").ok());
  ASSERT_TRUE(StoreOwnerSecret(path, "h:1", "heat", "s4").ok());
  EXPECT_EQ(*ReadOwnerSecret(path, "h:1", "heat"), "s4");
  EXPECT_EQ(*ReadOwnerSecret(path, "h:2", "heat"), "s3");
  EXPECT_THAT(OwnedJobs(path, "h:1"), ::testing::UnorderedElementsAre("heat", "jacobi"));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir.path() + "/state/srs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(absl::IsInvalidArgument(StoreOwnerSecret(path, "h:1", "a\tb", "s")));
}

TEST(OwnerFile, DefaultFollowsXdgStateHome) {
  setenv("XDG_STATE_HOME", "/somewhere/state", 1);
  EXPECT_EQ(DefaultOwnerFile(), "/somewhere/state/srs/owners");
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(DefaultOwnerFile(), "/home/u/.local/state/srs/owners");
}

}  // namespace
}  // namespace srs
