// Unit tests of rss/request_validation: one test per rule, and the message-size arithmetic the
// receive limit of srs-rss rests on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "rss/request_validation.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace {

namespace v1 = rss::v1;
using ::testing::HasSubstr;

v1::RegisterRunRequest Register(int nprocs) {
  v1::RegisterRunRequest req;
  req.set_job("heat");
  req.set_nprocs(nprocs);
  for (int r = 0; r < nprocs; ++r) {
    v1::RankPlacement* rank = req.add_ranks();
    rank->set_rank(r);
    rank->set_host("node0");
    rank->set_depot("auto");
  }
  return req;
}

v1::ArraySpec BlockArray(int nprocs, int64_t per_rank) {
  v1::ArraySpec array;
  array.set_name("u");
  array.set_srs_type("double");
  array.set_global_count(per_rank * nprocs);
  array.mutable_distribution()->set_kind("block");
  for (int r = 0; r < nprocs; ++r) array.add_local_counts(per_rank);
  return array;
}

void ExpectInvalid(const absl::Status& status, const std::string& words) {
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(words));
}

TEST(RssRequestValidation, AWellFormedRegistrationPasses) {
  EXPECT_TRUE(ValidateRegisterRun(Register(4)).ok());
}

TEST(RssRequestValidation, JobNameLengthIsBounded) {
  v1::RegisterRunRequest req = Register(1);
  req.set_job(std::string(kMaxNameBytes, 'j'));
  EXPECT_TRUE(ValidateRegisterRun(req).ok());
  req.set_job(std::string(kMaxNameBytes + 1, 'j'));
  ExpectInvalid(ValidateRegisterRun(req), "job name is 256 bytes; at most 255");
  req.set_job("");
  ExpectInvalid(ValidateRegisterRun(req), "job name is empty");
}

TEST(RssRequestValidation, ControlCharactersInNamesAreRefusedAndEscapedInTheMessage) {
  v1::RegisterRunRequest req = Register(1);
  req.set_job("victim\n2026-11-30T00:00:00Z I rss[1]: fake line");
  absl::Status status = ValidateRegisterRun(req);
  ExpectInvalid(status, "control character at byte 6");
  EXPECT_EQ(std::string(status.message()).find('\n'), std::string::npos) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("victim\\n2026"));
  for (char c : {'\t', '\r', '\x1b', '\x7f', '\0'}) {
    req.set_job(absl::StrCat("a", std::string(1, c), "b"));
    ExpectInvalid(ValidateRegisterRun(req), "control character");
  }
  req = Register(2);
  req.mutable_ranks(1)->set_host("node\n1");
  ExpectInvalid(ValidateRegisterRun(req), "host of rank 1");
  req = Register(2);
  req.mutable_ranks(0)->set_depot(std::string(kMaxAddressBytes + 1, 'd'));
  ExpectInvalid(ValidateRegisterRun(req), "depot of rank 0");
}

TEST(RssRequestValidation, UnknownRegisterModeIsRefused) {
  v1::RegisterRunRequest req = Register(1);
  req.set_mode(static_cast<v1::RegisterMode>(99));
  ExpectInvalid(ValidateRegisterRun(req), "unknown register mode 99");
}

TEST(RssRequestValidation, ProcessCountKeepEpochAndCredentialsAreBounded) {
  v1::RegisterRunRequest req = Register(1);
  req.set_nprocs(0);
  ExpectInvalid(ValidateRegisterRun(req), "nprocs must be in 1..");
  req.set_nprocs(kMaxRanks + 1);
  ExpectInvalid(ValidateRegisterRun(req), "nprocs must be in 1..");
  req = Register(1);
  req.set_keep(kMaxKeep + 1);
  ExpectInvalid(ValidateRegisterRun(req), "keep must be in");
  req = Register(1);
  req.set_epoch(-1);
  ExpectInvalid(ValidateRegisterRun(req), "epoch must not be negative");
  req = Register(1);
  req.set_admin_token(std::string(kMaxTokenBytes + 1, 'a'));
  ExpectInvalid(ValidateRegisterRun(req), "admin token is 129 bytes");
  req = Register(1);
  req.set_owner_secret(std::string(kMaxTokenBytes + 1, 'a'));
  ExpectInvalid(ValidateRegisterRun(req), "owner secret is 129 bytes");
}

