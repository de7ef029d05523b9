#include "libsrs/src/piece_fetcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "libsrs/src/test_hooks.h"

namespace srs {
namespace libsrs {
namespace {

// True when `dst` is one contiguous run, so the fetch can land in the buffer directly.
bool IsContiguous(const std::vector<piece::Hyperslab>& dst) {
  if (dst.size() != 1) return false;
  const piece::Hyperslab& s = dst[0];
  return s.count <= 1 || s.stride == s.block;
}

void Scatter(const char* packed, const std::vector<piece::Hyperslab>& dst, size_t element_size,
             char* buffer) {
  for (const piece::Hyperslab& slab : dst) {
    const size_t run = static_cast<size_t>(slab.block) * element_size;
    for (int64_t k = 0; k < slab.count; ++k) {
      std::memcpy(buffer + static_cast<size_t>(slab.start + k * slab.stride) * element_size, packed,
                  run);
      packed += run;
    }
  }
}

// Reads the task from one copy after the other until one succeeds. A failed direct read may
// have left part of the buffer written: the next copy overwrites the same elements.
absl::Status RunTask(DepotPool* depots, const FetchTask& task, ElementType wire_type, char* buffer,
                     std::atomic<int64_t>* fetched) {
  const size_t element_size = ElementSize(wire_type);
  const std::string what =
      absl::StrCat("array '", task.dataset, "': old rank ", task.piece.rank, "'s piece");
  if (IsContiguous(task.dst)) {
    char* out = buffer + static_cast<size_t>(task.dst[0].start) * element_size;
    return ReadAnyCopy(task.piece, what, [&](const CopyLocation& copy) {
      return ReadFromPiece(depots, copy, task.dataset, wire_type, task.src, task.elements, out,
                           fetched);
    });
  }
  std::unique_ptr<char[]> packed(new char[static_cast<size_t>(task.elements) * element_size]);
  SRS_RETURN_IF_ERROR(ReadAnyCopy(task.piece, what, [&](const CopyLocation& copy) {
    return ReadFromPiece(depots, copy, task.dataset, wire_type, task.src, task.elements,
                         packed.get(), fetched);
  }));
  Scatter(packed.get(), task.dst, element_size, buffer);
  return absl::OkStatus();
}

// One contiguous run of elements, as a slab: where it starts and how long it is; false when
// `slabs` is not a single contiguous run.
bool SingleRun(const std::vector<piece::Hyperslab>& slabs, int64_t* start, int64_t* length) {
  if (slabs.size() != 1) return false;
  const piece::Hyperslab& s = slabs[0];
  if (s.count > 1 && s.stride != s.block) return false;
  *start = s.start;
  *length = s.count * s.block;
  return true;
}

// Large contiguous reads from a remote depot, cut into parts that stream in parallel (the
// fetch threads each take one): one TCP stream does not fill the path when the depot serves
// several ranks at once. Parts are at least kMinPartBytes; at most kMaxParts per task.
constexpr int64_t kMinPartBytes = 8 << 20;
constexpr int64_t kMaxParts = 4;

void SplitIntoParts(const FetchTask& task, size_t element_size, std::vector<FetchTask>* out) {
  int64_t src = 0, dst = 0, length = 0, dst_length = 0;
  const int64_t bytes = task.elements * static_cast<int64_t>(element_size);
  const int64_t parts = std::min(kMaxParts, bytes / kMinPartBytes);
  if (parts < 2 || !SingleRun(task.src, &src, &length) || !SingleRun(task.dst, &dst, &dst_length) ||
      length != dst_length) {
    out->push_back(task);
    return;
  }
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t from = length * p / parts, to = length * (p + 1) / parts;
    FetchTask part = task;
    part.src = {{src + from, to - from, 1, to - from}};
    part.dst = {{dst + from, to - from, 1, to - from}};
    part.elements = to - from;
    out->push_back(std::move(part));
  }
}

constexpr size_t kReadSlice = 4 << 20;

// One read's bytes as they land, added to the caller's progress counter (none: nothing done)
// and remembered, so the read can settle its count once it is over (ReadFromPiece).
struct SliceCounter {
  std::atomic<int64_t>* progress = nullptr;
  int64_t counted = 0;
  void Add(int64_t n) {
    TestHookSlowRead();
    if (progress == nullptr) return;
    progress->fetch_add(n, std::memory_order_relaxed);
    counted += n;
  }
  // The read is over: it counts `bytes` in all if it succeeded, nothing if it failed (the next
  // copy reads those bytes again).
  void Settle(bool ok, int64_t bytes) {
    if (progress != nullptr) progress->fetch_add((ok ? bytes : 0) - counted);
    counted = 0;
  }
};

// The shared-host read without HDF5: when the dataset's stored bytes are already the wire type
// and every selection is one contiguous run, pread them straight into `out` (the depot verified
// the file when it handed out its path). False when HDF5 must do it (conversion, strides, a
// selection out of range: HDF5 then says what is wrong).
absl::StatusOr<bool> ReadRawRuns(DepotPool* depots, const std::string& path,
                                 const std::string& dataset, ElementType wire_type,
                                 const std::vector<piece::Hyperslab>& selections, void* out,
                                 SliceCounter* counter) {
  SRS_ASSIGN_OR_RETURN(std::optional<depot::RawDataset> raw,
                       depots->RawLocation(path, dataset, wire_type));
  if (!raw.has_value()) return false;
  for (const piece::Hyperslab& s : selections) {
    int64_t start = 0, length = 0;
    if (!SingleRun({s}, &start, &length) || start < 0 || start + length > raw->count) return false;
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char* at = static_cast<char*>(out);
  bool ok = true;
  for (const piece::Hyperslab& s : selections) {
    int64_t start = 0, length = 0;
    SingleRun({s}, &start, &length);
    size_t want = static_cast<size_t>(length) * raw->element_size;
    off_t offset = static_cast<off_t>(raw->offset + start * raw->element_size);
    while (ok && want > 0) {
      // Slices of kReadSlice: a restart's progress (restore_progress.h) moves during a large
      // piece, and each slice is still large enough that the calls cost nothing measurable.
      ssize_t got = pread(fd, at, std::min(want, kReadSlice), offset);
      if (got < 0 && errno == EINTR) continue;
      ok = got > 0;
      if (!ok) break;
      at += got, offset += got, want -= static_cast<size_t>(got);
      counter->Add(got);
    }
  }
  close(fd);
  if (!ok)
    return absl::DataLossError(absl::StrCat(path, ": short read of dataset '", dataset, "'"));
  return true;
}

// ReadFromPiece's read by whichever path fits; the raw path and the depot's ranged read count
// their slices in `counter` as they land (HDF5's read: none, ReadFromPiece counts it at the end).
absl::Status ReadFromPieceOnce(DepotPool* depots, const CopyLocation& copy,
                               const std::string& dataset, ElementType wire_type,
                               const std::vector<piece::Hyperslab>& selections, void* out,
                               size_t bytes, SliceCounter* counter) {
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<DepotClient> depot, depots->Get(copy.address));
  SRS_ASSIGN_OR_RETURN(bool local, depots->SharesHost(copy.address));
  absl::StatusOr<std::string> local_path =
      local ? depots->LocalPath(copy.address, copy.read_cap)
            : absl::StatusOr<std::string>(absl::PermissionDeniedError("not on this host"));
  // Not on this host, or its file not readable by this process (a depot of another user): RPC.
  if (absl::IsPermissionDenied(local_path.status())) {
    return depot->ReadRange(copy.read_cap, dataset, wire_type, selections, out, bytes,
                            [counter](size_t n) { counter->Add(static_cast<int64_t>(n)); });
  }
  SRS_ASSIGN_OR_RETURN(std::string path, std::move(local_path));
  SRS_ASSIGN_OR_RETURN(bool done,
                       ReadRawRuns(depots, path, dataset, wire_type, selections, out, counter));
  if (done) return absl::OkStatus();
  return piece::ReadSelection(path, dataset, wire_type, selections, out, bytes);
}

}  // namespace

absl::Status ParallelFor(int n, int threads, const std::function<absl::Status(int)>& fn) {
  std::vector<absl::Status> results(static_cast<size_t>(n));
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) results[i] = fn(i);
  };
  int extra = std::max(0, std::min(threads, n) - 1);
  std::vector<std::thread> pool;
  for (int t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();  // the calling thread works too
  for (std::thread& thread : pool) thread.join();
  for (const absl::Status& status : results) SRS_RETURN_IF_ERROR(status);
  return absl::OkStatus();
}

