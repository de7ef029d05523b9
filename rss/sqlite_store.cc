#include "rss/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rss/client/piece_copies.h"
#include "rss/sqlite_status.h"

namespace srs {
namespace {

// Version 1, the first release's schema (a fresh database starts here and climbs the ladder).
constexpr const char* kSchemaV1 = R"sql(
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
)sql";

absl::Status PiecesByDepotId(sqlite3* db);

// One step of the migration ladder: its SQL, then (if any) a C++ pass over the rows, in the same
// transaction.
struct MigrationStep {
  const char* sql;
  absl::Status (*code)(sqlite3* db);
};

// The migration ladder: step i takes the database from version i to i + 1 (kMigrations[0] makes
// version 1 from nothing). Append only; never edit a released step.
constexpr MigrationStep kMigrations[] = {
    {kSchemaV1, nullptr},
    // 1 -> 2: job ownership. Existing jobs get no owner ("").
    {"ALTER TABLE jobs ADD COLUMN owner_hash TEXT NOT NULL DEFAULT '';", nullptr},
    // 2 -> 3: depots known by id. Queued deletions name their depot's id; piece records get
    // copies[0] (from their legacy fields) with the depot id resolved by address.
    {"ALTER TABLE delete_queue ADD COLUMN depot_id TEXT NOT NULL DEFAULT '';", PiecesByDepotId},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == SqliteStore::kSchemaVersion,
              "one migration step per schema version");

// Binds the arguments to positions 1..N. Strings bind as blobs: serialized protos are binary.
void BindAll(sqlite3_stmt*, int) {}
template <typename... Rest>
void BindAll(sqlite3_stmt* stmt, int index, int64_t value, Rest&&... rest);
template <typename... Rest>
void BindAll(sqlite3_stmt* stmt, int index, const std::string& value, Rest&&... rest) {
  sqlite3_bind_blob(stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  BindAll(stmt, index + 1, std::forward<Rest>(rest)...);
}
template <typename... Rest>
void BindAll(sqlite3_stmt* stmt, int index, int64_t value, Rest&&... rest) {
  sqlite3_bind_int64(stmt, index, value);
  BindAll(stmt, index + 1, std::forward<Rest>(rest)...);
}

std::string ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  int size = sqlite3_column_bytes(stmt, column);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

// Runs `sql` (one statement) with `bind` applied, calling `row` for every result row.
absl::Status RunStatement(sqlite3* db, const char* sql,
                          const std::function<void(sqlite3_stmt*)>& bind,
                          const std::function<absl::Status(sqlite3_stmt*)>& row) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat("rss state: ", sqlite3_errmsg(db)));
  }
  if (bind) bind(stmt);
  int rc = SQLITE_DONE;
  absl::Status status;
  while (status.ok() && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (row) status = row(stmt);
  }
  if (status.ok() && rc != SQLITE_DONE) {
    status = absl::InternalError(absl::StrCat("rss state: ", sqlite3_errmsg(db)));
  }
  sqlite3_finalize(stmt);
  return status;
}

