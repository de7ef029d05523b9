// The file depot's lease journal (depot/file/lease_journal.h) on its own, then through
// FileBackend and PieceStore: pins survive a crash (no fold at stop) and are folded into the
// .meta files at the next start; a removed piece is not brought back by a fold.
#include "depot/file/lease_journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/checksum.h"
#include "depot/file/file_backend.h"
#include "depot/piece_store.h"
#include "tests/depot/conformance.h"

namespace srs {
namespace testing {
namespace {

using depot::LeaseJournal;

class LeaseJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-lease-journal.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/leases.journal";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::vector<LeaseJournal::Entry> Reopen() {
    std::vector<LeaseJournal::Entry> entries;
    auto journal = LeaseJournal::Open(path_, &entries);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return entries;
  }
  std::string Contents() {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void Write(const std::string& bytes) { std::ofstream(path_, std::ios::binary) << bytes; }
  std::string dir_, path_;
};

TEST_F(LeaseJournalTest, RecordsComeBackInOrderAfterReopen) {
  {
    std::vector<LeaseJournal::Entry> none;
    auto journal = LeaseJournal::Open(path_, &none);
    ASSERT_TRUE(journal.ok()) << journal.status();
    EXPECT_TRUE(none.empty());
    ASSERT_TRUE((*journal)->Append({{"aa01", 0, 7}, {"bb02", 1800000000000, ~uint64_t{0}}}).ok());
    ASSERT_TRUE((*journal)->Append({{"aa01", 5, 7}}).ok());
    ASSERT_TRUE((*journal)->Append({}).ok());
    EXPECT_EQ((*journal)->bytes(), static_cast<int64_t>(Contents().size()));
  }
  std::vector<LeaseJournal::Entry> entries = Reopen();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].piece_id, "aa01");
  EXPECT_EQ(entries[0].expires_unix_ms, 0);
  EXPECT_EQ(entries[0].piece_xxh3, 7u);
  EXPECT_EQ(entries[1].piece_id, "bb02");
  EXPECT_EQ(entries[1].expires_unix_ms, 1800000000000);
  EXPECT_EQ(entries[1].piece_xxh3, ~uint64_t{0});
  EXPECT_EQ(entries[2].expires_unix_ms, 5);
}

TEST_F(LeaseJournalTest, ATornTailIsCutBeforeTheNextAppend) {
  std::string whole = LeaseJournal::Format({"aa01", 0, 1});
  std::string torn = LeaseJournal::Format({"bb02", 0, 2});
  Write(whole + torn.substr(0, torn.size() / 2));
  {
    std::vector<LeaseJournal::Entry> entries;
    auto journal = LeaseJournal::Open(path_, &entries);
    ASSERT_TRUE(journal.ok()) << journal.status();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(Contents(), whole) << "the torn record must be cut at open";
    ASSERT_TRUE((*journal)->Append({{"cc03", 0, 3}}).ok());
  }
  std::vector<LeaseJournal::Entry> entries = Reopen();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].piece_id, "cc03") << "a record appended after a cut tail is read back";
}

TEST_F(LeaseJournalTest, ADamagedRecordIsSkippedAndTheOnesAfterItStillCount) {
  std::string a = LeaseJournal::Format({"aa01", 0, 1});
  std::string b = LeaseJournal::Format({"bb02", 0, 2});
  std::string c = LeaseJournal::Format({"cc03", 0, 3});
  b[1] ^= 1;  // a flipped bit: its checksum no longer matches
  Write(a + b + c);
  std::vector<LeaseJournal::Entry> entries = Reopen();
  ASSERT_EQ(entries.size(), 2u) << "acknowledged pins after a damaged line must not be dropped";
  EXPECT_EQ(entries[0].piece_id, "aa01");
  EXPECT_EQ(entries[1].piece_id, "cc03");
  EXPECT_EQ(Contents(), a + b + c) << "whole lines are kept, damaged or not";
  Write(a + "garbage without a newline");
  EXPECT_EQ(Reopen().size(), 1u);
  EXPECT_EQ(Contents(), a);
  Write("\n\n" + a);
  EXPECT_EQ(Reopen().size(), 1u);
}

