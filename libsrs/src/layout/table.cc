// func, map and explicit: user-defined layouts held as tables (owner and local index of every
// element, and each rank's elements in local order). Their size is O(global_count) by nature;
// segments are the table's runs, so a regular-looking table still plans compactly.
#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_format.h"
#include "libsrs/src/layout/impl.h"

namespace srs {
namespace layout {
namespace internal {
namespace {

struct Table {
  std::vector<int64_t> offset;   // nprocs + 1: rank r's elements are globals[offset[r]..]
  std::vector<int64_t> globals;  // global index of each element, by rank, in local order
  std::vector<int> owner;        // by global index
  std::vector<int64_t> local;    // by global index
  std::vector<std::vector<Segment>> segments;  // by rank
  bool monotone = true;
};
using TablePtr = std::shared_ptr<const Table>;

// Checks owner/local describe a bijection onto each rank's 0..count-1 and builds the table.
absl::StatusOr<TablePtr> FinishTable(const char* what, std::vector<int> owner,
                                     std::vector<int64_t> local, int nprocs) {
  auto t = std::make_shared<Table>();
  const int64_t n = static_cast<int64_t>(owner.size());
  t->offset.assign(nprocs + 1, 0);
  for (int64_t g = 0; g < n; ++g) {
    if (owner[g] < 0 || owner[g] >= nprocs) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: global index %d has owner %d, outside 0..%d", what, g, owner[g], nprocs - 1));
    }
    ++t->offset[owner[g] + 1];
  }
  for (int r = 0; r < nprocs; ++r) t->offset[r + 1] += t->offset[r];
  t->globals.assign(n, -1);
  for (int64_t g = 0; g < n; ++g) {
    int r = owner[g];
    int64_t count = t->offset[r + 1] - t->offset[r];
    if (local[g] < 0 || local[g] >= count) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: global index %d has local index %d on rank %d, which holds %d elements (local "
          "indices must be a bijection onto 0..count-1)",
          what, g, local[g], r, count));
    }
    int64_t& slot = t->globals[t->offset[r] + local[g]];
    if (slot >= 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: global indices %d and %d both map to rank %d local index %d", what,
                          slot, g, r, local[g]));
    }
    slot = g;
  }
  t->segments.resize(nprocs);
  for (int r = 0; r < nprocs; ++r) {
    for (int64_t k = t->offset[r]; k < t->offset[r + 1]; ++k) {
      if (k > t->offset[r] && t->globals[k] < t->globals[k - 1]) t->monotone = false;
      AppendSegment(&t->segments[r], Segment{t->globals[k], 1, 1, 1, k - t->offset[r]});
    }
  }
  t->owner = std::move(owner);
  t->local = std::move(local);
  return TablePtr(std::move(t));
}

// Shared by the three table kinds: tables are built on first use for a (global_count, nprocs)
// and cached (a plan asks for the same one once per old rank).
class TableImpl : public Distribution::Impl {
 public:
  absl::Status Validate(int64_t global_count, int nprocs) const override {
    return GetTable(global_count, nprocs).status();
  }
  int64_t LocalCount(int64_t g_count, int rank, int nprocs) const override {
    TablePtr t = Lookup(g_count, nprocs);
    return t ? t->offset[rank + 1] - t->offset[rank] : 0;
  }
  std::vector<Segment> Segments(int64_t g_count, int rank, int nprocs) const override {
    TablePtr t = Lookup(g_count, nprocs);
    return t ? t->segments[rank] : std::vector<Segment>{};
  }
  Location Locate(int64_t global, int64_t g_count, int nprocs) const override {
    TablePtr t = Lookup(g_count, nprocs);
    return t ? Location{t->owner[global], t->local[global]} : Location{};
  }
  bool LocalOrderIsGlobalOrder(int64_t g_count, int nprocs) const override {
    TablePtr t = Lookup(g_count, nprocs);
    return t ? t->monotone : true;
  }

 protected:
  virtual absl::StatusOr<TablePtr> Build(int64_t global_count, int nprocs) const = 0;

 private:
  struct Entry {
    int64_t global_count;
    int nprocs;
    absl::StatusOr<TablePtr> table;
  };
  static constexpr size_t kMaxCached = 4;

