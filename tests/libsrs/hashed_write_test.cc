// Hash on the way (issue 15): the size and XXH3 WritePieceFileHashed computes from the bytes as
// it writes them (dataset and index bytes from memory, HDF5 metadata read back) are exactly
// those of the file on disk, for every element type, index datasets, big-endian datasets (read
// back), empty datasets; HashWrittenFile refuses ranges that overlap or leave the file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <complex>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/direct_write.h"
#include "common/piece_format.h"
#include "common/written_file_hash.h"
#include "depot/file/file_backend.h"
#include "depot/piece_store.h"
#include "depot/raw_dataset.h"

namespace srs {
namespace {

class HashedWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/srs-hashed-write.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }

  // Size and XXH3 of the file as it is on disk.
  static FileDigest ReadBack(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    return FileDigest{static_cast<int64_t>(bytes.size()), Xxh3(bytes.data(), bytes.size())};
  }

  // Checks that `digest` is the file's as it is on disk and what the depot's full verification
  // computes (`context` names the case in failures). Returns the file's own digest.
  static FileDigest ExpectDigestIsTheFiles(const std::string& path, const FileDigest& digest,
                                           const std::string& context) {
    FileDigest disk = ReadBack(path);
    EXPECT_EQ(digest.size, disk.size) << context;
    EXPECT_EQ(digest.xxh3, disk.xxh3) << context;
    absl::StatusOr<piece::VerifiedFile> verified = piece::VerifyPieceFile(path);
    EXPECT_TRUE(verified.ok()) << context << ": " << verified.status();
    if (verified.ok()) {
      EXPECT_EQ(verified->xxh3, digest.xxh3) << context;
      EXPECT_EQ(verified->size, digest.size) << context;
    }
    return disk;
  }

  std::string dir_;
};

piece::DatasetWrite Dataset(const std::string& name, ElementType type, const void* data,
                            int64_t count) {
  piece::DatasetWrite ds;
  ds.name = name;
  ds.type = type;
  ds.data = data;
  ds.count = count;
  ds.global_count = count;
  ds.distribution = "none";
  return ds;
}

TEST_F(HashedWriteTest, DigestIsTheFilesForEveryKindOfDataset) {
  std::vector<double> u(100003);
  std::iota(u.begin(), u.end(), 0.5);
  std::vector<int32_t> n(777, -3);
  std::vector<std::complex<double>> z(300, {1.5, -2.5});
  std::vector<char> c(13, 'x');
  std::vector<float> be(4097, 3.25f);
  std::vector<int64_t> index(777);
  std::iota(index.begin(), index.end(), 1000);
  std::vector<piece::DatasetWrite> datasets = {
      Dataset("u", ElementType::kDouble, u.data(), static_cast<int64_t>(u.size())),
      Dataset("n", ElementType::kInt32, n.data(), static_cast<int64_t>(n.size())),
      Dataset("z", ElementType::kDoubleComplex, z.data(), static_cast<int64_t>(z.size())),
      Dataset("c", ElementType::kChar, c.data(), static_cast<int64_t>(c.size())),
      Dataset("be", ElementType::kFloat, be.data(), static_cast<int64_t>(be.size())),
      Dataset("empty", ElementType::kDouble, nullptr, 0)};
  datasets[1].distribution = "map";
  datasets[1].global_index = index.data();
  datasets[4].big_endian = true;
  std::string path = Path("piece.h5");
  absl::StatusOr<FileDigest> digest =
      piece::WritePieceFileHashed(path, {"heat", 3, 1, 4, ""}, datasets);
  ASSERT_TRUE(digest.ok()) << digest.status();
  ExpectDigestIsTheFiles(path, *digest, "every kind of dataset");
}

