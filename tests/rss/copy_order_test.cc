// Which copy of a piece a restart reads and how it falls back (rss/client/copy_order.h), as pure
// logic: no daemon, the reads are lambdas that fail on demand.
#include "rss/client/copy_order.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace srs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

CopyLocation Copy(const std::string& id, const std::string& state = "ok") {
  return {id, id + ":7000", "cap-" + id, state, 1'800'000'000'000};
}

std::vector<std::string> Ids(const PieceLocation& piece) {
  std::vector<std::string> out;
  for (const CopyLocation& copy : piece.copies) out.push_back(copy.depot_id);
  return out;
}

TEST(CopyOrderTest, LocalCopyFirstThenLeastLoadedAndDownCopiesLast) {
  PieceLocation piece{0, {Copy("a", "depot_down"), Copy("b"), Copy("c"), Copy("d")}};
  auto on_c = [](const CopyLocation& copy) { return copy.depot_id == "c"; };
  EXPECT_THAT(Ids(OrderCopies(piece, on_c, {{"b", 5}, {"d", 1}})), ElementsAre("c", "d", "b", "a"));
  // A down copy on this host is still not offered first.
  auto on_a = [](const CopyLocation& copy) { return copy.depot_id == "a"; };
  EXPECT_EQ(Ids(OrderCopies(piece, on_a, {})).back(), "a");
  PieceLocation lost{0, {Copy("x", "lost"), Copy("y")}};
  EXPECT_THAT(Ids(OrderCopies(lost, nullptr, {})), ElementsAre("y", "x"));
}

TEST(CopyOrderTest, TiesAreBrokenByOldRankSoRanksSpread) {
  std::map<std::string, int> first_choice;
  for (int rank = 0; rank < 6; ++rank) {
    PieceLocation piece{rank, {Copy("p"), Copy("q"), Copy("r")}};
    ++first_choice[OrderCopies(piece, nullptr, {}).copies[0].depot_id];
  }
  EXPECT_EQ(first_choice, (std::map<std::string, int>{{"p", 2}, {"q", 2}, {"r", 2}}));
  // Counting load as a rank assigns its tasks spreads one rank's reads as well.
  std::map<std::string, int> load;
  std::vector<std::string> chosen;
  for (int task = 0; task < 4; ++task) {
    PieceLocation piece{0, {Copy("p"), Copy("q")}};
    std::string first = OrderCopies(piece, nullptr, load).copies[0].depot_id;
    ++load[first];
    chosen.push_back(first);
  }
  EXPECT_THAT(chosen, ElementsAre("p", "q", "p", "q"));
}

TEST(CopyOrderTest, FailedReadsFallBackToTheNextCopy) {
  for (absl::Status failure :
       {absl::UnavailableError("connection refused"), absl::DeadlineExceededError("slow"),
        absl::NotFoundError("no such piece"), absl::DataLossError("checksum mismatch")}) {
    PieceLocation piece{3, {Copy("a"), Copy("b")}};
    std::vector<std::string> tried;
    absl::Status status =
        ReadAnyCopy(piece, "array 'u': old rank 3's piece", [&](const CopyLocation& copy) {
          tried.push_back(copy.depot_id);
          return copy.depot_id == "a" ? failure : absl::OkStatus();
        });
    EXPECT_TRUE(status.ok()) << failure << " -> " << status;
    EXPECT_THAT(tried, ElementsAre("a", "b"));
  }
}

TEST(CopyOrderTest, ABadRequestDoesNotFallBack) {
  PieceLocation piece{0, {Copy("a"), Copy("b")}};
  int reads = 0;
  absl::Status status = ReadAnyCopy(piece, "array 'u': old rank 0's piece", [&](const auto&) {
    ++reads;
    return absl::InvalidArgumentError("no dataset 'u'");
  });
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(reads, 1);
  EXPECT_THAT(std::string(status.message()), HasSubstr("depot a (a:7000)"));
}

TEST(CopyOrderTest, DownCopiesAreNeverTriedAndTheErrorNamesEveryDepotAndWhy) {
  PieceLocation piece{1, {Copy("dead", "depot_down"), Copy("flaky")}};
  std::set<std::string> tried;
  absl::Status status =
      ReadAnyCopy(piece, "array 'u': old rank 1's piece", [&](const CopyLocation& copy) {
        tried.insert(copy.depot_id);
        return absl::DataLossError("checksum mismatch in piece");
      });
  EXPECT_EQ(tried, std::set<std::string>{"flaky"});
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  std::string message(status.message());
  EXPECT_THAT(message, HasSubstr("array 'u': old rank 1's piece: no copy could be read"));
  EXPECT_THAT(message,
              HasSubstr("depot dead (dead:7000): not tried: down since 2027-01-15T08:00:00Z"));
  EXPECT_THAT(message, HasSubstr("depot flaky (flaky:7000): DATA_LOSS: checksum mismatch"));

  PieceLocation only_dead{0, {Copy("dead", "depot_down")}};
  int reads = 0;
  status = ReadAnyCopy(only_dead, "x", [&](const auto&) {
    ++reads;
    return absl::OkStatus();
  });
  EXPECT_EQ(reads, 0);
  EXPECT_TRUE(absl::IsUnavailable(status));
}

TEST(CopyOrderTest, LegacyRecordsGiveOneCopy) {
  rss::v1::PieceRecord record;
  record.set_rank(4);
  record.set_depot_address("h:1");
  record.set_read_cap("r");
  PieceLocation piece = LocationOf(record);
  EXPECT_EQ(piece.rank, 4);
  ASSERT_EQ(piece.copies.size(), 1u);
  EXPECT_EQ(piece.copies[0].address, "h:1");
  EXPECT_TRUE(IsReadable(piece.copies[0]));
  EXPECT_EQ(DepotKey(piece.copies[0]), "h:1");
}

}  // namespace
}  // namespace srs