absl::Status ReadFromPiece(DepotPool* depots, const CopyLocation& copy, const std::string& dataset,
                           ElementType wire_type, const std::vector<piece::Hyperslab>& selections,
                           int64_t elements, void* out, std::atomic<int64_t>* fetched) {
  if (elements == 0) return absl::OkStatus();
  const size_t bytes = static_cast<size_t>(elements) * ElementSize(wire_type);
  SliceCounter counter{fetched};
  absl::Status status =
      ReadFromPieceOnce(depots, copy, dataset, wire_type, selections, out, bytes, &counter);
  counter.Settle(status.ok(), static_cast<int64_t>(bytes));
  return status;
}

namespace {

absl::Status ReadIndexFromCopy(DepotPool* depots, const CopyLocation& piece,
                               const std::string& dataset, std::vector<int64_t>* index) {
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<DepotClient> depot, depots->Get(piece.address));
  SRS_ASSIGN_OR_RETURN(bool local, depots->SharesHost(piece.address));
  if (local) {
    absl::StatusOr<std::string> path = depots->LocalPath(piece.address, piece.read_cap);
    if (path.ok()) return piece::ReadIndex(*path, dataset, index);
    if (!absl::IsPermissionDenied(path.status())) return path.status();
    // Not readable by this process (a depot of another user): fetch by range below.
  }
  // Across hosts, fetch only the index bytes: the piece's record says how many elements the
  // dataset (and so its index) has, and the depot serves "srs_index/<name>" by range.
  SRS_ASSIGN_OR_RETURN(depot::v1::PieceInfo info, depot->Stat(piece.read_cap));
  int64_t count = -1;
  for (const depot::v1::DatasetInfo& held : info.datasets()) {
    if (held.name() == dataset) count = held.count();
  }
  if (count < 0) {
    return absl::NotFoundError(absl::StrCat("the piece holds no dataset '", dataset, "'"));
  }
  index->assign(static_cast<size_t>(count), 0);
  if (count == 0) return absl::OkStatus();
  const piece::Hyperslab whole{0, count, 1, count};
  return depot->ReadRange(piece.read_cap, absl::StrCat(piece::kIndexGroup, "/", dataset),
                          ElementType::kInt64, {whole}, index->data(),
                          static_cast<size_t>(count) * sizeof(int64_t));
}

}  // namespace