// How many pages of `dataset`'s stored bytes are in the page cache (mincore of a mapping).
int64_t CachedPages(const std::string& path, const std::string& dataset) {
  absl::StatusOr<std::optional<depot::RawDataset>> raw =
      depot::LocateRawDataset(path, dataset, ElementType::kDouble);
  if (!raw.ok() || !raw->has_value()) return -1;
  int fd = open(path.c_str(), O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return -1;
  void* map = mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return -1;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((st.st_size + page - 1) / page);
  int64_t cached = -1;
  if (mincore(map, st.st_size, resident.data()) == 0) {
    cached = 0;
    const uint64_t begin = (*raw)->offset, end = begin + (*raw)->count * 8;
    for (uint64_t at = begin / page * page; at < end; at += page) cached += resident[at / page] & 1;
  }
  munmap(map, st.st_size);
  return cached;
}

// Page-aligned memory, as an asynchronous checkpoint's staging buffer holds its arrays.
struct AlignedBytes {
  explicit AlignedBytes(size_t bytes) {
    if (posix_memalign(&data, kDirectAlign, bytes) != 0) data = nullptr;
  }
  ~AlignedBytes() { std::free(data); }
  void* data = nullptr;
};

// Direct I/O (WriteOptions::direct_io): datasets of at least 1 MiB in page-aligned memory are
// laid out by HDF5 and written with O_DIRECT (a length that is not a whole number of blocks gets
// its tail buffered); others, unaligned memory and big-endian data as before. The file is the
// same kind of piece: same digest as on disk, full verification passes, every element reads
// back. On tmpfs (no O_DIRECT) everything falls back to buffered writes.
TEST_F(HashedWriteTest, DirectIoFromAlignedMemoryWritesTheSamePiece) {
  const int64_t big = (int64_t{3} << 20) / 8 + 5;  // 3 MiB + 40 B of doubles: a partial block
  AlignedBytes u_mem(big * 8), v_mem(big * 8 + 8);
  ASSERT_NE(u_mem.data, nullptr);
  ASSERT_NE(v_mem.data, nullptr);
  double* u = static_cast<double*>(u_mem.data);
  std::iota(u, u + big, 0.25);
  double* v = static_cast<double*>(v_mem.data) + 1;  // 8 bytes past a page: not aligned
  std::iota(v, v + big, -7.0);
  std::vector<int32_t> small(1000, 42);
  std::vector<piece::DatasetWrite> datasets = {
      Dataset("u", ElementType::kDouble, u, big), Dataset("v", ElementType::kDouble, v, big),
      Dataset("small", ElementType::kInt32, small.data(), 1000)};
  for (const std::string& dir : {dir_, std::string("/dev/shm")}) {
    std::string path = dir + "/direct-" + std::to_string(getpid()) + ".h5";
    std::vector<int64_t> seen;
    piece::WriteOptions options;
    options.direct_io = true;
    options.on_durable = [&seen](int64_t bytes) { seen.push_back(bytes); };
    absl::StatusOr<FileDigest> digest =
        piece::WritePieceFileHashed(path, {"heat", 4, 0, 2, ""}, datasets, options);
    ASSERT_TRUE(digest.ok()) << dir << ": " << digest.status();
    if (dir == dir_) {
      // Went around the page cache: of u's 769 pages only the last, partial one (its 40-byte
      // tail, written buffered) is cached; a buffered write leaves them all there, as v's
      // (unaligned memory, buffered) are.
      EXPECT_LE(CachedPages(path, "u"), 1) << "u was not written with direct I/O";
      EXPECT_GE(CachedPages(path, "v"), 768);
    }
    const FileDigest disk = ExpectDigestIsTheFiles(path, *digest, dir);
    std::vector<double> back(big);
    ASSERT_TRUE(piece::ReadSelection(path, "u", ElementType::kDouble, {{0, 1, 1, big}}, back.data(),
                                     back.size() * 8)
                    .ok());
    EXPECT_EQ(std::memcmp(back.data(), u, big * 8), 0) << dir;
    ASSERT_TRUE(piece::ReadSelection(path, "v", ElementType::kDouble, {{0, 1, 1, big}}, back.data(),
                                     back.size() * 8)
                    .ok());
    EXPECT_EQ(std::memcmp(back.data(), v, big * 8), 0) << dir;
    // Progress: the direct bytes of "u" as they went, then the whole file once it is durable.
    ASSERT_FALSE(seen.empty()) << dir;
    EXPECT_EQ(seen.back(), disk.size) << dir;
    for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]) << dir;
    unlink(path.c_str());
  }
}