TEST_F(LeaseJournalTest, MalformedEntriesAreRefusedAndResetEmpties) {
  std::vector<LeaseJournal::Entry> none;
  auto journal = LeaseJournal::Open(path_, &none);
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ((*journal)->Append({{"has space", 0, 1}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*journal)->Append({{"", 0, 1}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*journal)->Append({{"a\nb", 0, 1}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*journal)->Append({{"ok", -1, 1}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*journal)->Append({{std::string(65, 'a'), 0, 1}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*journal)->bytes(), 0) << "a refused append writes nothing";
  ASSERT_TRUE((*journal)->Append({{"ok", 0, 1}}).ok());
  ASSERT_TRUE((*journal)->Reset().ok());
  EXPECT_EQ((*journal)->bytes(), 0);
  EXPECT_EQ(Contents(), "");
  ASSERT_TRUE((*journal)->Append({{"again", 0, 1}}).ok());
  EXPECT_EQ(Reopen().size(), 1u);
}

TEST_F(LeaseJournalTest, AnUnreadableJournalFailsOpenClearly) {
  ASSERT_EQ(mkdir(path_.c_str(), 0700), 0);  // a directory where the file should be
  std::vector<LeaseJournal::Entry> entries;
  auto journal = LeaseJournal::Open(path_, &entries);
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.status().message().find(path_), std::string::npos) << journal.status();
}

// ---- through the file backend and the store ----------------------------------------------

struct Depot {
  std::unique_ptr<depot::PieceStore> store;
  static Depot Open(const std::string& dir, absl::Time now) {
    depot::StoreOptions options;
    options.now = [now] { return now; };
    auto backend = depot::FileBackend::Open(dir);
    EXPECT_TRUE(backend.ok()) << backend.status();
    return Depot{std::move(depot::PieceStore::Open(std::move(*backend), options)).value()};
  }
  // What kill -9 leaves: nothing folded (the store and backend are never destroyed).
  void Crash() { (void)store.release(); }
};

v1::PutResponse PutWithLease(depot::PieceStore* store, const v1::PieceKey& key, int64_t lease) {
  std::string image = MakePieceImage(key, 100);
  v1::PutHeader header;
  *header.mutable_key() = key;
  header.set_size_hint(static_cast<int64_t>(image.size()));
  header.set_lease_seconds(lease);
  auto session = std::move(store->BeginPut(header)).value();
  EXPECT_TRUE(session->Append(image).ok());
  auto result = session->Commit(Xxh3(image.data(), image.size()), image.size());
  EXPECT_TRUE(result.ok()) << result.status();
  v1::PutResponse response;
  *response.mutable_caps() = result->caps;
  *response.mutable_info() = result->info;
  return response;
}

off_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST_F(LeaseJournalTest, PinsSurviveACrashAndAreFoldedAtTheNextStart) {
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  const std::string depot_dir = dir_ + "/depot", journal = depot_dir + "/leases.journal";
  v1::PutResponse pinned, renewed, removed, leased;
  {
    Depot depot = Depot::Open(depot_dir, t0);
    pinned = PutWithLease(depot.store.get(), Key("lj", 1, 0), 10);
    renewed = PutWithLease(depot.store.get(), Key("lj", 1, 1), 10);
    removed = PutWithLease(depot.store.get(), Key("lj", 1, 2), 10);
    leased = PutWithLease(depot.store.get(), Key("lj", 1, 3), 10);
    ASSERT_TRUE(depot.store->Renew({pinned.caps().manage(), removed.caps().manage()}, 0).ok());
    ASSERT_TRUE(depot.store->Renew({renewed.caps().manage()}, 3600).ok());
    ASSERT_TRUE(depot.store->Delete(removed.caps().manage()).ok());
    EXPECT_GT(FileSize(journal), 0) << "the pins live in the journal until a fold";
    depot.Crash();
  }
  // Half an hour later: without the journal's pin and renewal both would have expired.
  Depot depot = Depot::Open(depot_dir, t0 + absl::Minutes(30));
  EXPECT_EQ(FileSize(journal), 0) << "folded at start";
  EXPECT_EQ(depot.store->Sweep(), 1) << "only the piece that was never renewed expires";
  EXPECT_EQ(depot.store->Stat(leased.caps().read()).status().code(), absl::StatusCode::kNotFound);
  auto stat = depot.store->Stat(pinned.caps().read());
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->lease_expires_unix_ms(), 0);
  stat = depot.store->Stat(renewed.caps().read());
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->lease_expires_unix_ms(), absl::ToUnixMillis(t0 + absl::Seconds(3600)));
  EXPECT_EQ(depot.store->Stat(removed.caps().read()).status().code(), absl::StatusCode::kNotFound)
      << "a removed piece must not come back";
  EXPECT_EQ(access((depot_dir + "/pieces/" + removed.info().piece_id() + ".meta").c_str(), F_OK),
            -1);
  depot.store.reset();
  // The .meta files now hold the leases: a start with an emptied journal sees the same.
  Depot again = Depot::Open(depot_dir, t0 + absl::Hours(5));
  EXPECT_EQ(again.store->Sweep(), 1) << "the renewal has run out, the pin has not";
  EXPECT_TRUE(again.store->Stat(pinned.caps().read()).ok());
  EXPECT_EQ(again.store->Stat(renewed.caps().read()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LeaseJournalTest, AFoldThatFailsAtStartKeepsTheJournalAndTheDepotServes) {
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  const std::string depot_dir = dir_ + "/depot", journal = depot_dir + "/leases.journal";
  v1::PutResponse pinned;
  {
    Depot depot = Depot::Open(depot_dir, t0);
    pinned = PutWithLease(depot.store.get(), Key("lj-full", 1, 0), 10);
    ASSERT_TRUE(depot.store->Renew({pinned.caps().manage()}, 0).ok());
    depot.Crash();
  }
  // The .meta cannot be rewritten (as on a full disk): a directory where its temporary goes.
  const std::string blocker = depot_dir + "/pieces/" + pinned.info().piece_id() + ".meta.tmp";
  ASSERT_EQ(mkdir(blocker.c_str(), 0700), 0);
  {
    Depot depot = Depot::Open(depot_dir, t0 + absl::Hours(2));
    ASSERT_NE(depot.store, nullptr);
    EXPECT_EQ(depot.store->Sweep(), 0) << "the journal's pin holds although the fold failed";
    auto stat = depot.store->Stat(pinned.caps().read());
    ASSERT_TRUE(stat.ok()) << stat.status();
    EXPECT_EQ(stat->lease_expires_unix_ms(), 0);
    EXPECT_GT(FileSize(journal), 0) << "kept for a later fold";
    depot.Crash();
  }
  ASSERT_EQ(rmdir(blocker.c_str()), 0);
  Depot depot = Depot::Open(depot_dir, t0 + absl::Hours(3));
  EXPECT_EQ(FileSize(journal), 0);
  EXPECT_EQ(depot.store->Stat(pinned.caps().read())->lease_expires_unix_ms(), 0);
}

TEST_F(LeaseJournalTest, ACleanStopFoldsTheJournal) {
  const std::string depot_dir = dir_ + "/depot";
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  {
    Depot depot = Depot::Open(depot_dir, t0);
    v1::PutResponse put = PutWithLease(depot.store.get(), Key("lj-stop", 1, 0), 10);
    ASSERT_TRUE(depot.store->Renew({put.caps().manage()}, 0).ok());
    EXPECT_GT(FileSize(depot_dir + "/leases.journal"), 0);
  }
  EXPECT_EQ(FileSize(depot_dir + "/leases.journal"), 0)
      << "an older srs-depot started on this directory must find the pins in the .meta files";
}

}  // namespace
}  // namespace testing
}  // namespace srs
