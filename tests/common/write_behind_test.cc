// WriteBehind (common/write_behind.h): the bytes it counts, that it writes back while the writer
// is still writing, and that Finish leaves the whole file on disk.
#include "common/write_behind.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace srs {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

class WriteBehindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/srs-write-behind-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/piece.h5";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  // Appends `bytes` bytes of `fill` to the file through the writer's own descriptor.
  void Append(int fd, int64_t bytes, char fill) {
    std::string block(kMiB, fill);
    for (int64_t done = 0; done < bytes;) {
      const size_t step = static_cast<size_t>(std::min<int64_t>(kMiB, bytes - done));
      ASSERT_EQ(write(fd, block.data(), step), static_cast<ssize_t>(step));
      done += static_cast<int64_t>(step);
    }
  }
  // Every value on_durable was called with, in order.
  WriteBehind::OnDurable Recorder() {
    return [this](int64_t bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(bytes);
      latest_ = bytes;
    };
  }

  std::string dir_, path_;
  std::mutex mu_;
  std::vector<int64_t> seen_;
  std::atomic<int64_t> latest_{0};
};

TEST_F(WriteBehindTest, CountsChunksWhileTheWriterGoesOnThenAllOfIt) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  auto behind = WriteBehind::Start(path_, 64 * kMiB, Recorder());
  ASSERT_TRUE(behind.ok()) << behind.status();
  Append(fd, 40 * kMiB, 'a');
  // The writer pauses half way: the thread writes back what is there without being asked.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (latest_.load() < 32 * kMiB && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(latest_.load(), 32 * kMiB) << "nothing written back while the writer paused";
  Append(fd, 24 * kMiB + 12345, 'b');
  ASSERT_EQ(close(fd), 0);
  ASSERT_TRUE((*behind)->Finish().ok());
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_FALSE(seen_.empty());
  EXPECT_EQ(seen_.back(), 64 * kMiB + 12345);
  for (size_t i = 1; i < seen_.size(); ++i) EXPECT_GT(seen_[i], seen_[i - 1]) << i;
  // Whole chunks while the file grew, then the rest in chunk steps: several reports, not one.
  EXPECT_GE(seen_.size(), 8u);
}

TEST_F(WriteBehindTest, ASmallFileIsOneFsyncAndOneReport) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  auto behind = WriteBehind::Start(path_, 3 * kMiB, Recorder());
  ASSERT_TRUE(behind.ok()) << behind.status();
  Append(fd, 3 * kMiB, 'c');
  ASSERT_EQ(close(fd), 0);
  ASSERT_TRUE((*behind)->Finish().ok());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(seen_, std::vector<int64_t>{3 * kMiB});
}

// StartRest (no fsync, for a reader that syncs the file itself): a small file's writeback is only
// started (by Written for the ranges the writer names, and at the end), so nothing is counted; a
// large one is written back to its end and counted as by Finish. Either way the bytes are the
// writer's.
TEST_F(WriteBehindTest, StartRestCountsOnlyWhatItWroteBack) {
  for (int64_t bytes : {3 * kMiB, 20 * kMiB + 7}) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.clear();
    }
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    auto behind = WriteBehind::Start(path_, bytes, Recorder());
    ASSERT_TRUE(behind.ok()) << behind.status();
    Append(fd, bytes, 'e');
    ASSERT_EQ(close(fd), 0);
    // Without a thread the writer hands over its ranges (a range's writeback starts at once);
    // with one, the thread does it and the ranges are not wanted.
    EXPECT_EQ((*behind)->WantsRanges(), bytes < WriteBehind::kMinThreadBytes) << bytes;
    (*behind)->Written(0, static_cast<uint64_t>(bytes / 2));
    ASSERT_TRUE((*behind)->StartRest().ok()) << bytes;
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes < WriteBehind::kMinThreadBytes) {
      EXPECT_TRUE(seen_.empty()) << bytes;
    } else {
      ASSERT_FALSE(seen_.empty()) << bytes;
      EXPECT_EQ(seen_.back(), bytes);
    }
    std::string back(static_cast<size_t>(bytes), '\0');
    int in = open(path_.c_str(), O_RDONLY);
    ASSERT_GE(in, 0);
    EXPECT_EQ(pread(in, back.data(), back.size(), 0), static_cast<ssize_t>(bytes));
    close(in);
    EXPECT_EQ(back, std::string(static_cast<size_t>(bytes), 'e')) << bytes;
  }
}

// Written (the writer's ranges, when no thread runs): whole pages only, gathered until
// kEagerBytes are due; a range close behind the last continues it, a far one starts at its own
// first whole page; with a thread it does nothing.
TEST_F(WriteBehindTest, WrittenStartsWholePagesOnceEnoughHaveGathered) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  Append(fd, 12 * kMiB, 'f');
  auto behind = WriteBehind::Start(path_, 4 * kMiB, {});
  ASSERT_TRUE(behind.ok()) << behind.status();
  WriteBehind& b = **behind;
  ASSERT_TRUE(b.WantsRanges());
  const uint64_t mib = static_cast<uint64_t>(kMiB);
  b.Written(2048, mib);  // a first slab after the superblock: pages 1..255 (page 0 waits)
  EXPECT_EQ(b.eager_end(), mib);
  b.Written(2048 + mib, mib);  // the next slab continues, its partial last page waits again
  EXPECT_EQ(b.eager_end(), 2 * mib);
  b.Written(2048 + 2 * mib + 8192, 100 << 10);  // near (an object header apart), too little yet
  EXPECT_EQ(b.eager_end(), 2 * mib);
  b.Written(2048 + 2 * mib + 8192 + (100 << 10) + 4096, 500 << 10);  // near: now enough
  EXPECT_EQ(b.eager_end(),
            (2048 + 2 * mib + 8192 + (100 << 10) + 4096 + (500 << 10)) / 4096 * 4096);
  b.Written(10 * mib + 100, 600 << 10);  // far: from its own first whole page
  EXPECT_EQ(b.eager_end(), (10 * mib + 100 + (600 << 10)) / 4096 * 4096);
  ASSERT_TRUE(b.StartRest().ok());
  ASSERT_EQ(close(fd), 0);
  // A file with a thread: the thread starts the writeback, the writer's ranges are not wanted.
  auto threaded = WriteBehind::Start(path_, 64 * kMiB, {});
  ASSERT_TRUE(threaded.ok());
  EXPECT_FALSE((*threaded)->WantsRanges());
  (*threaded)->Written(0, 4 * mib);
  EXPECT_EQ((*threaded)->eager_end(), 0u);
  ASSERT_TRUE((*threaded)->StartRest().ok());
}

TEST_F(WriteBehindTest, AMissingFileIsNotFoundAndAnAbandonedWriteStopsCleanly) {
  auto missing = WriteBehind::Start(dir_ + "/absent.h5", 64 * kMiB, Recorder());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_NE(std::string(missing.status().message()).find("absent.h5"), std::string::npos);
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  {
    auto behind = WriteBehind::Start(path_, 64 * kMiB, {});  // no callback: fine
    ASSERT_TRUE(behind.ok());
    Append(fd, 17 * kMiB, 'd');
  }  // the writer failed: no Finish; the thread stops without hanging
  close(fd);
}

}  // namespace
}  // namespace srs
