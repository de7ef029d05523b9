// The conformance suite's tests (see conformance.h). Compiled into each binary that
// instantiates DepotConformance.
#include <gmock/gmock.h>
#include <unistd.h>

#include <atomic>
#include <numeric>
#include <thread>

#include "common/checksum.h"
#include "tests/depot/conformance.h"

namespace srs {
namespace testing {

using ::testing::HasSubstr;

namespace {

TEST_P(DepotConformance, PutStatGetAndList) {
  v1::PieceKey key = Key("conf-a", 3, 1);
  std::string image = MakePieceImage(key, 1000);
  auto put = depot_->PutBytes(key, image, 0);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_NE(put->caps().read(), put->caps().manage());
  EXPECT_EQ(put->info().size_bytes(), static_cast<int64_t>(image.size()));
  EXPECT_EQ(put->info().xxh3_64(), Xxh3(image.data(), image.size()));
  ASSERT_EQ(put->info().datasets_size(), 2);
  EXPECT_GT(put->info().lease_expires_unix_ms(), 0);
  for (const std::string& cap : {put->caps().read(), put->caps().manage()}) {
    auto info = depot_->Stat(cap);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->piece_id(), put->info().piece_id());
    EXPECT_EQ(info->key().job(), "conf-a");
  }
  auto bytes = depot_->GetAll(put->caps().read());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(*bytes == image) << "Get returned different bytes";
  ASSERT_TRUE(
      depot_->PutBytes(Key("conf-a", 2, 0), MakePieceImage(Key("conf-a", 2, 0), 10), 0).ok());
  ASSERT_TRUE(
      depot_->PutBytes(Key("conf-b", 3, 0), MakePieceImage(Key("conf-b", 3, 0), 10), 0).ok());
  auto listed = depot_->ListJob("conf-a");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key().epoch(), 2);  // ordered by (epoch, rank)
  EXPECT_EQ((*listed)[1].piece_id(), put->info().piece_id());
  EXPECT_TRUE(depot_->ListJob("nobody")->empty());
}

TEST_P(DepotConformance, RangedReadsSelectConvertAndSpanChunks) {
  v1::PieceKey key = Key("conf-range", 1, 2);
  const int64_t n = 300000;  // 2.4 MB of doubles: several 1 MiB chunks
  auto put = depot_->PutBytes(key, MakePieceImage(key, n), 0);
  ASSERT_TRUE(put.ok()) << put.status();
  std::vector<double> all(n);
  ASSERT_TRUE(depot_
                  ->ReadRange(put->caps().read(), "u", ElementType::kDouble, {{0, 1, n, 1}},
                              all.data(), n * 8)
                  .ok());
  for (int64_t i = 0; i < n; i += 9973) ASSERT_EQ(all[i], i + 2.5);
  // Request order, strided blocks, conversion int32 -> int64 and double -> float.
  std::vector<int64_t> ints(7);
  ASSERT_TRUE(depot_
                  ->ReadRange(put->caps().read(), "n", ElementType::kInt64,
                              {{n - 1, 1, 1, 1}, {10, 100000, 3, 2}}, ints.data(), 7 * 8)
                  .ok());
  EXPECT_EQ(ints, (std::vector<int64_t>{3 * (n - 1), 30, 33, 300030, 300033, 600030, 600033}));
  std::vector<float> floats(150000);
  ASSERT_TRUE(depot_
                  ->ReadRange(put->caps().read(), "u", ElementType::kFloat, {{1, 2, 150000, 1}},
                              floats.data(), floats.size() * 4)
                  .ok());
  EXPECT_EQ(floats[149999], static_cast<float>(299999 + 2.5));
}

// Remote restarts of map/func arrays fetch only the index bytes: "srs_index/<name>", int64.
TEST_P(DepotConformance, IndexDatasetsReadByRange) {
  v1::PieceKey key = Key("conf-index", 1, 0);
  const int64_t n = 200000;  // 1.6 MB of int64: more than one chunk
  std::vector<double> v(n, 1.0);
  std::vector<int64_t> index(n);
  for (int64_t i = 0; i < n; ++i) index[i] = 7 * i + 3;
  piece::DatasetWrite ds{"m", ElementType::kDouble, v.data(), n, 7 * n, "map", {}};
  ds.global_index = index.data();
  absl::StatusOr<std::string> image =
      piece::WritePieceImage(piece::PieceHeader{"conf-index", 1, 0, 1, ""}, {ds});
  ASSERT_TRUE(image.ok()) << image.status();
  auto put = depot_->PutBytes(key, *image, 0);
  ASSERT_TRUE(put.ok()) << put.status();
  const std::string cap = put->caps().read();
  std::vector<int64_t> got(n);
  ASSERT_TRUE(
      depot_->ReadRange(cap, "srs_index/m", ElementType::kInt64, {{0, 1, n, 1}}, got.data(), n * 8)
          .ok());
  EXPECT_EQ(got, index);
  int64_t two[2];
  ASSERT_TRUE(depot_
                  ->ReadRange(cap, "srs_index/m", ElementType::kInt64,
                              {{n - 1, 1, 1, 1}, {5, 1, 1, 1}}, two, sizeof(two))
                  .ok());
  EXPECT_EQ(two[0], 7 * (n - 1) + 3);
  EXPECT_EQ(two[1], 38);
  auto code = [&](const std::string& name, ElementType t, piece::Hyperslab sel) {
    return depot_->ReadRange(cap, name, t, {sel}, two, sizeof(two)).code();
  };
  EXPECT_EQ(code("srs_index/m", ElementType::kInt64, {n - 1, 1, 2, 1}),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(code("srs_index/m", ElementType::kDouble, {0, 1, 1, 1}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("srs_index/m", ElementType::kInt64, {-1, 1, 1, 1}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("srs_index/nope", ElementType::kInt64, {0, 1, 1, 1}), absl::StatusCode::kNotFound);
  // A dataset without an index (block layout) has none to read.
  v1::PieceKey plain = Key("conf-index", 2, 0);
  auto other = depot_->PutBytes(plain, MakePieceImage(plain, 10), 0);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(depot_
                ->ReadRange(other->caps().read(), "srs_index/u", ElementType::kInt64,
                            {{0, 1, 1, 1}}, two, sizeof(two))
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_P(DepotConformance, MalformedReadsAreRefusedCleanly) {
  v1::PieceKey key = Key("conf-bad", 1, 0);
  auto put = depot_->PutBytes(key, MakePieceImage(key, 100), 0);
  ASSERT_TRUE(put.ok()) << put.status();
  const std::string cap = put->caps().read();
  double out[200];
  auto read = [&](std::vector<piece::Hyperslab> sel, const std::string& ds = "u",
                  ElementType t = ElementType::kDouble) {
    return depot_->ReadRange(cap, ds, t, sel, out, sizeof(out)).code();
  };
  EXPECT_EQ(read({{-1, 1, 1, 1}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 0, 2, 1}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 1, -5, 1}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{95, 1, 6, 1}}), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(read({{0, 1, 1, 1}}, "missing"), absl::StatusCode::kNotFound);
  EXPECT_EQ(read({{0, 1, 1, 1}}, "u", ElementType::kDoubleComplex),
            absl::StatusCode::kInvalidArgument);
  // Still healthy afterwards.
  EXPECT_EQ(read({{95, 1, 5, 1}}), absl::StatusCode::kOk);
  EXPECT_EQ(out[4], 99.5);
}

TEST_P(DepotConformance, CapabilitiesAreEnforced) {
  v1::PieceKey key = Key("conf-cap", 1, 0);
  auto put = depot_->PutBytes(key, MakePieceImage(key, 10), 0);
  ASSERT_TRUE(put.ok()) << put.status();
  const std::string id = put->info().piece_id();
  double out[10];
  std::string forged = id + "." + std::string(32, '0');
  for (const std::string& bad : {std::string(), std::string("garbage"), forged}) {
    EXPECT_EQ(depot_->ReadRange(bad, "u", ElementType::kDouble, {{0, 1, 1, 1}}, out, 80).code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(depot_->GetAll(bad).status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(depot_->Stat(bad).status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(depot_->Delete(bad).code(), absl::StatusCode::kPermissionDenied);
  }
  // Each capability does only its own job.
  EXPECT_EQ(
      depot_->ReadRange(put->caps().manage(), "u", ElementType::kDouble, {{0, 1, 1, 1}}, out, 80)
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(depot_->Delete(put->caps().read()).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(depot_->Renew({put->caps().read()}, 0).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(depot_->Delete(put->caps().manage()).ok());
  EXPECT_EQ(depot_->Stat(put->caps().read()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(depot_->PutBytes(key, MakePieceImage(key, 10), 0).ok());  // key free again
}

TEST_P(DepotConformance, DuplicateKeysAndInvalidPutsLeaveNothing) {
  v1::PieceKey key = Key("conf-dup", 1, 0);
  std::string image = MakePieceImage(key, 10);
  ASSERT_TRUE(depot_->PutBytes(key, image, 0).ok());
  EXPECT_EQ(depot_->PutBytes(key, image, 0).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(depot_->PutBytes(Key("", 1, 0), image, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(depot_->PutBytes(Key("conf-dup", -1, 0), image, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Not an HDF5 piece, and a piece whose data does not match its dataset checksum.
  EXPECT_FALSE(depot_->PutBytes(Key("conf-dup", 2, 0), std::string(5000, 'x'), 0).ok());
  std::string corrupt = image;
  double needle = 5.5;
  size_t at = corrupt.find(std::string(reinterpret_cast<char*>(&needle), 8));
  ASSERT_NE(at, std::string::npos);
  corrupt[at] ^= 1;
  absl::Status s = depot_->PutBytes(Key("conf-dup", 3, 0), corrupt, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("'u'"));
  auto listed = depot_->ListJob("conf-dup");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_TRUE(depot_->PutBytes(Key("conf-dup", 3, 0), image, 0).ok());  // key was released
}

TEST_P(DepotConformance, LocalPutAdoptsTheWritersFile) {
  v1::PieceKey key = Key("conf-local", 1, 0);
  std::vector<double> v(5000);
  std::iota(v.begin(), v.end(), 1.0);
  piece::DatasetWrite ds{"v", ElementType::kDouble, v.data(), 5000, 5000, "none", {}};
  auto put = depot_->PutLocal(key, 5000 * 8, 0, [&](const std::string& path) {
    return piece::WritePieceFile(path, {"conf-local", 1, 0, 1, ""}, {ds});
  });
  ASSERT_TRUE(put.ok()) << put.status();
  double got[2];
  ASSERT_TRUE(
      depot_->ReadRange(put->caps().read(), "v", ElementType::kDouble, {{4998, 1, 2, 1}}, got, 16)
          .ok());
  EXPECT_EQ(got[1], 5000.0);
  if (depot_->has_local_paths()) {
    auto path = depot_->OpenLocal(put->caps().read());
    ASSERT_TRUE(path.ok()) << path.status();
    EXPECT_TRUE(piece::VerifyPiece(*path).ok());
  } else {
    EXPECT_EQ(depot_->OpenLocal(put->caps().read()).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  // A writer that fails, or writes nothing: aborted, nothing stored, the key stays free.
  v1::PieceKey key2 = Key("conf-local", 2, 0);
  auto failed = depot_->PutLocal(
      key2, 100, 0, [](const std::string&) { return absl::InternalError("writer crashed"); });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  // Refused at once (not retried as a lost put until the deadline), whether the client wrote at
  // the ticket's path or under its own name while the ticket came (a second put).
  absl::Time start = absl::Now();
  auto nothing =
      depot_->PutLocal(key2, 100, 0, [](const std::string&) { return absl::OkStatus(); });
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kFailedPrecondition) << nothing.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(depot_->PutBytes(key2, MakePieceImage(key2, 10), 0).ok());
  EXPECT_EQ(depot_->ListJob("conf-local")->size(), 2u);
  // Later puts (the spool now known) leave nothing of the writer's own names behind.
  for (int epoch = 3; epoch < 6; ++epoch) {
    v1::PieceKey more = Key("conf-local", epoch, 0);
    ASSERT_TRUE(
        depot_
            ->PutLocal(more, 5000 * 8, 0,
                       [&](const std::string& path) {
                         return piece::WritePieceFile(path, {"conf-local", epoch, 0, 1, ""}, {ds});
                       })
            .ok());
  }
  EXPECT_EQ(depot_->ListJob("conf-local")->size(), 5u);
  if (depot_->has_local_paths()) {
    auto path = depot_->OpenLocal(put->caps().read());
    ASSERT_TRUE(path.ok());
    const std::string spool = path->substr(0, path->rfind("/pieces/")) + "/spool";
    EXPECT_EQ(std::system(("test -z \"$(ls -A " + spool + ")\"").c_str()), 0)
        << "the spool holds leftovers";
  }
}

TEST_P(DepotConformance, LeasesExpireUnlessPinned) {
  v1::PieceKey a = Key("conf-lease", 1, 0), b = Key("conf-lease", 1, 1);
  auto pa = depot_->PutBytes(a, MakePieceImage(a, 10), 1);
  auto pb = depot_->PutBytes(b, MakePieceImage(b, 10), 1);
  ASSERT_TRUE(pa.ok() && pb.ok());
  // All or nothing: one bad capability and nothing is pinned.
  EXPECT_EQ(depot_->Renew({pa->caps().manage(), "x.y"}, 0).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_GT(depot_->Stat(pa->caps().read())->lease_expires_unix_ms(), 0);
  ASSERT_TRUE(depot_->Renew({pa->caps().manage()}, 0).ok());
  EXPECT_EQ(depot_->Stat(pa->caps().read())->lease_expires_unix_ms(), 0);
  depot_->LetTimePass(2);
  EXPECT_TRUE(depot_->Stat(pa->caps().read()).ok());
  EXPECT_EQ(depot_->Stat(pb->caps().read()).status().code(), absl::StatusCode::kNotFound);
  auto listed = depot_->ListJob("conf-lease");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key().rank(), 0);
}

TEST_P(DepotConformance, CapacityRefusalLeavesNothing) {
  std::unique_ptr<DepotUnderTest> small = GetParam().make(DepotSetup{200000});
  v1::PieceKey a = Key("conf-cap", 1, 0), b = Key("conf-cap", 1, 1);
  ASSERT_TRUE(small->PutBytes(a, MakePieceImage(a, 10000), 0).ok());  // ~122 KB
  // Refused up front from the size hint, and (local put) at commit from the real size.
  EXPECT_EQ(small->PutBytes(b, MakePieceImage(b, 10000), 0).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::vector<double> v(20000, 1.0);
  piece::DatasetWrite ds{"v", ElementType::kDouble, v.data(), 20000, 20000, "none", {}};
  auto local = small->PutLocal(b, 1, 0, [&](const std::string& path) {
    return piece::WritePieceFile(path, {"conf-cap", 1, 1, 2, ""}, {ds});
  });
  EXPECT_EQ(local.status().code(), absl::StatusCode::kResourceExhausted) << local.status();
  EXPECT_EQ(small->ListJob("conf-cap")->size(), 1u);
  // A small piece still fits: the refusals reserved nothing.
  EXPECT_TRUE(small->PutBytes(b, MakePieceImage(b, 100), 0).ok());
}

TEST_P(DepotConformance, ConcurrentWritersAndReadersLoseNothing) {
  constexpr int kThreads = 8, kPieces = 3;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int p = 0; p < kPieces; ++p) {
        v1::PieceKey key = Key("conf-conc", p, t);
        std::string image = MakePieceImage(key, 20000 + t * 100);
        auto put = depot_->PutBytes(key, image, 0);
        auto back = put.ok() ? depot_->GetAll(put->caps().read()) : put.status();
        std::vector<double> u(3);
        absl::Status range = put.ok()
                                 ? depot_->ReadRange(put->caps().read(), "u", ElementType::kDouble,
                                                     {{0, 1000, 3, 1}}, u.data(), 24)
                                 : put.status();
        if (!back.ok() || *back != image || !range.ok() || u[2] != 2000.5 + t) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto listed = depot_->ListJob("conf-conc");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), static_cast<size_t>(kThreads * kPieces));
}

}  // namespace

}  // namespace testing
}  // namespace srs