absl::Status ReadPieceIndex(DepotPool* depots, const PieceLocation& piece,
                            const std::string& dataset, std::vector<int64_t>* index) {
  std::map<std::string, int> load;
  return ReadAnyCopy(
      ChooseCopies(depots, piece, &load),
      absl::StrCat("array '", dataset, "': the index of old rank ", piece.rank, "'s piece"),
      [&](const CopyLocation& copy) { return ReadIndexFromCopy(depots, copy, dataset, index); });
}

PieceLocation ChooseCopies(DepotPool* depots, const PieceLocation& piece,
                           std::map<std::string, int>* load) {
  PieceLocation ordered = OrderCopies(
      piece,
      [depots](const CopyLocation& copy) {
        // A depot that does not answer is not "mine": it is tried after the others.
        if (depots->RecentlyUnreachable(copy.address)) return false;
        absl::StatusOr<bool> mine = depots->OnMyHost(copy.address, /*probe=*/true);
        return mine.ok() && *mine;
      },
      *load);
  // Depots that just failed to answer go last: the others are tried first, the dead one only
  // when nothing else is left.
  std::stable_partition(
      ordered.copies.begin(), ordered.copies.end(),
      [depots](const CopyLocation& copy) { return !depots->RecentlyUnreachable(copy.address); });
  if (!ordered.copies.empty() && IsReadable(ordered.copies[0])) {
    ++(*load)[DepotKey(ordered.copies[0])];
  }
  return ordered;
}

absl::Status FetchAll(DepotPool* depots, const std::vector<FetchTask>& planned,
                      ElementType wire_type, void* buffer, int threads,
                      std::map<std::string, int>* load, std::atomic<int64_t>* fetched) {
  std::vector<FetchTask> tasks;
  std::map<std::string, int> own_load;  // tasks whose first choice is each depot
  if (load == nullptr) load = &own_load;
  for (const FetchTask& planned_task : planned) {
    FetchTask task = planned_task;
    task.piece = ChooseCopies(depots, planned_task.piece, load);
    // A down or just unreachable depot is not asked again here (each ask could cost the RPC
    // budget); such a task is not split, its read falls back as a whole.
    const bool ask = !task.piece.copies.empty() && IsReadable(task.piece.copies[0]) &&
                     !depots->RecentlyUnreachable(task.piece.copies[0].address);
    absl::StatusOr<bool> local =
        ask ? depots->SharesHost(task.piece.copies[0].address) : absl::StatusOr<bool>(true);
    if (local.ok() && !*local) {
      SplitIntoParts(task, ElementSize(wire_type), &tasks);
    } else {
      tasks.push_back(std::move(task));  // the shared-host path reads under the HDF5 lock
    }
  }
  return ParallelFor(static_cast<int>(tasks.size()), threads, [&](int i) {
    return RunTask(depots, tasks[i], wire_type, static_cast<char*>(buffer), fetched);
  });
}

}  // namespace libsrs
}  // namespace srs
