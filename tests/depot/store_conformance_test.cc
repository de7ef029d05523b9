// The conformance suite on PieceStore over both backends, in-process, with a fake lease clock;
// plus unit tests of the store's helpers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/checksum.h"
#include "depot/file/file_backend.h"
#include "depot/memory/memory_backend.h"
#include "depot/piece_store.h"
#include "tests/depot/conformance.h"

namespace srs {
namespace testing {
namespace {

using depot::PieceStore;

std::string TempDir() {
  char tmpl[] = "/tmp/srs-store-test.XXXXXX";
  return mkdtemp(tmpl);
}

class StoreUnderTest : public DepotUnderTest {
 public:
  StoreUnderTest(bool file, int64_t capacity) : dir_(TempDir()), file_(file) {
    std::unique_ptr<depot::PieceBackend> backend;
    if (file) {
      backend = std::move(depot::FileBackend::Open(dir_ + "/depot")).value();
    } else {
      backend = std::make_unique<depot::MemoryBackend>(dir_);
    }
    depot::StoreOptions options;
    options.capacity_bytes = capacity;
    options.now = [this] { return absl::FromUnixSeconds(1800000000) + clock_offset_; };
    store_ = std::move(PieceStore::Open(std::move(backend), options)).value();
  }
  ~StoreUnderTest() override {
    store_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  absl::StatusOr<v1::PutResponse> PutBytes(const v1::PieceKey& key, const std::string& bytes,
                                           int64_t lease) override {
    v1::PutHeader header = Header(key, bytes.size(), lease);
    auto session = store_->BeginPut(header);
    if (!session.ok()) return session.status();
    for (size_t at = 0; at < bytes.size(); at += depot::kChunkBytes) {
      absl::Status s = (*session)->Append(absl::string_view(bytes).substr(at, depot::kChunkBytes));
      if (!s.ok()) return s;
    }
    auto result = (*session)->Commit(Xxh3(bytes.data(), bytes.size()), bytes.size());
    if (!result.ok()) return result.status();
    return Response(*result);
  }
  absl::StatusOr<v1::PutResponse> PutLocal(
      const v1::PieceKey& key, int64_t size_hint, int64_t lease,
      const std::function<absl::Status(const std::string&)>& write_file) override {
    auto ticket = store_->BeginLocalPut(Header(key, size_hint, lease));
    if (!ticket.ok()) return ticket.status();
    absl::Status written = write_file(ticket->spool_path);
    if (!written.ok()) {
      store_->AbortLocalPut(ticket->put_id).IgnoreError();
      return written;
    }
    auto result = store_->CommitLocalPut(ticket->put_id);
    if (!result.ok()) return result.status();
    return Response(*result);
  }
  absl::Status ReadRange(const std::string& cap, const std::string& dataset, ElementType type,
                         const std::vector<piece::Hyperslab>& sel, void* out,
                         size_t out_bytes) override {
    size_t at = 0;
    absl::Status s =
        store_->ReadRange(cap, dataset, ElementTypeName(type), sel, [&](absl::string_view chunk) {
          if (at + chunk.size() > out_bytes) return false;
          memcpy(static_cast<char*>(out) + at, chunk.data(), chunk.size());
          at += chunk.size();
          return true;
        });
    return s;
  }
  absl::StatusOr<std::string> GetAll(const std::string& cap) override {
    std::string bytes;
    absl::Status s = store_->Get(cap, [&](absl::string_view chunk) {
      EXPECT_LE(chunk.size(), depot::kChunkBytes);
      bytes.append(chunk.data(), chunk.size());
      return true;
    });
    if (!s.ok()) return s;
    return bytes;
  }
  absl::StatusOr<std::string> OpenLocal(const std::string& cap) override {
    auto open = store_->OpenLocal(cap);
    if (!open.ok()) return open.status();
    return open->path;
  }
  absl::StatusOr<v1::PieceInfo> Stat(const std::string& cap) override { return store_->Stat(cap); }
  absl::Status Delete(const std::string& cap) override { return store_->Delete(cap); }
  absl::Status Renew(const std::vector<std::string>& caps, int64_t lease) override {
    return store_->Renew(caps, lease);
  }
  absl::StatusOr<std::vector<v1::PieceInfo>> ListJob(const std::string& job) override {
    return store_->ListJob(job);
  }
  void LetTimePass(int seconds) override {
    clock_offset_ += absl::Seconds(seconds);
    store_->Sweep();
  }
  bool has_local_paths() const override { return file_; }

 private:
  static v1::PutHeader Header(const v1::PieceKey& key, int64_t size, int64_t lease) {
    v1::PutHeader header;
    *header.mutable_key() = key;
    header.set_size_hint(size);
    header.set_lease_seconds(lease);
    return header;
  }
  static v1::PutResponse Response(const depot::PutResult& result) {
    v1::PutResponse response;
    *response.mutable_caps() = result.caps;
    *response.mutable_info() = result.info;
    return response;
  }

  std::string dir_;
  bool file_;
  absl::Duration clock_offset_;
  std::unique_ptr<PieceStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DepotConformance,
                         ::testing::Values(DepotFactory{"File",
                                                        [](const DepotSetup& s) {
                                                          return std::make_unique<StoreUnderTest>(
                                                              true, s.capacity_bytes);
                                                        }},
                                           DepotFactory{"Memory",
                                                        [](const DepotSetup& s) {
                                                          return std::make_unique<StoreUnderTest>(
                                                              false, s.capacity_bytes);
                                                        }}),
                         FactoryName);

TEST(SplitSelections, GroupsStayWithinTheBudgetAndKeepOrder) {
  std::vector<piece::Hyperslab> sel = {{100, 1, 1, 25}, {0, 10, 7, 3}, {50, 1, 0, 1}};
  auto groups = depot::SplitSelections(sel, 10);
  std::vector<int64_t> flat;
  for (const auto& g : groups) {
    int64_t n = 0;
    for (const auto& s : g) {
      n += s.count * s.block;
      for (int64_t c = 0; c < s.count; ++c) {
        for (int64_t b = 0; b < s.block; ++b) flat.push_back(s.start + c * s.stride + b);
      }
    }
    EXPECT_LE(n, 10);
    EXPECT_GT(n, 0);
  }
  std::vector<int64_t> expected;
  for (int64_t i = 100; i < 125; ++i) expected.push_back(i);
  for (int64_t c = 0; c < 7; ++c) {
    for (int64_t b = 0; b < 3; ++b) expected.push_back(c * 10 + b);
  }
  EXPECT_EQ(flat, expected);
}

TEST(FileBackend, RestartDropsPartialPutsAndKeepsCommittedPieces) {
  std::string dir = TempDir();
  std::string cap;
  {
    auto store =
        std::move(PieceStore::Open(std::move(depot::FileBackend::Open(dir)).value(), {})).value();
    v1::PutHeader header;
    *header.mutable_key() = Key("restart", 1, 0);
    std::string image = MakePieceImage(header.key(), 100);
    auto session = std::move(store->BeginPut(header)).value();
    ASSERT_TRUE(session->Append(image).ok());
    cap = std::move(session->Commit(Xxh3(image.data(), image.size()), image.size()))
              .value()
              .caps.read();
  }
  // What a killed depot leaves: a spool file, a renamed piece without its record, a temp record,
  // and a piece whose record was renamed into place before its bytes reached the disk.
  ASSERT_EQ(std::system(("echo x > " + dir + "/spool/abc.part && echo x > " + dir +
                         "/pieces/dead.h5 && echo x > " + dir + "/pieces/dead.meta.tmp && : > " +
                         dir + "/pieces/torn.meta && echo x > " + dir + "/pieces/torn.h5")
                            .c_str()),
            0);
  auto store =
      std::move(PieceStore::Open(std::move(depot::FileBackend::Open(dir)).value(), {})).value();
  EXPECT_TRUE(store->Stat(cap).ok());
  EXPECT_EQ(access((dir + "/spool/abc.part").c_str(), F_OK), -1);
  EXPECT_EQ(access((dir + "/pieces/dead.h5").c_str(), F_OK), -1);
  EXPECT_EQ(access((dir + "/pieces/dead.meta.tmp").c_str(), F_OK), -1);
  EXPECT_EQ(access((dir + "/pieces/torn.meta").c_str(), F_OK), -1);
  EXPECT_EQ(access((dir + "/pieces/torn.h5").c_str(), F_OK), -1);
  EXPECT_EQ(store->GetUsage().pieces, 1);
  std::system(("rm -rf " + dir).c_str());
}

TEST(FileBackend, SweepRemovesWritersStraySpoolFilesOnlyOnceTheyAreAnHourOld) {
  std::string dir = TempDir();
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  depot::StoreOptions options;
  options.now = [now] { return now; };
  auto store =
      std::move(PieceStore::Open(std::move(depot::FileBackend::Open(dir)).value(), options))
          .value();
  // What a same-host writer that died before its rename leaves (depot/client/local_put.cc),
  // one written 2 hours ago and one 10 minutes ago by the store's clock; and a depot file.
  auto make = [&](const std::string& name, absl::Duration age) {
    std::string path = dir + "/spool/" + name;
    EXPECT_EQ(std::system(("echo x > " + path).c_str()), 0);
    timespec times[2];
    times[0] = times[1] = absl::ToTimespec(now - age);
    EXPECT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    return path;
  };
  std::string old_write = make("0123456789abcdef.writing", absl::Hours(2));
  std::string new_write = make("fedcba9876543210.writing", absl::Minutes(10));
  std::string depot_file = make("aaaaaaaaaaaaaaaa.part", absl::Hours(2));
  const std::string odd_dir = dir + "/spool/odd.writing";  // not a writer's file: left alone
  ASSERT_EQ(mkdir(odd_dir.c_str(), 0700), 0);
  // A file at the path of a ticket no put holds any more (replaced or reclaimed while its
  // writer still wrote there), and the file of a ticket still held, both 2 hours old.
  std::string orphan = make("0000111122223333.h5", absl::Hours(2));
  v1::PutHeader header;
  *header.mutable_key() = Key("held", 1, 0);
  header.set_size_hint(100);
  auto ticket = store->BeginLocalPut(header);
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  std::string held =
      make(ticket->spool_path.substr(ticket->spool_path.rfind('/') + 1), absl::Hours(2));
  EXPECT_EQ(store->Sweep(), 2);
  EXPECT_EQ(access(orphan.c_str(), F_OK), -1);
  EXPECT_EQ(access(held.c_str(), F_OK), 0) << "a ticket in hand keeps its file";
  EXPECT_EQ(access(odd_dir.c_str(), F_OK), 0);
  EXPECT_EQ(access(old_write.c_str(), F_OK), -1);
  EXPECT_EQ(access(new_write.c_str(), F_OK), 0) << "a writer may still be writing it";
  EXPECT_EQ(access(depot_file.c_str(), F_OK), 0) << "the depot's own spool files are not strays";
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace testing
}  // namespace srs