TEST(RssRequestValidation, SrsTypeMustBeADatatypeName) {
  v1::ArraySpec array = BlockArray(2, 10);
  EXPECT_TRUE(ValidateArraySpec(array, 2).ok());
  array.set_srs_type("quaternion");
  ExpectInvalid(ValidateArraySpec(array, 2), "unknown srs_type 'quaternion'");
  array.set_srs_type("");
  ExpectInvalid(ValidateArraySpec(array, 2), "unknown srs_type");
}

TEST(RssRequestValidation, BlockCyclicNeedsABlockSizeOfAtLeastOne) {
  v1::ArraySpec array = BlockArray(2, 10);
  array.mutable_distribution()->set_kind("block_cyclic");
  array.mutable_distribution()->set_block_size(0);
  ExpectInvalid(ValidateArraySpec(array, 2), "block_size >= 1, got 0");
  array.mutable_distribution()->set_block_size(4);
  EXPECT_TRUE(ValidateArraySpec(array, 2).ok());
}

TEST(RssRequestValidation, TwoDimensionalGridMustMatchTheProcessCount) {
  v1::ArraySpec array;
  array.set_name("a");
  array.set_srs_type("double");
  array.set_global_count(6 * 4);
  v1::Distribution* d = array.mutable_distribution();
  d->set_kind("block_cyclic_2d");
  d->set_rows(6);
  d->set_cols(4);
  d->set_mb(2);
  d->set_nb(2);
  d->set_nprow(2);
  d->set_npcol(2);
  EXPECT_TRUE(ValidateArraySpec(array, 4).ok());
  ExpectInvalid(ValidateArraySpec(array, 3), "grid 2 x 2 does not match the run's 3 processes");
  d->set_mb(0);
  ExpectInvalid(ValidateArraySpec(array, 4), "mb, nb, nprow, npcol >= 1");
  d->set_mb(2);
  d->set_rsrc(2);
  ExpectInvalid(ValidateArraySpec(array, 4), "outside the grid");
  d->set_rsrc(0);
  array.set_global_count(25);
  ExpectInvalid(ValidateArraySpec(array, 4), "does not match global_count 25");
  // nprow * npcol computed without overflow: 2^16 * 2^16 is not 0.
  d->set_nprow(1 << 16);
  d->set_npcol(1 << 16);
  ExpectInvalid(ValidateArraySpec(array, 4), "does not match the run's 4 processes");
}

TEST(RssRequestValidation, CountsAreNonNegativeAndTheirSumsDoNotOverflow) {
  v1::ArraySpec array = BlockArray(2, 10);
  array.set_local_counts(1, -1);
  ExpectInvalid(ValidateArraySpec(array, 2), "negative or their sum overflows");
  array = BlockArray(2, 10);
  array.set_local_counts(0, std::numeric_limits<int64_t>::max());
  ExpectInvalid(ValidateArraySpec(array, 2), "negative or their sum overflows");
  array = BlockArray(2, 10);
  array.set_global_count(-5);
  ExpectInvalid(ValidateArraySpec(array, 2), "global_count must not be negative");
  array = BlockArray(2, 10);
  array.set_global_count(21);
  ExpectInvalid(ValidateArraySpec(array, 2), "add up to 20, global_count is 21");
  array = BlockArray(3, 10);
  ExpectInvalid(ValidateArraySpec(array, 2), "3 local counts for 2 ranks");
  // Elements * element size overflows int64 even though the count itself does not.
  array = BlockArray(1, std::numeric_limits<int64_t>::max() / 4);
  ExpectInvalid(ValidateArraySpec(array, 1), "overflow a 64-bit byte size");
}

