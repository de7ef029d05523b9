// The HDF5 piece format: every element type round-trips, big-endian files read back as
// little-endian values, ranged reads follow request order and convert types, and corruption or
// malformed selections are clear errors.
#include "common/piece_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <complex>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

#include "common/checksum.h"

namespace srs::piece {
namespace {

using ::testing::HasSubstr;

class PieceFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-piece-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  std::string dir_;
};

PieceHeader Header() { return PieceHeader{"heat", 7, 2, 4, ""}; }

template <typename T>
DatasetWrite Write(const std::string& name, ElementType type, const std::vector<T>& v,
                   bool be = false) {
  DatasetWrite ds;
  ds.name = name;
  ds.type = type;
  ds.data = v.data();
  ds.count = static_cast<int64_t>(v.size());
  ds.global_count = ds.count * 4;
  ds.distribution = "block_cyclic";
  ds.distribution_params = {64};
  ds.big_endian = be;
  return ds;
}

template <typename T>
std::vector<T> ReadAll(const std::string& path, const std::string& name, ElementType type,
                       int64_t n) {
  std::vector<T> out(n);
  absl::Status s = ReadSelection(path, name, type, {{0, 1, n, 1}}, out.data(), n * sizeof(T));
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

template <typename T>
void RoundTrip(const std::string& path, ElementType type, bool be) {
  std::vector<T> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(static_cast<int>(i % 120) - 60);
  ASSERT_TRUE(WritePieceFile(path, Header(), {Write("a", type, v, be)}).ok());
  absl::StatusOr<PieceSummary> summary = VerifyPiece(path);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->datasets.size(), 1u);
  EXPECT_EQ(summary->datasets[0].type, type);
  EXPECT_EQ(summary->datasets[0].count, 1000);
  EXPECT_EQ(summary->datasets[0].global_count, 4000);
  EXPECT_EQ(summary->datasets[0].distribution, "block_cyclic");
  EXPECT_EQ(summary->datasets[0].distribution_params, std::vector<int64_t>{64});
  EXPECT_EQ(ReadAll<T>(path, "a", type, 1000), v);
}

TEST_F(PieceFormatTest, EveryTypeRoundTripsInBothByteOrders) {
  for (bool be : {false, true}) {
    SCOPED_TRACE(be ? "big-endian" : "little-endian");
    RoundTrip<signed char>(Path("c.h5"), ElementType::kChar, be);
    RoundTrip<int32_t>(Path("i.h5"), ElementType::kInt32, be);
    RoundTrip<int64_t>(Path("l.h5"), ElementType::kInt64, be);
    RoundTrip<float>(Path("f.h5"), ElementType::kFloat, be);
    RoundTrip<double>(Path("d.h5"), ElementType::kDouble, be);
    RoundTrip<std::complex<float>>(Path("cf.h5"), ElementType::kFloatComplex, be);
    RoundTrip<std::complex<double>>(Path("cd.h5"), ElementType::kDoubleComplex, be);
  }
}

TEST_F(PieceFormatTest, HeaderAndIndexRoundTrip) {
  std::vector<double> v = {1, 2, 3};
  std::vector<int64_t> index = {5, 9, 11};
  DatasetWrite ds = Write("m", ElementType::kDouble, v);
  ds.distribution = "map";
  ds.distribution_params = {};
  ds.global_index = index.data();
  std::vector<int32_t> empty;
  ASSERT_TRUE(
      WritePieceFile(Path("p.h5"), Header(), {ds, Write("z", ElementType::kInt32, empty)}).ok());
  absl::StatusOr<PieceSummary> s = VerifyPiece(Path("p.h5"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->format_version, 1);
  EXPECT_EQ(s->header.app, "heat");
  EXPECT_EQ(s->header.epoch, 7);
  EXPECT_EQ(s->header.rank, 2);
  EXPECT_EQ(s->header.nprocs, 4);
  EXPECT_THAT(s->header.created, testing::MatchesRegex("20[0-9-]+T[0-9:]+Z"));
  ASSERT_EQ(s->datasets.size(), 2u);
  EXPECT_TRUE(s->datasets[0].has_index);
  EXPECT_TRUE(s->datasets[0].distribution_params.empty());
  EXPECT_EQ(s->datasets[1].count, 0);
  EXPECT_EQ(s->datasets[0].checksum, Xxh3(v.data(), 24));
  std::vector<int64_t> got;
  ASSERT_TRUE(ReadIndex(Path("p.h5"), "m", &got).ok());
  EXPECT_EQ(got, index);
  EXPECT_EQ(ReadIndex(Path("p.h5"), "z", &got).code(), absl::StatusCode::kNotFound);
  // Ranged reads of "srs_index/<name>": int64 only, same validation as any dataset.
  int64_t two[2] = {0, 0};
  ASSERT_TRUE(ReadSelection(Path("p.h5"), "srs_index/m", ElementType::kInt64,
                            {{2, 1, 1, 1}, {0, 1, 1, 1}}, two, sizeof(two))
                  .ok());
  EXPECT_EQ(two[0], 11);
  EXPECT_EQ(two[1], 5);
  auto code = [&](const std::string& name, ElementType t, Hyperslab sel) {
    return ReadSelection(Path("p.h5"), name, t, {sel}, two, sizeof(two)).code();
  };
  EXPECT_EQ(code("srs_index/m", ElementType::kInt64, {2, 1, 2, 1}), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(code("srs_index/m", ElementType::kDouble, {0, 1, 1, 1}),
            absl::StatusCode::kInvalidArgument);
  for (const char* missing : {"srs_index/z", "srs_index/", "srs_index/m/x", "srs_index/nope"}) {
    EXPECT_EQ(code(missing, ElementType::kInt64, {0, 1, 1, 1}), absl::StatusCode::kNotFound)
        << missing;
  }
}

TEST_F(PieceFormatTest, ImageEqualsFileContentsAndReads) {
  std::vector<int64_t> v(5000);
  std::iota(v.begin(), v.end(), 0);
  PieceHeader h = Header();
  h.created = "2026-01-01T00:00:00Z";
  absl::StatusOr<std::string> image = WritePieceImage(h, {Write("x", ElementType::kInt64, v)});
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(VerifyPieceImage(*image, "img").ok());
  std::ofstream(Path("img.h5"), std::ios::binary) << *image;
  ASSERT_TRUE(VerifyPiece(Path("img.h5")).ok());
  std::vector<double> out(3);
  ASSERT_TRUE(ReadSelectionImage(*image, "img", "x", ElementType::kDouble, {{10, 100, 3, 1}},
                                 out.data(), 24)
                  .ok());
  EXPECT_EQ(out, (std::vector<double>{10, 110, 210}));
}

TEST_F(PieceFormatTest, SelectionsConcatenateInRequestOrderAndConvert) {
  std::vector<int32_t> v(100);
  std::iota(v.begin(), v.end(), 0);
  ASSERT_TRUE(WritePieceFile(Path("s.h5"), Header(), {Write("v", ElementType::kInt32, v)}).ok());
  std::vector<double> out(9);
  // Later blocks first, then a strided run with blocks of 2: request order, not file order.
  ASSERT_TRUE(ReadSelection(Path("s.h5"), "v", ElementType::kDouble, {{90, 1, 1, 3}, {0, 10, 3, 2}},
                            out.data(), out.size() * 8)
                  .ok());
  EXPECT_EQ(out, (std::vector<double>{90, 91, 92, 0, 1, 10, 11, 20, 21}));
}

TEST_F(PieceFormatTest, MalformedSelectionsAreClearErrors) {
  std::vector<double> v(10, 1.0);
  ASSERT_TRUE(WritePieceFile(Path("m.h5"), Header(), {Write("v", ElementType::kDouble, v)}).ok());
  double out[16];
  auto read = [&](std::vector<Hyperslab> sel, ElementType t = ElementType::kDouble,
                  const std::string& name = "v", size_t bytes = sizeof(out)) {
    return ReadSelection(Path("m.h5"), name, t, sel, out, bytes).code();
  };
  EXPECT_EQ(read({{-1, 1, 1, 1}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 0, 2, 1}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 1, -2, 1}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 1, 2, 2}}), absl::StatusCode::kInvalidArgument);  // overlapping
  EXPECT_EQ(read({{8, 1, 3, 1}}), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(read({{0, 4, 3, 2}}), absl::StatusCode::kOk);          // last block is [8, 10)
  EXPECT_EQ(read({{1, 4, 3, 2}}), absl::StatusCode::kOutOfRange);  // last block is [9, 11)
  EXPECT_EQ(read({{0, 1, 1, 1}}, ElementType::kDouble, "nope"), absl::StatusCode::kNotFound);
  EXPECT_EQ(read({{0, 1, 1, 1}}, ElementType::kDoubleComplex), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 1, 10, 1}}, ElementType::kDouble, "v", 8),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read({{0, 1, 0, 1}}), absl::StatusCode::kOk);
}

