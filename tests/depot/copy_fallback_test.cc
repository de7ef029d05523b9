// Reads that fall back between two REAL copies of one piece (issue 13): the same piece is put
// into two srs-depot daemons, then one copy is corrupted on disk, deleted, or its depot killed,
// and the read goes through rss/client/copy_order.h (the order and fallback the library and
// `srs export` use) with real DepotClient ranged reads. The copies are made here by hand, so
// this does not need the write side's replication.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <vector>

#include "depot/client/depot_client.h"
#include "rss/client/copy_order.h"
#include "tests/depot/conformance.h"
#include "tests/depot/depot_process.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kElements = 4096;

class CopyFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-copy-fallback.XXXXXX";
    dir_ = mkdtemp(tmpl);
    key_ = MakeGrantKeyFile(dir_ + "/grant.key");
    for (int d = 0; d < 2; ++d) {
      auto process = DepotProcess::Start(SRS_DEPOT_BIN,
                                         {"--dir", DepotDir(d), "--grant-key", dir_ + "/grant.key"},
                                         dir_ + "/depot" + std::to_string(d) + ".log");
      ASSERT_TRUE(process.ok()) << process.status();
      depots_.push_back(std::move(*process));
      // A short RPC budget: a dead depot's UNAVAILABLE is retried only within it.
      clients_.push_back(
          std::move(DepotClient::Connect(depots_.back()->address(), absl::Seconds(3))).value());
    }
  }
  void TearDown() override {
    clients_.clear();
    depots_.clear();
    std::system(("rm -rf " + dir_).c_str());
  }
  std::string DepotDir(int d) const { return dir_ + "/depot" + std::to_string(d); }

  // Puts the same piece of old rank `rank` into both depots; its location lists both copies.
  PieceLocation PutTwice(int rank) {
    v1::PieceKey key = Key("fallback", 1, rank);
    const std::string image = MakePieceImage(key, kElements);
    PieceLocation location{rank, {}};
    for (int d = 0; d < 2; ++d) {
      auto put = clients_[d]->PutBytes(key, image, 0, GrantFor(key_, key));
      EXPECT_TRUE(put.ok()) << put.status();
      if (!put.ok()) continue;
      manage_caps_[rank].push_back(put->caps().manage());
      piece_files_[rank].push_back(DepotDir(d) + "/pieces/" + put->info().piece_id() + ".h5");
      location.copies.push_back(
          {"depot" + std::to_string(d), depots_[d]->address(), put->caps().read(), "ok", 0});
    }
    return location;
  }

  // Reads dataset "u" of `piece` through ReadAnyCopy; `tried` gets the depots asked, in order.
  absl::Status Read(const PieceLocation& piece, std::vector<double>* out,
                    std::vector<std::string>* tried) {
    out->assign(kElements, 0);
    return ReadAnyCopy(piece, "array 'u': old rank " + std::to_string(piece.rank) + "'s piece",
                       [&](const CopyLocation& copy) {
                         tried->push_back(copy.depot_id);
                         int d = copy.depot_id == "depot0" ? 0 : 1;
                         return clients_[d]->ReadRange(copy.read_cap, "u", ElementType::kDouble,
                                                       {{0, kElements, 1, kElements}}, out->data(),
                                                       out->size() * sizeof(double));
                       });
  }

  static void ExpectPieceValues(const std::vector<double>& u, int rank) {
    for (int64_t i = 0; i < kElements; ++i) {
      ASSERT_EQ(u[i], i + 0.5 + rank) << "element " << i;
    }
  }

  // Overwrites bytes in the middle of a stored piece file (same size: only the checksum tells).
  static void Corrupt(const std::string& path) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.good()) << path;
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    file.seekp(size / 2);
    const std::string junk(64, '\x5a');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }

  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
  std::vector<std::unique_ptr<DepotProcess>> depots_;
  std::vector<std::unique_ptr<DepotClient>> clients_;
  std::map<int, std::vector<std::string>> manage_caps_, piece_files_;
};

TEST_F(CopyFallbackTest, ACorruptThenAMissingCopyFallsBackAndTheLastErrorNamesBoth) {
  PieceLocation piece = PutTwice(0);
  ASSERT_EQ(piece.copies.size(), 2u);
  std::vector<double> u;
  std::vector<std::string> tried;
  ASSERT_TRUE(Read(piece, &u, &tried).ok());
  ExpectPieceValues(u, 0);
  EXPECT_EQ(tried, std::vector<std::string>{"depot0"});  // rank 0: the first copy first

  Corrupt(piece_files_[0][0]);
  tried.clear();
  absl::Status status = Read(piece, &u, &tried);
  ASSERT_TRUE(status.ok()) << status;
  ExpectPieceValues(u, 0);
  EXPECT_EQ(tried, (std::vector<std::string>{"depot0", "depot1"}));

  ASSERT_TRUE(clients_[1]->Delete(manage_caps_[0][1]).ok());
  tried.clear();
  status = Read(piece, &u, &tried);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(tried, (std::vector<std::string>{"depot0", "depot1"}));
  std::string message(status.message());
  EXPECT_THAT(message,
              HasSubstr("array 'u': old rank 0's piece: no copy could be read (2 copies)"));
  EXPECT_THAT(message, HasSubstr("depot depot0 (" + depots_[0]->address() + "): DATA_LOSS"));
  EXPECT_THAT(message, HasSubstr("corrupt"));
  EXPECT_THAT(message, HasSubstr("depot depot1 (" + depots_[1]->address() + "): NOT_FOUND"));
}

TEST_F(CopyFallbackTest, ADeadDepotFallsBackAndADownOneIsNotAsked) {
  PieceLocation piece = PutTwice(2);  // rank 2 of 2 copies: depot0 first as well
  ASSERT_EQ(piece.copies.size(), 2u);
  PieceLocation ordered = OrderCopies(piece, nullptr, {});
  ASSERT_EQ(ordered.copies[0].depot_id, "depot0");
  ASSERT_TRUE(depots_[0]->Stop(SIGKILL, absl::Seconds(10)).ok());
  std::vector<double> u;
  std::vector<std::string> tried;
  absl::Time start = absl::Now();
  absl::Status status = Read(ordered, &u, &tried);
  ASSERT_TRUE(status.ok()) << status;
  ExpectPieceValues(u, 2);
  EXPECT_EQ(tried, (std::vector<std::string>{"depot0", "depot1"}));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // the dead copy costs at most its budget

  // Once the RSS says depot0 is down, it is not asked at all.
  piece.copies[0].state = "depot_down";
  tried.clear();
  ASSERT_TRUE(Read(OrderCopies(piece, nullptr, {}), &u, &tried).ok());
  EXPECT_EQ(tried, std::vector<std::string>{"depot1"});
  ExpectPieceValues(u, 2);
}

}  // namespace
}  // namespace testing
}  // namespace srs