  absl::StatusOr<TablePtr> GetTable(int64_t global_count, int nprocs) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : cache_) {
      if (e.global_count == global_count && e.nprocs == nprocs) return e.table;
    }
    // Built under the lock: a user function need not be thread-safe.
    absl::Status shape = CheckShape(KindName(kind()).data(), global_count, nprocs);
    absl::StatusOr<TablePtr> built =
        shape.ok() ? Build(global_count, nprocs) : absl::StatusOr<TablePtr>(shape);
    if (cache_.size() >= kMaxCached) cache_.erase(cache_.begin());
    cache_.push_back(Entry{global_count, nprocs, built});
    return built;
  }
  TablePtr Lookup(int64_t global_count, int nprocs) const {
    absl::StatusOr<TablePtr> t = GetTable(global_count, nprocs);
    return t.ok() ? *t : nullptr;
  }

  mutable std::mutex mu_;
  mutable std::vector<Entry> cache_;
};

class FuncImpl : public TableImpl {
 public:
  explicit FuncImpl(DistributeFn fn) : fn_(std::move(fn)) {}
  Kind kind() const override { return Kind::kFunc; }

 protected:
  absl::StatusOr<TablePtr> Build(int64_t global_count, int nprocs) const override {
    if (!fn_) return absl::InvalidArgumentError("func: no distribution function");
    std::vector<int> owner(global_count);
    std::vector<int64_t> local(global_count);
    for (int64_t g = 0; g < global_count; ++g) {
      int rc = fn_(g, nprocs, &owner[g], &local[g]);
      if (rc != 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "func: the distribution function returned %d for global index %d of %d on %d "
            "processes",
            rc, g, global_count, nprocs));
      }
    }
    return FinishTable("func", std::move(owner), std::move(local), nprocs);
  }

 private:
  DistributeFn fn_;
};

class MapImpl : public TableImpl {
 public:
  explicit MapImpl(std::vector<int> owner) : owner_(std::move(owner)) {}
  Kind kind() const override { return Kind::kMap; }

 protected:
  absl::StatusOr<TablePtr> Build(int64_t global_count, int nprocs) const override {
    if (static_cast<int64_t>(owner_.size()) != global_count) {
      return absl::InvalidArgumentError(
          absl::StrFormat("map: the map has %d entries, but the array has %d elements",
                          owner_.size(), global_count));
    }
    std::vector<int64_t> next(nprocs, 0);
    std::vector<int64_t> local(global_count, -1);
    for (int64_t g = 0; g < global_count; ++g) {
      int r = owner_[g];
      if (r >= 0 && r < nprocs) local[g] = next[r]++;  // FinishTable reports bad owners
    }
    return FinishTable("map", owner_, std::move(local), nprocs);
  }

 private:
  std::vector<int> owner_;
};

class ExplicitImpl : public TableImpl {
 public:
  explicit ExplicitImpl(std::vector<std::vector<int64_t>> lists) : lists_(std::move(lists)) {}
  Kind kind() const override { return Kind::kExplicit; }

 protected:
  absl::StatusOr<TablePtr> Build(int64_t global_count, int nprocs) const override;

 private:
  std::vector<std::vector<int64_t>> lists_;
};

absl::StatusOr<TablePtr> ExplicitImpl::Build(int64_t global_count, int nprocs) const {
  if (static_cast<int64_t>(lists_.size()) != nprocs) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "explicit: the layout has %d ranks, but the run has %d", lists_.size(), nprocs));
  }
  int64_t total = 0;
  for (const auto& list : lists_) total += static_cast<int64_t>(list.size());
  if (total != global_count) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "explicit: the ranks hold %d elements, but the array has %d", total, global_count));
  }
  std::vector<int> owner(global_count, -1);
  std::vector<int64_t> local(global_count, -1);
  for (int r = 0; r < nprocs; ++r) {
    for (size_t k = 0; k < lists_[r].size(); ++k) {
      int64_t g = lists_[r][k];
      if (g < 0 || g >= global_count) {
        return absl::InvalidArgumentError(
            absl::StrFormat("explicit: rank %d local index %d holds global index %d, outside 0..%d",
                            r, k, g, global_count - 1));
      }
      if (owner[g] >= 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "explicit: global index %d is held twice (rank %d and rank %d)", g, owner[g], r));
      }
      owner[g] = r;
      local[g] = static_cast<int64_t>(k);
    }
  }
  return FinishTable("explicit", std::move(owner), std::move(local), nprocs);
}

}  // namespace

std::shared_ptr<const Distribution::Impl> NewFuncImpl(DistributeFn fn) {
  return std::make_shared<FuncImpl>(std::move(fn));
}
std::shared_ptr<const Distribution::Impl> NewMapImpl(std::vector<int> owner) {
  return std::make_shared<MapImpl>(std::move(owner));
}
std::shared_ptr<const Distribution::Impl> NewExplicitImpl(
    std::vector<std::vector<int64_t>> global_index_per_rank) {
  return std::make_shared<ExplicitImpl>(std::move(global_index_per_rank));
}

}  // namespace internal
}  // namespace layout
}  // namespace srs