// Migration 2 -> 3 (C++ part). Rows are addressed by rowid: older rows hold their text keys as
// blobs, which an SQL comparison with text would not match.
absl::Status PiecesByDepotId(sqlite3* db) {
  // Address -> id of the depot registered there (the one seen last, when several were).
  std::map<std::string, std::pair<int64_t, std::string>> ids;
  SRS_RETURN_IF_ERROR(RunStatement(db, "SELECT record FROM depots", nullptr, [&](sqlite3_stmt* s) {
    rss::v1::DepotRecord depot;
    if (!depot.ParseFromString(ColumnBytes(s, 0))) {
      return absl::DataLossError("rss state: a row of table depots does not parse");
    }
    auto& slot = ids[depot.address()];
    if (slot.second.empty() || depot.last_seen_unix_ms() > slot.first) {
      slot = {depot.last_seen_unix_ms(), depot.depot_id()};
    }
    return absl::OkStatus();
  }));
  auto id_of = [&](const std::string& address) {
    auto it = ids.find(address);
    return it == ids.end() ? std::string() : it->second.second;
  };
  std::vector<std::pair<int64_t, std::string>> pieces;  // rowid, new record
  SRS_RETURN_IF_ERROR(
      RunStatement(db, "SELECT rowid, record FROM pieces", nullptr, [&](sqlite3_stmt* s) {
        rss::v1::PieceRecord record;
        if (!record.ParseFromString(ColumnBytes(s, 1))) {
          return absl::DataLossError("rss state: a row of table pieces does not parse");
        }
        record = WithLegacyMirror(std::move(record));
        for (rss::v1::PieceCopy& copy : *record.mutable_copies()) {
          if (copy.depot_id().empty()) copy.set_depot_id(id_of(copy.depot_address()));
        }
        record = WithLegacyMirror(std::move(record));
        pieces.emplace_back(sqlite3_column_int64(s, 0), record.SerializeAsString());
        return absl::OkStatus();
      }));
  for (const auto& [rowid, record] : pieces) {
    SRS_RETURN_IF_ERROR(RunStatement(
        db, "UPDATE pieces SET record = ? WHERE rowid = ?",
        [&](sqlite3_stmt* s) {
          sqlite3_bind_blob(s, 1, record.data(), static_cast<int>(record.size()), SQLITE_TRANSIENT);
          sqlite3_bind_int64(s, 2, rowid);
        },
        nullptr));
  }
  std::vector<std::pair<int64_t, std::string>> deletes;  // id, depot id
  SRS_RETURN_IF_ERROR(
      RunStatement(db, "SELECT id, depot FROM delete_queue", nullptr, [&](sqlite3_stmt* s) {
        std::string id = id_of(ColumnBytes(s, 1));
        if (!id.empty()) deletes.emplace_back(sqlite3_column_int64(s, 0), id);
        return absl::OkStatus();
      }));
  for (const auto& [rowid, id] : deletes) {
    SRS_RETURN_IF_ERROR(RunStatement(
        db, "UPDATE delete_queue SET depot_id = ? WHERE id = ?",
        [&](sqlite3_stmt* s) {
          sqlite3_bind_blob(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
          sqlite3_bind_int64(s, 2, rowid);
        },
        nullptr));
  }
  return absl::OkStatus();
}

template <typename Message>
absl::Status ParseColumn(sqlite3_stmt* stmt, int column, const char* table, Message* out) {
  if (!out->ParseFromString(ColumnBytes(stmt, column))) {
    return absl::DataLossError(
        absl::StrCat("rss state: a row of table ", table, " does not parse (database corrupt?)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  // The database holds run tokens and manage capabilities: owner-only. SQLite gives its -wal and
  // -shm files the database file's mode, so creating it 0600 first covers all three.
  int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    fchmod(fd, 0600);
    close(fd);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("rss state ", path, ": cannot open: ", message));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  sqlite3_busy_timeout(db, 5000);
  // FULL: a committed transaction is fsynced; WAL: readers never block the writer.
  SRS_RETURN_IF_ERROR(Annotate(store->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                                 "PRAGMA foreign_keys=ON;"),
                               path));
  SRS_RETURN_IF_ERROR(Annotate(store->Migrate(), path));
  return store;
}

SqliteStore::~SqliteStore() {
  for (auto& entry : statements_) sqlite3_finalize(entry.second);
  sqlite3_close(db_);
}

absl::Status SqliteStore::Error(const char* what) const {
  return SqliteStatus(db_, sqlite3_extended_errcode(db_), what, sqlite3_errmsg(db_));
}

absl::Status SqliteStore::ExecScript(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return SqliteStatus(db_, sqlite3_extended_errcode(db_), "", text);
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Migrate() {
  // BEGIN IMMEDIATE first: the version read and the steps are one transaction, so two processes
  // cannot both migrate (the state dir lock prevents that anyway) and a failed step undoes all.
  SRS_RETURN_IF_ERROR(Begin());
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr) != SQLITE_OK) {
    Rollback();
    return Error("reading schema version");
  }
  int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
  sqlite3_finalize(stmt);
  if (version > kSchemaVersion) {
    Rollback();
    return absl::FailedPreconditionError(absl::StrCat("state database has schema version ", version,
                                                      ", this srs-rss knows only ", kSchemaVersion,
                                                      " (use a newer srs-rss)"));
  }
  if (version == kSchemaVersion) return Commit();
  absl::Status status;
  for (int step = version; step < kSchemaVersion && status.ok(); ++step) {
    const MigrationStep& migration = kMigrations[step];
    status = ExecScript(migration.sql);
    if (status.ok() && migration.code != nullptr) status = migration.code(db_);
    status = Annotate(status,
                      absl::StrCat("migrating the schema from version ", step, " to ", step + 1));
  }
  if (status.ok()) {
    status = ExecScript(absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str());
  }
  if (!status.ok()) {
    Rollback();
    return status;
  }
  return Commit();
}

absl::StatusOr<sqlite3_stmt*> SqliteStore::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return Error("preparing a statement");
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

absl::Status SqliteStore::Begin() { return ExecScript("BEGIN IMMEDIATE"); }
absl::Status SqliteStore::Commit() { return ExecScript("COMMIT"); }
void SqliteStore::Rollback() { ExecScript("ROLLBACK").IgnoreError(); }

namespace {
// Runs a prepared write statement to completion.
template <typename... Args>
absl::Status Write(absl::StatusOr<sqlite3_stmt*> stmt, sqlite3* db, Args&&... args) {
  if (!stmt.ok()) return stmt.status();
  BindAll(*stmt, 1, std::forward<Args>(args)...);
  int rc = sqlite3_step(*stmt);
  sqlite3_reset(*stmt);
  if (rc != SQLITE_DONE) {
    return SqliteStatus(db, sqlite3_extended_errcode(db), "write failed", sqlite3_errmsg(db));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status SqliteStore::PutMeta(const std::string& key, int64_t value) {
  return Write(Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"), db_, key, value);
}

absl::Status SqliteStore::PutJob(const JobRow& row) {
  return Write(Prepare("INSERT OR REPLACE INTO jobs (name, next_epoch, keep, owner_hash) "
                       "VALUES (?, ?, ?, ?)"),
               db_, row.name, row.next_epoch, static_cast<int64_t>(row.keep), row.owner_hash);
}

absl::Status SqliteStore::PutRun(const RunRow& row) {
  return Write(Prepare("INSERT OR REPLACE INTO runs (run_id, job, seq, token, stop_request, "
                       "checkpoint_request, config) VALUES (?, ?, ?, ?, ?, ?, ?)"),
               db_, row.run_id, row.job, row.seq, row.token, row.stop_request,
               row.checkpoint_request, row.config.SerializeAsString() + row.ranks_wire);
}

absl::Status SqliteStore::PutCheckpoint(const CheckpointRow& row) {
  return Write(Prepare("INSERT OR REPLACE INTO checkpoints (job, epoch, request_id, summary) "
                       "VALUES (?, ?, ?, ?)"),
               db_, row.job, static_cast<int64_t>(row.summary.epoch()), row.request_id,
               row.summary.SerializeAsString());
}

absl::Status SqliteStore::PutPiece(const PieceRow& row) {
  return Write(Prepare("INSERT OR REPLACE INTO pieces (job, epoch, rank, record) "
                       "VALUES (?, ?, ?, ?)"),
               db_, row.job, row.epoch, static_cast<int64_t>(row.record.rank()),
               row.record.SerializeAsString());
}

absl::Status SqliteStore::DeletePieces(const std::string& job, int64_t epoch) {
  return Write(Prepare("DELETE FROM pieces WHERE job = ? AND epoch = ?"), db_, job, epoch);
}

absl::Status SqliteStore::PutDepot(const rss::v1::DepotRecord& depot) {
  return Write(Prepare("INSERT OR REPLACE INTO depots (depot_id, record) VALUES (?, ?)"), db_,
               depot.depot_id(), depot.SerializeAsString());
}

absl::Status SqliteStore::EnqueueDelete(DeleteTask* task) {
  SRS_RETURN_IF_ERROR(
      Write(Prepare("INSERT INTO delete_queue (depot, manage_cap, what, "
                    "attempts, next_try_unix_ms, depot_id) VALUES (?, ?, ?, ?, ?, ?)"),
            db_, task->depot, task->manage_cap, task->what, static_cast<int64_t>(task->attempts),
            task->next_try_unix_ms, task->depot_id));
  task->id = sqlite3_last_insert_rowid(db_);
  return absl::OkStatus();
}

absl::Status SqliteStore::UpdateDelete(const DeleteTask& task) {
  return Write(Prepare("UPDATE delete_queue SET attempts = ?, next_try_unix_ms = ? WHERE id = ?"),
               db_, static_cast<int64_t>(task.attempts), task.next_try_unix_ms, task.id);
}

absl::Status SqliteStore::RemoveDelete(int64_t id) {
  return Write(Prepare("DELETE FROM delete_queue WHERE id = ?"), db_, id);
}

namespace {
// Steps through a query, calling `row` for each result row.
template <typename RowFn>
absl::Status Query(absl::StatusOr<sqlite3_stmt*> stmt, sqlite3* db, RowFn row) {
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    absl::Status status = row(*stmt);
    if (!status.ok()) {
      sqlite3_reset(*stmt);
      return status;
    }
  }
  sqlite3_reset(*stmt);
  if (rc != SQLITE_DONE) {
    return SqliteStatus(db, sqlite3_extended_errcode(db), "read failed", sqlite3_errmsg(db));
  }
  return absl::OkStatus();
}

std::string Text(sqlite3_stmt* stmt, int column) { return ColumnBytes(stmt, column); }
}  // namespace

absl::StatusOr<StoreSnapshot> SqliteStore::LoadAll() {
  StoreSnapshot snap;
  SRS_RETURN_IF_ERROR(Query(Prepare("SELECT key, value FROM meta"), db_, [&](sqlite3_stmt* s) {
    snap.meta[Text(s, 0)] = sqlite3_column_int64(s, 1);
    return absl::OkStatus();
  }));
  SRS_RETURN_IF_ERROR(
      Query(Prepare("SELECT name, next_epoch, keep, owner_hash FROM jobs ORDER BY name"), db_,
            [&](sqlite3_stmt* s) {
              snap.jobs.push_back(
                  {Text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int(s, 2), Text(s, 3)});
              return absl::OkStatus();
            }));
  SRS_RETURN_IF_ERROR(Query(Prepare("SELECT run_id, job, seq, token, stop_request, "
                                    "checkpoint_request, config FROM runs ORDER BY job, seq"),
                            db_, [&](sqlite3_stmt* s) {
                              RunRow row{Text(s, 0),
                                         Text(s, 1),
                                         Text(s, 3),
                                         sqlite3_column_int64(s, 2),
                                         sqlite3_column_int64(s, 4),
                                         sqlite3_column_int64(s, 5),
                                         {},
                                         {},
                                         {},
                                         true};
                              SRS_RETURN_IF_ERROR(ParseColumn(s, 6, "runs", &row.config));
                              snap.runs.push_back(std::move(row));
                              return absl::OkStatus();
                            }));
  SRS_RETURN_IF_ERROR(
      Query(Prepare("SELECT job, request_id, summary FROM checkpoints ORDER BY job, epoch"), db_,
            [&](sqlite3_stmt* s) {
              CheckpointRow row{Text(s, 0), sqlite3_column_int64(s, 1), {}};
              SRS_RETURN_IF_ERROR(ParseColumn(s, 2, "checkpoints", &row.summary));
              snap.checkpoints.push_back(std::move(row));
              return absl::OkStatus();
            }));
  SRS_RETURN_IF_ERROR(
      Query(Prepare("SELECT job, epoch, record FROM pieces"), db_, [&](sqlite3_stmt* s) {
        PieceRow row{Text(s, 0), sqlite3_column_int64(s, 1), {}};
        SRS_RETURN_IF_ERROR(ParseColumn(s, 2, "pieces", &row.record));
        snap.pieces.push_back(std::move(row));
        return absl::OkStatus();
      }));
  SRS_RETURN_IF_ERROR(Query(Prepare("SELECT record FROM depots"), db_, [&](sqlite3_stmt* s) {
    rss::v1::DepotRecord depot;
    SRS_RETURN_IF_ERROR(ParseColumn(s, 0, "depots", &depot));
    snap.depots.push_back(std::move(depot));
    return absl::OkStatus();
  }));
  SRS_RETURN_IF_ERROR(Query(Prepare("SELECT id, depot, manage_cap, what, attempts, "
                                    "next_try_unix_ms, depot_id FROM delete_queue ORDER BY id"),
                            db_, [&](sqlite3_stmt* s) {
                              snap.deletes.push_back(
                                  {sqlite3_column_int64(s, 0), Text(s, 1), Text(s, 2), Text(s, 3),
                                   sqlite3_column_int(s, 4), sqlite3_column_int64(s, 5), Text(s, 6),
                                   false});
                              return absl::OkStatus();
                            }));
  return snap;
}

}  // namespace srs