TEST(RssRequestValidation, CheckpointCallsCheckEpochsReasonsAndSizes) {
  v1::BeginCheckpointRequest begin;
  *begin.add_arrays() = BlockArray(2, 1);
  begin.set_reason(static_cast<v1::CheckpointReason>(7));
  ExpectInvalid(ValidateBeginCheckpoint(begin, 2), "unknown checkpoint reason 7");
  v1::ReportPiecesRequest report;
  report.set_epoch(0);
  ExpectInvalid(ValidateReportPieces(report), "epoch must be >= 1");
  report.set_epoch(1);
  v1::PieceRecord* piece = report.add_pieces();
  piece->set_read_cap(std::string(kMaxCapabilityBytes + 1, 'c'));
  ExpectInvalid(ValidateReportPieces(report), "read capability is 129 bytes");
  piece->set_read_cap("r");
  piece->set_size_bytes(-1);
  ExpectInvalid(ValidateReportPieces(report), "size_bytes must not be negative");
  v1::CommitCheckpointRequest commit;
  commit.set_epoch(1);
  commit.mutable_timings()->set_write_seconds(std::numeric_limits<double>::quiet_NaN());
  ExpectInvalid(ValidateCommitCheckpoint(commit), "write_seconds must be a finite number");
  // The pieces a commit carries get ReportPieces' checks, named as the commit's.
  commit.mutable_timings()->set_write_seconds(1);
  *commit.add_pieces() = *piece;
  ExpectInvalid(ValidateCommitCheckpoint(commit), "CommitCheckpoint");
  ExpectInvalid(ValidateCommitCheckpoint(commit), "size_bytes must not be negative");
  commit.mutable_pieces(0)->set_size_bytes(1);
  commit.mutable_pieces(0)->set_manage_cap(std::string(kMaxCapabilityBytes + 1, 'm'));
  ExpectInvalid(ValidateCommitCheckpoint(commit), "manage capability is 129 bytes");
  commit.mutable_pieces(0)->set_manage_cap("m");
  EXPECT_TRUE(ValidateCommitCheckpoint(commit).ok());
  v1::AbortCheckpointRequest abort;
  abort.set_epoch(1);
  abort.set_reason(std::string(kMaxReasonBytes + 1, 'r'));
  ExpectInvalid(ValidateAbortCheckpoint(abort), "reason is 4097 bytes");
  v1::ReportProgressRequest progress;
  progress.set_epoch(1);
  progress.set_done_bytes(-1);
  ExpectInvalid(ValidateReportProgress(progress), "done_bytes must not be negative");
  progress.set_done_bytes(5);
  progress.set_total_bytes(4);
  ExpectInvalid(ValidateReportProgress(progress), "done_bytes 5 exceeds total_bytes 4");
  progress.set_total_bytes(std::numeric_limits<int64_t>::max());
  ExpectInvalid(ValidateReportProgress(progress), "total_bytes is 9223372036854775807");
  progress.set_total_bytes(kMaxProgressBytes);
  EXPECT_TRUE(ValidateReportProgress(progress).ok());
  progress.set_epoch(0);
  ExpectInvalid(ValidateReportProgress(progress), "epoch must be >= 1");
  v1::ReportRestartRequest restart;
  restart.set_bytes(-3);
  ExpectInvalid(ValidateReportRestart(restart), "bytes must not be negative");
  v1::FinishRunRequest finish;
  finish.set_run_token(std::string(1 << 20, 't'));
  ExpectInvalid(ValidateFinishRun(finish), "run token is 1048576 bytes");
}

TEST(RssRequestValidation, DepotAndToolCallsCheckTheirStrings) {
  v1::RegisterDepotRequest depot;
  depot.set_host("node0");
  depot.set_address("127.0.0.1:9000");
  EXPECT_TRUE(ValidateRegisterDepot(depot).ok());
  depot.set_depot_id("depot\nforged");
  ExpectInvalid(ValidateRegisterDepot(depot), "depot id");
  depot.set_depot_id("d");
  depot.set_capacity_bytes(-1);
  ExpectInvalid(ValidateRegisterDepot(depot), "capacity_bytes must not be negative");
  ExpectInvalid(ValidateJobQuery("GetJob", std::string(300, 'x'), "", ""), "GetJob: job name");
  ExpectInvalid(ValidateAdminQuery("ListJobs", std::string(200, 'x')), "ListJobs: admin token");
}