TEST_F(PieceFormatTest, CorruptionIsDataLossNamingFileAndDataset) {
  std::vector<double> v(4096);
  std::iota(v.begin(), v.end(), 0.5);
  const std::string path = Path("bad.h5");
  ASSERT_TRUE(WritePieceFile(path, Header(), {Write("temperature", ElementType::kDouble, v)}).ok());
  // Flip one byte of the raw data (the value 100.5 is unique in the file).
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  std::stringstream all;
  all << f.rdbuf();
  std::string bytes = all.str();
  double needle = 100.5;
  size_t at = bytes.find(std::string(reinterpret_cast<char*>(&needle), 8));
  ASSERT_NE(at, std::string::npos);
  f.seekp(at);
  f.put(static_cast<char>(bytes[at] ^ 0x40));
  f.close();
  ASSERT_TRUE(ReadPieceSummary(path).ok());  // attributes only: not noticed
  absl::Status s = VerifyPiece(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr("temperature"));
  EXPECT_EQ(VerifyPiece(Path("missing.h5")).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(Path("junk.h5")) << "not hdf5";
  EXPECT_EQ(VerifyPiece(Path("junk.h5")).status().code(), absl::StatusCode::kDataLoss);
}

// VerifyPieceFile reads the file once: the whole-file hash it returns is the file's, and a byte
// flipped in any dataset (the last one too) or a truncated file is still caught.
TEST_F(PieceFormatTest, OnePassVerificationHashesTheFileAndCatchesDamage) {
  std::vector<double> a(70000), b(50000);
  std::iota(a.begin(), a.end(), 0.25);
  std::iota(b.begin(), b.end(), 1e6 + 0.75);
  const std::string path = Path("one.h5");
  ASSERT_TRUE(
      WritePieceFile(path, Header(),
                     {Write("a", ElementType::kDouble, a), Write("b", ElementType::kDouble, b)})
          .ok());
  std::stringstream all;
  all << std::ifstream(path, std::ios::binary).rdbuf();
  const std::string bytes = all.str();
  absl::StatusOr<VerifiedFile> v = VerifyPieceFile(path);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(v->xxh3, Xxh3(bytes.data(), bytes.size()));
  ASSERT_EQ(v->summary.datasets.size(), 2u);
  auto damaged = [&](const std::string& name, const std::string& contents) {
    std::ofstream(Path(name), std::ios::binary) << contents;
    return VerifyPieceFile(Path(name)).status();
  };
  double needle = b.back();
  size_t at = bytes.find(std::string(reinterpret_cast<char*>(&needle), 8));
  ASSERT_NE(at, std::string::npos);
  std::string flipped = bytes;
  flipped[at] ^= 0x01;
  absl::Status s = damaged("flip.h5", flipped);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("dataset 'b'"));
  EXPECT_EQ(damaged("cut.h5", bytes.substr(0, bytes.size() - 4096)).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(damaged("half.h5", bytes.substr(0, bytes.size() / 2)).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(PieceFormatTest, InvalidWritesAreRejected) {
  std::vector<double> v(3);
  EXPECT_EQ(
      WritePieceFile(Path("w.h5"), Header(),
                     {Write("a", ElementType::kDouble, v), Write("a", ElementType::kDouble, v)})
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WritePieceFile(Path("w.h5"), Header(), {Write("a/b", ElementType::kDouble, v)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      WritePieceFile(Path("w.h5"), Header(), {Write("srs_index", ElementType::kDouble, v)}).code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace srs::piece