// WriteOptions::fsync = false (a same-host depot's spool file, which the depot fsyncs as it
// adopts it): the hash, taken on its own thread while the writeback starts, is still the file's,
// for a small piece (no write-behind thread: its data written in 1 MiB slabs whose writeback
// starts as each is written, a last partial slab, a dataset written whole and one too small to
// start anything; nothing counted, as nothing is known written back) and a large one (counted
// chunk by chunk to its end, as with the fsync). Every element reads back.
TEST_F(HashedWriteTest, WithoutTheFsyncTheDigestIsStillTheFilesAndOnlyWrittenBackBytesCount) {
  for (int64_t count : {(int64_t{3} << 17) + 5, (int64_t{20} << 17) + 3}) {
    std::vector<double> u(count);
    std::iota(u.begin(), u.end(), -1.5);
    std::vector<int32_t> mid(300 << 8, 7), tiny(100, -1);  // 300 KiB, 400 B
    std::vector<int64_t> seen;
    piece::WriteOptions options;
    options.fsync = false;
    options.on_durable = [&seen](int64_t bytes) { seen.push_back(bytes); };
    const std::string path = Path("unsynced.h5");
    absl::StatusOr<FileDigest> digest = piece::WritePieceFileHashed(
        path, {"heat", 5, 0, 1, ""},
        {Dataset("u", ElementType::kDouble, u.data(), count),
         Dataset("mid", ElementType::kInt32, mid.data(), static_cast<int64_t>(mid.size())),
         Dataset("tiny", ElementType::kInt32, tiny.data(), static_cast<int64_t>(tiny.size()))},
        options);
    ASSERT_TRUE(digest.ok()) << count << ": " << digest.status();
    const FileDigest disk = ExpectDigestIsTheFiles(path, *digest, std::to_string(count));
    std::vector<double> back(count);
    ASSERT_TRUE(piece::ReadSelection(path, "u", ElementType::kDouble, {{0, 1, 1, count}},
                                     back.data(), back.size() * 8)
                    .ok());
    EXPECT_EQ(back, u) << count;
    std::vector<int32_t> mid_back(mid.size());
    ASSERT_TRUE(piece::ReadSelection(path, "mid", ElementType::kInt32,
                                     {{0, 1, 1, static_cast<int64_t>(mid.size())}}, mid_back.data(),
                                     mid_back.size() * 4)
                    .ok());
    EXPECT_EQ(mid_back, mid) << count;
    if (count * 8 < WriteBehind::kMinThreadBytes) {
      EXPECT_TRUE(seen.empty()) << count << ": counted " << seen.back() << " bytes never synced";
    } else {
      ASSERT_FALSE(seen.empty()) << count;
      EXPECT_EQ(seen.back(), disk.size) << count;
    }
    unlink(path.c_str());
  }
}

TEST_F(HashedWriteTest, RangesThatDoNotMatchTheFileChangeTheDigestOrAreRefused) {
  std::string path = Path("plain.bin");
  std::string bytes(10000, 'a');
  std::ofstream(path, std::ios::binary) << bytes;
  std::string same(4000, 'a'), other(4000, 'b');
  absl::StatusOr<FileDigest> right = HashWrittenFile(path, {{1000, same.data(), same.size()}});
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_EQ(right->xxh3, Xxh3(bytes.data(), bytes.size()));
  absl::StatusOr<FileDigest> wrong = HashWrittenFile(path, {{1000, other.data(), other.size()}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(wrong->xxh3, right->xxh3);
  EXPECT_EQ(
      HashWrittenFile(path, {{0, same.data(), 4000}, {3000, same.data(), 4000}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashWrittenFile(path, {{8000, same.data(), 4000}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashWrittenFile(Path("missing"), {}).status().code(), absl::StatusCode::kNotFound);
}

// The depot's side (depot/README.md "What a commit checks"): a local put committed with the
// writer's digest is not read back at commit, but a digest that does not match the bytes is
// caught before any read, and a size that does not match refuses the commit.
TEST_F(HashedWriteTest, DepotTrustsTheSizeOnlyAfterCheckingItAndVerifiesBytesBeforeReads) {
  auto backend = depot::FileBackend::Open(Path("depot"));
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto store = depot::PieceStore::Open(std::move(backend).value(), {});
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<double> u(5000);
  std::iota(u.begin(), u.end(), 1.0);
  std::vector<piece::DatasetWrite> datasets = {Dataset("u", ElementType::kDouble, u.data(), 5000)};
  // put(epoch, digest edit): a local put whose writer reports its digest, edited by `lie`.
  auto put = [&](int64_t epoch, auto lie) -> absl::StatusOr<depot::PutResult> {
    depot::v1::PutHeader header;
    header.mutable_key()->set_job("hashed");
    header.mutable_key()->set_epoch(epoch);
    header.set_size_hint(5000 * 8);
    auto ticket = (*store)->BeginLocalPut(header);
    if (!ticket.ok()) return ticket.status();
    auto digest =
        piece::WritePieceFileHashed(ticket->spool_path, {"hashed", epoch, 0, 1, ""}, datasets);
    if (!digest.ok()) return digest.status();
    FileDigest told = *digest;
    lie(&told);
    return (*store)->CommitLocalPut(ticket->put_id, told);
  };
  auto read = [&](const depot::PutResult& result) {
    return (*store)->ReadRange(result.caps.read(), "u", "double", {{0, 1, 10, 1}},
                               [](absl::string_view) { return true; });
  };
  auto honest = put(1, [](FileDigest*) {});
  ASSERT_TRUE(honest.ok()) << honest.status();
  EXPECT_TRUE(read(*honest).ok());
  EXPECT_EQ(put(2, [](FileDigest* d) { d->size += 1; }).status().code(),
            absl::StatusCode::kDataLoss);
  auto lied = put(3, [](FileDigest* d) { d->xxh3 ^= 1; });
  ASSERT_TRUE(lied.ok()) << "the commit trusts the checksum: " << lied.status();
  absl::Status refused = read(*lied);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
}

}  // namespace
}  // namespace srs
