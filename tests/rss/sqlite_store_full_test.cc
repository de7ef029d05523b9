// A full disk under the RSS's state database is RESOURCE_EXHAUSTED (issue 14: out of space is not
// an internal error), not INTERNAL "database or disk is full". The disk is made "full" with
// SQLite's max_page_count, set on every connection this process opens (sqlite3_auto_extension),
// so the store under test is the real one, unchanged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "rss/sqlite_store.h"
#include "tests/rss/rss_test_util.h"

namespace srs {
namespace {

using ::testing::HasSubstr;

// Room for the schema and a few small rows, not for megabytes of pieces.
int CapPages(sqlite3* db, char**, const sqlite3_api_routines*) {
  return sqlite3_exec(db, "PRAGMA max_page_count=40", nullptr, nullptr, nullptr);
}

TEST(SqliteStoreFullTest, FullDatabaseIsResourceExhausted) {
  ASSERT_EQ(sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(&CapPages)), SQLITE_OK);
  testing_util::TempDir dir;
  auto store = SqliteStore::Open(dir.path() + "/rss.db");
  ASSERT_TRUE(store.ok()) << store.status();
  absl::Status status;
  for (int rank = 0; rank < 1000 && status.ok(); ++rank) {
    PieceRow row;
    row.job = "heat";
    row.epoch = 1;
    row.record.set_rank(rank);
    row.record.set_manage_cap(std::string(16 * 1024, 'x'));
    status = (*store)->PutPiece(row);
  }
  sqlite3_reset_auto_extension();
  ASSERT_FALSE(status.ok()) << "40 pages held 1000 rows of 16 KiB?";
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("full"));
}

}  // namespace
}  // namespace srs