TEST(RssRequestValidation, PieceCopiesAreBoundedAndOnDistinctDepots) {
  v1::ReportPiecesRequest report;
  report.set_epoch(1);
  v1::PieceRecord* piece = report.add_pieces();
  auto add_copy = [&](const std::string& id, const std::string& address) {
    v1::PieceCopy* copy = piece->add_copies();
    copy->set_depot_id(id);
    copy->set_depot_address(address);
    copy->set_read_cap("r");
    copy->set_manage_cap("m");
    return copy;
  };
  add_copy("d0", "10.0.0.1:7000");
  add_copy("d1", "10.0.0.2:7000");
  EXPECT_TRUE(ValidateReportPieces(report).ok());
  add_copy("d1", "10.0.0.3:7000");
  ExpectInvalid(ValidateReportPieces(report), "two copies on depot d1");
  piece->mutable_copies()->RemoveLast();
  add_copy("d2", "10.0.0.2:7000");  // another id, but the same address
  ExpectInvalid(ValidateReportPieces(report), "copies must be on distinct depots");
  piece->mutable_copies()->RemoveLast();
  for (int i = 2; i < 9; ++i) add_copy(absl::StrCat("d", i), absl::StrCat("10.0.1.", i, ":7000"));
  ExpectInvalid(ValidateReportPieces(report), "9 copies; at most 8");
  piece->clear_copies();
  add_copy("d0", "10.0.0.1:7000");
  piece->mutable_copies(0)->set_depot_id("d\nforged");
  ExpectInvalid(ValidateReportPieces(report), "copy 0: depot id");
  piece->mutable_copies(0)->set_depot_id(std::string(kMaxNameBytes + 1, 'i'));
  ExpectInvalid(ValidateReportPieces(report), "depot id is 256 bytes");
  piece->mutable_copies(0)->set_depot_id("d0");
  piece->mutable_copies(0)->set_manage_cap(std::string(kMaxCapabilityBytes + 1, 'm'));
  ExpectInvalid(ValidateReportPieces(report), "copy 0: manage capability is 129 bytes");
  piece->mutable_copies(0)->set_manage_cap("");
  ExpectInvalid(ValidateReportPieces(report), "needs read and manage capabilities");
  piece->mutable_copies(0)->set_manage_cap("m");
  piece->mutable_copies(0)->set_depot_address("");
  ExpectInvalid(ValidateReportPieces(report), "copy 0: depot address is empty");
}

// A run names the addresses of its pieces' copies and the RSS dials them (pins at commit,
// deletions, repairs): a gRPC target URI would make it dial a local socket of its own host.
TEST(RssRequestValidation, AddressesAreNetworkAddressesNotGrpcUris) {
  for (const std::string bad :
       {"unix:/run/docker.sock", "UNIX:///run/x.sock", "unix-abstract:x", "vsock:3:7000",
        "dns:evil:53", "ipv4:10.0.0.1:80", "ipv6:[::1]:80", "host/x:80"}) {
    v1::ReportPiecesRequest report;
    report.set_epoch(1);
    v1::PieceRecord* piece = report.add_pieces();
    piece->set_depot_address(bad);
    piece->set_read_cap("r");
    piece->set_manage_cap("m");
    ExpectInvalid(ValidateReportPieces(report), "is not a network address");
    v1::PieceCopy* copy = piece->add_copies();
    copy->set_depot_id("d0");
    copy->set_depot_address(bad);
    copy->set_read_cap("r");
    copy->set_manage_cap("m");
    piece->set_depot_address("10.0.0.1:7000");
    ExpectInvalid(ValidateReportPieces(report), "copy 0: depot address");
    v1::RegisterDepotRequest depot;
    depot.set_host("node0");
    depot.set_address(bad);
    ExpectInvalid(ValidateRegisterDepot(depot), "is not a network address");
  }
  v1::RegisterDepotRequest depot;
  depot.set_host("node0");
  for (const char* good : {"127.0.0.1:9000", "node1:7000", "[::1]:7000", "auto-host:1"}) {
    depot.set_address(good);
    EXPECT_TRUE(ValidateRegisterDepot(depot).ok()) << good;
  }
}

