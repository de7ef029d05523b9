// Distribution: the value type, its factories, and the argument checks every query shares.
#include "libsrs/src/layout/distribution.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libsrs/src/layout/impl.h"

namespace srs {
namespace layout {

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kBlock:
      return "block";
    case Kind::kCyclic:
      return "cyclic";
    case Kind::kBlockCyclic:
      return "block_cyclic";
    case Kind::kBlockCyclic2D:
      return "block_cyclic_2d";
    case Kind::kFunc:
      return "func";
    case Kind::kMap:
      return "map";
    case Kind::kExplicit:
      return "explicit";
  }
  return "unknown";
}

Distribution Distribution::Block() { return Distribution(internal::NewBlockImpl()); }
Distribution Distribution::Cyclic() {
  return Distribution(internal::NewBlockCyclicImpl(1, /*cyclic=*/true));
}
Distribution Distribution::BlockCyclic(int64_t block_size) {
  return Distribution(internal::NewBlockCyclicImpl(block_size, /*cyclic=*/false));
}
Distribution Distribution::BlockCyclic2D(int64_t rows, int64_t cols, int64_t mb, int64_t nb,
                                         int nprow, int npcol, int rsrc, int csrc) {
  return Distribution(internal::NewBlockCyclic2DImpl(rows, cols, mb, nb, nprow, npcol, rsrc, csrc));
}
Distribution Distribution::Func(DistributeFn fn) {
  return Distribution(internal::NewFuncImpl(std::move(fn)));
}
Distribution Distribution::Map(std::vector<int> owner) {
  return Distribution(internal::NewMapImpl(std::move(owner)));
}
Distribution Distribution::Explicit(std::vector<std::vector<int64_t>> global_index_per_rank) {
  return Distribution(internal::NewExplicitImpl(std::move(global_index_per_rank)));
}

namespace {

absl::Status WrongParams(absl::string_view name, size_t want, size_t got) {
  return absl::InvalidArgumentError(
      absl::StrFormat("distribution \"%s\" takes %d parameter(s), got %d", name, want, got));
}

bool FitsInt(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace

absl::StatusOr<Distribution> Distribution::FromSpec(absl::string_view name,
                                                    const std::vector<int64_t>& params) {
  if (name == "block" || name == "cyclic") {
    if (!params.empty()) return WrongParams(name, 0, params.size());
    return name == "block" ? Block() : Cyclic();
  }
  if (name == "block_cyclic") {
    if (params.size() != 1) return WrongParams(name, 1, params.size());
    return BlockCyclic(params[0]);
  }
  if (name == "block_cyclic_2d") {
    if (params.size() != 8) return WrongParams(name, 8, params.size());
    for (int i = 4; i < 8; ++i) {
      if (!FitsInt(params[i])) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "distribution \"block_cyclic_2d\": grid parameter %d out of int range", params[i]));
      }
    }
    return BlockCyclic2D(params[0], params[1], params[2], params[3], static_cast<int>(params[4]),
                         static_cast<int>(params[5]), static_cast<int>(params[6]),
                         static_cast<int>(params[7]));
  }
  if (name == "func" || name == "map" || name == "explicit") {
    return absl::InvalidArgumentError(
        absl::StrFormat("distribution \"%s\" cannot be rebuilt from parameters: build it with "
                        "Distribution::Explicit from the pieces' stored index lists",
                        name));
  }
  return absl::InvalidArgumentError(absl::StrFormat("unknown distribution kind \"%s\"", name));
}

Kind Distribution::kind() const { return impl_->kind(); }
std::vector<int64_t> Distribution::params() const { return impl_->params(); }

bool Distribution::user_defined() const {
  Kind k = kind();
  return k == Kind::kFunc || k == Kind::kMap || k == Kind::kExplicit;
}

std::string Distribution::DebugString() const {
  return absl::StrFormat("%s(%s)", KindName(kind()), absl::StrJoin(params(), ", "));
}

absl::Status Distribution::Validate(int64_t global_count, int nprocs) const {
  return impl_->Validate(global_count, nprocs);
}

namespace {
bool GoodArgs(int64_t global_count, int rank, int nprocs) {
  return global_count >= 0 && nprocs >= 1 && rank >= 0 && rank < nprocs;
}
}  // namespace

int64_t Distribution::LocalCount(int64_t global_count, int rank, int nprocs) const {
  if (!GoodArgs(global_count, rank, nprocs) || global_count == 0) return 0;
  return impl_->LocalCount(global_count, rank, nprocs);
}

std::vector<Segment> Distribution::Segments(int64_t global_count, int rank, int nprocs) const {
  if (!GoodArgs(global_count, rank, nprocs) || global_count == 0) return {};
  return impl_->Segments(global_count, rank, nprocs);
}

Location Distribution::Locate(int64_t global, int64_t global_count, int nprocs) const {
  if (!GoodArgs(global_count, 0, nprocs) || global < 0 || global >= global_count) return {};
  return impl_->Locate(global, global_count, nprocs);
}

std::vector<int64_t> Distribution::GlobalIndexOfLocal(int64_t global_count, int rank,
                                                      int nprocs) const {
  std::vector<int64_t> out;
  out.reserve(LocalCount(global_count, rank, nprocs));
  for (const Segment& s : Segments(global_count, rank, nprocs)) {
    for (int64_t j = 0; j < s.count; ++j) {
      for (int64_t k = 0; k < s.block; ++k) out.push_back(s.global_start + j * s.global_stride + k);
    }
  }
  return out;
}

bool Distribution::LocalOrderIsGlobalOrder(int64_t global_count, int nprocs) const {
  if (!GoodArgs(global_count, 0, nprocs)) return true;
  return impl_->LocalOrderIsGlobalOrder(global_count, nprocs);
}

}  // namespace layout
}  // namespace srs
