#include "libsrs/src/restart_reader.h"

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "libsrs/src/collective_status.h"
#include "libsrs/src/dist_spec.h"
#include "libsrs/src/layout/planner.h"
#include "libsrs/src/polite_agreement.h"

namespace srs {
namespace libsrs {
namespace {

// A few fetch threads: enough to overlap several depots' latency, few enough not to crowd the
// ranks that share a node.
constexpr int kFetchThreads = 4;

piece::Hyperslab WholeRun(int64_t count) { return {0, std::max<int64_t>(count, 1), 1, count}; }

std::vector<piece::Hyperslab> ToPiece(const std::vector<layout::Hyperslab>& slabs) {
  std::vector<piece::Hyperslab> out;
  out.reserve(slabs.size());
  for (const layout::Hyperslab& s : slabs) out.push_back(layout::ConvertSlab<piece::Hyperslab>(s));
  return out;
}

bool IsUserDefined(const std::string& kind) {
  return kind == "none" || kind == "func" || kind == "map" || kind == "explicit";
}

}  // namespace

absl::Status CheckConvertible(const std::string& name, ElementType stored, ElementType wanted) {
  bool complex_mismatch = IsComplex(stored) != IsComplex(wanted);
  bool char_mismatch = (stored == ElementType::kChar) != (wanted == ElementType::kChar);
  if (!complex_mismatch && !char_mismatch) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("array '", name, "' is stored as ", ElementTypeName(stored),
                   " and cannot be read as ", ElementTypeName(wanted),
                   complex_mismatch ? " (complex and real types do not convert)"
                                    : " (char and numeric types do not convert)"));
}

namespace {

// The checkpoint's data: every array's global count times its stored element size (a type the
// manifest does not know counts nothing).
int64_t CheckpointDataBytes(const rss::v1::Manifest& manifest) {
  int64_t total = 0;
  for (const rss::v1::ArraySpec& spec : manifest.arrays()) {
    absl::StatusOr<ElementType> stored = ElementTypeFromName(spec.srs_type());
    if (stored.ok()) total += spec.global_count() * static_cast<int64_t>(ElementSize(*stored));
  }
  return total;
}

}  // namespace

RestartReader::RestartReader(RunEnv* env) : env_(env) {
  const bool restart = env_->run.restart();
  progress_ = std::make_unique<RestoreProgress>(
      restart && env_->rank == 0 && RestoreProgress::RequestedByEnv(),
      restart ? CheckpointDataBytes(env_->run.manifest()) : 0);
  if (restart && env_->depots != nullptr) warm_up_ = std::thread([this] { WarmUp(); });
}

RestartReader::~RestartReader() { FinishWarmUp(); }

void RestartReader::FinishWarmUp() {
  if (warm_up_.joinable()) warm_up_.join();
}

void RestartReader::WarmUp() {
  // Copies on down depots are left alone: a dead address would hold the warm-up (and so the
  // end of a failed restart) for the whole RPC timeout.
  std::set<std::string> addresses;
  for (const rss::v1::PieceRecord& piece : env_->run.manifest().pieces()) {
    for (const CopyLocation& copy : srs::LocationOf(piece).copies) {
      if (IsReadable(copy)) addresses.insert(copy.address);
    }
  }
  for (const std::string& address : addresses) {
    // Connects, one bounded Info; a depot that does not answer it is left alone (SharesHost
    // would retry it for the whole RPC budget).
    if (!env_->depots->OnMyHost(address, /*probe=*/true).ok()) continue;
    absl::StatusOr<bool> local = env_->depots->SharesHost(address);  // cached by now
    absl::StatusOr<std::shared_ptr<DepotClient>> client = env_->depots->Get(address);
    if (local.ok() && !*local && client.ok()) (*client)->WarmUp();
  }
  for (const CopyLocation& copy : PieceOf(env_->rank).copies) {
    if (!IsReadable(copy) || env_->depots->RecentlyUnreachable(copy.address)) continue;
    absl::StatusOr<bool> local = env_->depots->SharesHost(copy.address);
    if (local.ok() && *local) {
      // Its own piece, verified and with its datasets located: a first SRS_Read pays only the
      // read (restart_ratio_none).
      absl::StatusOr<std::string> path = env_->depots->LocalPath(copy.address, copy.read_cap);
      if (path.ok()) env_->depots->LocateDatasets(*path).IgnoreError();
      return;
    }
  }
}

absl::StatusOr<const rss::v1::ArraySpec*> RestartReader::FindArray(const std::string& name) const {
  const rss::v1::Manifest& manifest = env_->run.manifest();
  std::vector<std::string> names;
  for (const rss::v1::ArraySpec& spec : manifest.arrays()) {
    if (spec.name() == name) return &spec;
    names.push_back(spec.name());
  }
  return absl::NotFoundError(absl::StrCat("no array '", name, "' in the checkpoint of epoch ",
                                          manifest.epoch(),
                                          " (it holds: ", absl::StrJoin(names, ", "), ")"));
}

PieceLocation RestartReader::PieceOf(int old_rank) const {
  for (const rss::v1::PieceRecord& piece : env_->run.manifest().pieces()) {
    if (piece.rank() == old_rank) return srs::LocationOf(piece);
  }
  return {old_rank, {}};
}

absl::StatusOr<layout::Distribution> RestartReader::OldLayout(const rss::v1::ArraySpec& spec) {
  auto cached = old_layouts_.find(spec.name());
  if (cached != old_layouts_.end()) return cached->second;
  const int old_nprocs = env_->run.manifest().nprocs();
  const std::string& kind = spec.distribution().kind();
  if (!IsUserDefined(kind)) {
    DistSpec dist = FromProto(spec.distribution());
    return layout::Distribution::FromSpec(dist.kind, dist.params);
  }
  if (spec.local_counts_size() != old_nprocs) {
    return absl::DataLossError(absl::StrCat("manifest of array '", spec.name(), "' has ",
                                            spec.local_counts_size(), " local counts for ",
                                            old_nprocs, " ranks"));
  }
  std::vector<std::vector<int64_t>> index(static_cast<size_t>(old_nprocs));
  if (kind == "none") {
    // Per-rank data read with a distribution: the global order is the ranks' pieces in turn.
    int64_t offset = 0;
    for (int r = 0; r < old_nprocs; ++r) {
      for (int64_t i = 0; i < spec.local_counts(r); ++i) index[r].push_back(offset + i);
      offset += spec.local_counts(r);
    }
  } else {
    SRS_RETURN_IF_ERROR(ParallelFor(old_nprocs, kFetchThreads, [&](int r) {
      // A rank that held nothing has no index dataset (HDF5 gets no table to write).
      if (spec.local_counts(r) == 0) return absl::OkStatus();
      SRS_RETURN_IF_ERROR(ReadPieceIndex(env_->depots.get(), PieceOf(r), spec.name(), &index[r]));
      if (static_cast<int64_t>(index[r].size()) != spec.local_counts(r)) {
        return absl::DataLossError(
            absl::StrCat("array '", spec.name(), "': old rank ", r, "'s index has ",
                         index[r].size(), " entries, the manifest says ", spec.local_counts(r)));
      }
      return absl::OkStatus();
    }));
  }
  layout::Distribution old = layout::Distribution::Explicit(std::move(index));
  SRS_RETURN_IF_ERROR(Annotate(old.Validate(spec.global_count(), old_nprocs),
                               absl::StrCat("the stored layout of array '", spec.name(), "'")));
  old_layouts_.emplace(spec.name(), old);
  return old;
}

absl::StatusOr<std::vector<FetchTask>> RestartReader::PlanDistributed(
    const rss::v1::ArraySpec& spec, SRS_Distribution dist) {
  const int old_nprocs = env_->run.manifest().nprocs();
  const int64_t count = spec.global_count();
  SRS_ASSIGN_OR_RETURN(layout::Distribution old, OldLayout(spec));
  absl::StatusOr<std::vector<layout::Transfer>> plan;
  if (IsSame(dist)) {
    plan = layout::PlanReadWhole(old, old_nprocs, count);
  } else {
    SRS_RETURN_IF_ERROR(dist->layout->Validate(count, env_->nprocs));
    plan = layout::PlanRead(old, old_nprocs, *dist->layout, env_->nprocs, env_->rank, count);
  }
  SRS_RETURN_IF_ERROR(plan.status());
  std::vector<FetchTask> tasks;
  for (const layout::Transfer& t : *plan) {
    tasks.push_back({PieceOf(t.src_rank), spec.name(), ToPiece(t.src), ToPiece(t.dst), t.elements});
  }
  return tasks;
}

absl::StatusOr<std::vector<FetchTask>> RestartReader::Plan(const rss::v1::ArraySpec& spec,
                                                           SRS_Distribution dist,
                                                           int64_t* elements) {
  const int old_nprocs = env_->run.manifest().nprocs();
  const bool stored_none = spec.distribution().kind() == "none";
  std::vector<FetchTask> tasks;
  if (IsNone(dist) || (IsSame(dist) && stored_none)) {
    // NONE: this rank's own old piece; SAME of per-rank data: old rank 0's piece.
    if (IsNone(dist) && old_nprocs != env_->nprocs) {
      return absl::InvalidArgumentError(
          absl::StrCat("array '", spec.name(),
                       "': SRS_DIST_NONE reads each rank's own old piece, but the "
                       "checkpoint was written by ",
                       old_nprocs, " ranks and this run has ", env_->nprocs));
    }
    int old_rank = IsNone(dist) ? env_->rank : 0;
    int64_t count = old_rank < spec.local_counts_size() ? spec.local_counts(old_rank) : 0;
    *elements = count;
    if (count > 0) {
      tasks.push_back(
          {PieceOf(old_rank), spec.name(), {WholeRun(count)}, {WholeRun(count)}, count});
    }
    return tasks;
  }
  SRS_ASSIGN_OR_RETURN(tasks, PlanDistributed(spec, dist));
  *elements = 0;
  for (const FetchTask& task : tasks) *elements += task.elements;
  return tasks;
}

absl::Status RestartReader::ReadLocal(const std::string& name, void* data, int c_type,
                                      SRS_Distribution dist, int64_t* bytes) {
  if (dist == nullptr) return absl::InvalidArgumentError("SRS_Read: NULL distribution");
  SRS_ASSIGN_OR_RETURN(const rss::v1::ArraySpec* spec, FindArray(name));
  SRS_ASSIGN_OR_RETURN(ElementType wanted, ElementTypeFromC(c_type));
  SRS_ASSIGN_OR_RETURN(ElementType stored, ElementTypeFromName(spec->srs_type()));
  SRS_RETURN_IF_ERROR(CheckConvertible(name, stored, wanted));
  // SAME: only rank 0 reads; the others get the broadcast.
  if (IsSame(dist) && env_->rank != 0) {
    if (data == nullptr && spec->global_count() > 0) {
      return absl::InvalidArgumentError(absl::StrCat("SRS_Read('", name, "'): NULL data"));
    }
    return absl::OkStatus();
  }
  int64_t elements = 0;
  SRS_ASSIGN_OR_RETURN(std::vector<FetchTask> tasks, Plan(*spec, dist, &elements));
  if (data == nullptr && elements > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SRS_Read('", name, "'): NULL data for ", elements, " elements"));
  }
  *bytes = elements * static_cast<int64_t>(ElementSize(wanted));
  progress_->SetMyBytes(*bytes);
  return FetchAll(env_->depots.get(), tasks, wanted, data, kFetchThreads, &copy_load_,
                  progress_->fetched());
}

absl::Status RestartReader::Read(const std::string& name, void* data, int c_type,
                                 SRS_Distribution dist, const absl::Status& precheck) {
  absl::Time start = absl::Now();
  absl::Status local;
  int64_t bytes = 0;
  // Rank 0 draws while every rank reads this array, until the agreement below says all are done
  // (or the read failed): the line is gone before SRS_Read returns.
  struct EndArray {
    RestoreProgress* progress;
    ~EndArray() { progress->EndArray(); }
  } end_array{progress_.get()};
  if (progress_->enabled()) {
    absl::StatusOr<const rss::v1::ArraySpec*> spec = FindArray(name);
    absl::StatusOr<ElementType> stored = spec.ok() ? ElementTypeFromName((*spec)->srs_type())
                                                   : absl::StatusOr<ElementType>(spec.status());
    progress_->BeginArray(
        stored.ok() ? (*spec)->global_count() * static_cast<int64_t>(ElementSize(*stored)) : 0);
  }
  if (!env_->run.restart()) {
    local =
        absl::FailedPreconditionError(absl::StrCat("SRS_Read('", name,
                                                   "'): this run is a fresh start, not a restart "
                                                   "(check SRS_Restart_Value() first)"));
  } else if (!precheck.ok()) {
    local = precheck;
  } else {
    local = ReadLocal(name, data, c_type, dist, &bytes);
  }
  if (!local.ok()) local = Annotate(local, absl::StrCat("rank ", env_->rank));
  // One agreement per array: waited for politely, so a restart of many small arrays on an
  // oversubscribed node does not pay a scheduler time slice for each (polite_agreement.h).
  SRS_RETURN_IF_ERROR(AgreeStatusPolitely(env_->comm, local));
  if (IsSame(dist)) {
    // Rank 0 read it; everyone gets it. The size comes from rank 0 so all ranks agree.
    MPI_Bcast(&bytes, 1, MPI_INT64_T, 0, env_->comm);
    BroadcastRaw(env_->comm, 0, data, bytes);
    if (env_->rank != 0) bytes = 0;
  }
  read_seconds_ += absl::ToDoubleSeconds(absl::Now() - start);
  read_bytes_ += bytes;
  return absl::OkStatus();
}

absl::Status RestartReader::Query(const std::string& name, ElementType* type,
                                  int64_t* global_count) const {
  if (!env_->run.restart()) {
    return absl::NotFoundError(absl::StrCat("SRS_Query('", name, "'): not a restart"));
  }
  SRS_ASSIGN_OR_RETURN(const rss::v1::ArraySpec* spec, FindArray(name));
  SRS_ASSIGN_OR_RETURN(ElementType stored, ElementTypeFromName(spec->srs_type()));
  if (type != nullptr) *type = stored;
  if (global_count != nullptr) *global_count = spec->global_count();
  return absl::OkStatus();
}

}  // namespace libsrs
}  // namespace srs
