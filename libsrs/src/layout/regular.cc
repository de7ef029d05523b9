// block, cyclic and block_cyclic: closed forms, O(1) segments per rank.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "libsrs/src/layout/impl.h"

namespace srs {
namespace layout {
namespace internal {

absl::Status CheckShape(const char* what, int64_t global_count, int nprocs) {
  if (global_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: global count must be >= 0, got %d", what, global_count));
  }
  if (nprocs < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: process count must be >= 1, got %d", what, nprocs));
  }
  return absl::OkStatus();
}

void AppendBlockCyclicSegments(int64_t n, int64_t b, int nprocs, int d, int64_t global_base,
                               int64_t local_base, std::vector<Segment>* out) {
  if (n <= 0) return;
  b = std::min(b, n);  // a block longer than the array is the whole array: avoids overflow
  int64_t full_blocks = n / b;
  int64_t rest = n % b;
  int64_t mine = full_blocks > d ? (full_blocks - d - 1) / nprocs + 1 : 0;
  AppendSegment(out, Segment{global_base + d * b, b * nprocs, mine, b, local_base});
  if (rest > 0 && full_blocks % nprocs == d) {
    AppendSegment(out,
                  Segment{global_base + full_blocks * b, rest, 1, rest, local_base + mine * b});
  }
}

namespace {

class BlockImpl : public Distribution::Impl {
 public:
  Kind kind() const override { return Kind::kBlock; }
  absl::Status Validate(int64_t global_count, int nprocs) const override {
    return CheckShape("block", global_count, nprocs);
  }
  int64_t LocalCount(int64_t g_count, int rank, int nprocs) const override {
    return g_count / nprocs + (rank < g_count % nprocs ? 1 : 0);
  }
  std::vector<Segment> Segments(int64_t g_count, int rank, int nprocs) const override {
    int64_t q = g_count / nprocs;
    int64_t start = rank * q + std::min<int64_t>(rank, g_count % nprocs);
    std::vector<Segment> out;
    int64_t n = LocalCount(g_count, rank, nprocs);
    AppendSegment(&out, Segment{start, n, 1, n, 0});
    return out;
  }
  Location Locate(int64_t global, int64_t g_count, int nprocs) const override {
    int64_t q = g_count / nprocs;
    int64_t rem = g_count % nprocs;
    int64_t big = rem * (q + 1);  // the first `rem` ranks hold q + 1
    if (global < big) return Location{static_cast<int>(global / (q + 1)), global % (q + 1)};
    return Location{static_cast<int>(rem + (global - big) / q), (global - big) % q};
  }
};

class BlockCyclicImpl : public Distribution::Impl {
 public:
  BlockCyclicImpl(int64_t block_size, bool cyclic) : b_(block_size), cyclic_(cyclic) {}
  Kind kind() const override { return cyclic_ ? Kind::kCyclic : Kind::kBlockCyclic; }
  std::vector<int64_t> params() const override {
    return cyclic_ ? std::vector<int64_t>{} : std::vector<int64_t>{b_};
  }
  absl::Status Validate(int64_t global_count, int nprocs) const override {
    const char* what = cyclic_ ? "cyclic" : "block_cyclic";
    if (b_ < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: block size must be >= 1, got %d", what, b_));
    }
    return CheckShape(what, global_count, nprocs);
  }
  int64_t LocalCount(int64_t g_count, int rank, int nprocs) const override {
    int64_t n = 0;
    for (const Segment& s : Segments(g_count, rank, nprocs)) n += s.elements();
    return n;
  }
  std::vector<Segment> Segments(int64_t g_count, int rank, int nprocs) const override {
    std::vector<Segment> out;
    AppendBlockCyclicSegments(g_count, b_, nprocs, rank, 0, 0, &out);
    return out;
  }
  Location Locate(int64_t global, int64_t g_count, int nprocs) const override {
    int64_t b = std::min(b_, g_count);
    int64_t block = global / b;
    return Location{static_cast<int>(block % nprocs), (block / nprocs) * b + global % b};
  }

 private:
  int64_t b_;
  bool cyclic_;
};

}  // namespace

std::shared_ptr<const Distribution::Impl> NewBlockImpl() { return std::make_shared<BlockImpl>(); }
std::shared_ptr<const Distribution::Impl> NewBlockCyclicImpl(int64_t block_size, bool cyclic) {
  return std::make_shared<BlockCyclicImpl>(block_size, cyclic);
}

}  // namespace internal
}  // namespace layout
}  // namespace srs