TEST(RssRequestValidation, DepotFailureDomainAndHeartbeatAreChecked) {
  v1::RegisterDepotRequest depot;
  depot.set_host("node0");
  depot.set_address("127.0.0.1:9000");
  depot.set_failure_domain("rack 1");
  EXPECT_TRUE(ValidateRegisterDepot(depot).ok());
  depot.set_failure_domain("rack\t1");
  ExpectInvalid(ValidateRegisterDepot(depot), "failure domain");
  depot.set_failure_domain("rack1");
  depot.set_heartbeat_seconds(-1);
  ExpectInvalid(ValidateRegisterDepot(depot), "heartbeat_seconds must be in 0..3600");
  depot.set_heartbeat_seconds(3601);
  ExpectInvalid(ValidateRegisterDepot(depot), "heartbeat_seconds must be in 0..3600");
  depot.set_heartbeat_seconds(5);
  EXPECT_TRUE(ValidateRegisterDepot(depot).ok());
}

TEST(RssRequestValidation, LogSafeEscapesAndCuts) {
  EXPECT_EQ(LogSafe("a\nb\"c"), "a\\nb\\\"c");
  std::string cut = LogSafe(std::string(1000, 'x'), 10);
  EXPECT_EQ(cut, "xxxxxxxxxx...(1000 bytes)");
}

// The receive limit must hold the largest legitimate messages of a 100 000-rank job with every
// string field at its limit (the arithmetic in request_validation.h).
TEST(RssRequestValidation, AHundredThousandRankJobFitsTheMessageLimit) {
  constexpr int kRanks = 100000;
  v1::RegisterRunRequest reg = Register(kRanks);
  for (v1::RankPlacement& rank : *reg.mutable_ranks()) {
    rank.set_host(std::string(kMaxHostBytes, 'h'));
    rank.set_depot(std::string(kMaxAddressBytes, 'd'));
  }
  reg.set_owner_secret(std::string(kMaxTokenBytes, 's'));
  ASSERT_TRUE(ValidateRegisterRun(reg).ok());
  EXPECT_LE(reg.ByteSizeLong(), static_cast<size_t>(kMaxRssMessageBytes));

  v1::ReportPiecesRequest report;
  report.set_run_token(std::string(kMaxTokenBytes, 't'));
  report.set_epoch(1);
  for (int r = 0; r < kRanks; ++r) {
    v1::PieceRecord* piece = report.add_pieces();
    piece->set_rank(r);
    piece->set_depot_address(std::string(kMaxAddressBytes, 'd'));
    piece->set_read_cap(std::string(kMaxCapabilityBytes, 'r'));
    piece->set_manage_cap(std::string(kMaxCapabilityBytes, 'm'));
    piece->set_size_bytes(std::numeric_limits<int64_t>::max());
    piece->set_xxh3_64(std::numeric_limits<uint64_t>::max());
  }
  ASSERT_TRUE(ValidateReportPieces(report).ok());
  EXPECT_LE(report.ByteSizeLong(), static_cast<size_t>(kMaxRssMessageBytes));

  // 32 per-rank arrays with realistic local counts (< 2^35 elements per rank).
  v1::BeginCheckpointRequest begin;
  for (int a = 0; a < 32; ++a) {
    v1::ArraySpec array = BlockArray(kRanks, int64_t{1} << 34);
    array.set_name(absl::StrCat("array", a));
    *begin.add_arrays() = array;
  }
  ASSERT_TRUE(ValidateBeginCheckpoint(begin, kRanks).ok());
  EXPECT_LE(begin.ByteSizeLong(), static_cast<size_t>(kMaxRssMessageBytes));
}

}  // namespace
}  // namespace srs
