// Verification of stored pieces (VerifyPiece, VerifyPieceFile, VerifyPieceImage of
// piece_format.h): the metadata through HDF5, every dataset's bytes by one sequential pass.
#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/checksum.h"
#include "common/hdf5_lock.h"
#include "common/piece_format.h"
#include "common/piece_hdf5.h"
#include "common/status_macros.h"

namespace srs {
namespace piece {
namespace {

absl::Status CheckDigest(const std::string& context, uint64_t stored, uint64_t digest) {
  if (digest == stored) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(context, ": checksum mismatch (stored ",
                                          ChecksumToString(stored), ", data ",
                                          ChecksumToString(digest), ")"));
}

// A dataset whose raw bytes are one range of the file, hashed by the byte pass.
struct RawRange {
  size_t dataset = 0;  // index in PieceSummary::datasets
  uint64_t offset = 0, size = 0, fed = 0;
  std::unique_ptr<Xxh3Hasher> hasher;
};

struct VerifyPlan {
  PieceSummary summary;
  std::vector<RawRange> ranges;  // sorted by offset
};

// Where a dataset's raw bytes lie when they are one plain range of the file (contiguous,
// allocated, not external), so the byte pass can hash them in place. False otherwise.
bool ContiguousRange(hid_t dset, uint64_t bytes, uint64_t* offset) {
  Hid dcpl(H5Dget_create_plist(dset), H5Pclose);
  bool plain = dcpl.ok() && H5Pget_layout(dcpl.get()) == H5D_CONTIGUOUS &&
               H5Pget_external_count(dcpl.get()) == 0 && H5Dget_storage_size(dset) == bytes;
  haddr_t addr = plain && bytes > 0 ? H5Dget_offset(dset) : HADDR_UNDEF;
  H5Eclear2(H5E_DEFAULT);
  if (addr == HADDR_UNDEF) return false;
  *offset = addr;
  return true;
}

// Under the HDF5 lock: the summary, the ranges the byte pass must hash, and every dataset that
// is not a plain range checked right away through HDF5 (small or unusual: compact, chunked).
absl::StatusOr<VerifyPlan> PlanVerification(const std::string& path, const std::string* image) {
  Hdf5Lock lock;
  QuietHdf5();
  SRS_ASSIGN_OR_RETURN(Hid file, OpenFile(path, image));
  VerifyPlan plan;
  SRS_ASSIGN_OR_RETURN(plan.summary, SummaryLocked(file.get(), path));
  // Dataset addresses are relative to the end of a user block: such (foreign) files go
  // through HDF5 entirely.
  Hid fcpl(H5Fget_create_plist(file.get()), H5Pclose);
  hsize_t userblock = 1;
  if (fcpl.ok() && H5Pget_userblock(fcpl.get(), &userblock) < 0) userblock = 1;
  for (size_t i = 0; i < plan.summary.datasets.size(); ++i) {
    const DatasetSummary& ds = plan.summary.datasets[i];
    const std::string context = absl::StrCat(path, ": dataset '", ds.name, "'");
    SRS_ASSIGN_OR_RETURN(Hid dset, OpenDataset(file.get(), path, ds.name));
    if (ds.has_index) {
      Hid index(H5Dopen2(file.get(), absl::StrCat(kIndexGroup, "/", ds.name).c_str(), H5P_DEFAULT),
                H5Dclose);
      if (!index.ok() || DatasetLength(index.get()) != ds.count) {
        return absl::DataLossError(absl::StrCat(context, ": index length does not match"));
      }
    }
    RawRange range;
    range.dataset = i;
    range.size = static_cast<uint64_t>(ds.count) * ElementSize(ds.type);
    if (userblock == 0 && ContiguousRange(dset.get(), range.size, &range.offset)) {
      range.hasher = std::make_unique<Xxh3Hasher>();
      plan.ranges.push_back(std::move(range));
      continue;
    }
    auto digest = HashStoredBytes(dset.get(), ds.count);
    if (!digest.ok()) return Annotate(digest.status(), context);
    SRS_RETURN_IF_ERROR(CheckDigest(context, ds.checksum, *digest));
  }
  std::sort(plan.ranges.begin(), plan.ranges.end(),
            [](const RawRange& a, const RawRange& b) { return a.offset < b.offset; });
  return plan;
}

// Feeds the file's bytes at [pos, pos + n) to every range they overlap, in file order.
void FeedRanges(std::vector<RawRange>& ranges, uint64_t pos, const char* data, size_t n) {
  for (RawRange& r : ranges) {
    if (r.offset >= pos + n) break;
    uint64_t lo = std::max(pos, r.offset), hi = std::min(pos + n, r.offset + r.size);
    if (lo >= hi) continue;
    r.hasher->Update(data + (lo - pos), hi - lo);
    r.fed += hi - lo;
  }
}

absl::Status CheckRanges(const VerifyPlan& plan, const std::string& path) {
  for (const RawRange& r : plan.ranges) {
    const DatasetSummary& ds = plan.summary.datasets[r.dataset];
    const std::string context = absl::StrCat(path, ": dataset '", ds.name, "'");
    if (r.fed != r.size) {
      return absl::DataLossError(absl::StrCat(context, ": raw data at byte ", r.offset,
                                              " runs past the end of the file (truncated)"));
    }
    SRS_RETURN_IF_ERROR(CheckDigest(context, ds.checksum, r.hasher->Digest()));
  }
  return absl::OkStatus();
}

// Read buffers of the byte pass, kept for reuse: a fresh multi-MiB buffer per piece would
// page-fault on every 4 KiB of it, on every verification.
constexpr size_t kPassBytes = 8 << 20;
// Bytes hashed for the whole file and then for the datasets while still in the CPU cache.
constexpr size_t kHashStep = 256 << 10;

struct BufferPool {
  std::mutex mu;
  std::vector<std::unique_ptr<char[]>> free;  // at most 4: the usual parallelism
};
BufferPool& Pool() {
  static auto* pool = new BufferPool();  // leaked: verifications may outlive static destructors
  return *pool;
}

// The byte pass: one sequential read of the file, hashing the whole file and each range.
absl::Status HashPass(int fd, const std::string& path, VerifyPlan& plan, VerifiedFile* out) {
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  BufferPool& pool = Pool();
  std::unique_ptr<char[]> buffer;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (!pool.free.empty()) buffer = std::move(pool.free.back()), pool.free.pop_back();
  }
  if (buffer == nullptr) buffer.reset(new char[kPassBytes]);
  Xxh3Hasher whole;
  uint64_t pos = 0;
  absl::Status status;
  for (;;) {
    ssize_t n = pread(fd, buffer.get(), kPassBytes, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = absl::DataLossError(absl::StrCat(path, ": read: ", strerror(errno)));
    if (n <= 0) break;
    for (size_t at = 0; at < static_cast<size_t>(n); at += kHashStep) {
      const size_t m = std::min(kHashStep, static_cast<size_t>(n) - at);
      whole.Update(buffer.get() + at, m);
      FeedRanges(plan.ranges, pos + at, buffer.get() + at, m);
    }
    pos += static_cast<uint64_t>(n);
  }
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pool.free.size() < 4) pool.free.push_back(std::move(buffer));
  }
  out->size = static_cast<int64_t>(pos);
  out->xxh3 = whole.Digest();
  return status;
}
}  // namespace

absl::StatusOr<PieceSummary> VerifyPiece(const std::string& path) {
  SRS_ASSIGN_OR_RETURN(VerifiedFile verified, VerifyPieceFile(path));
  return std::move(verified.summary);
}

absl::StatusOr<VerifiedFile> VerifyPieceFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    return absl::NotFoundError(absl::StrCat(path, ": no such piece file"));
  }
  if (fd < 0) return absl::DataLossError(absl::StrCat(path, ": open: ", strerror(errno)));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { close(*f); });
  struct stat before, after, named;
  if (fstat(fd, &before) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": stat: ", strerror(errno)));
  }
  SRS_ASSIGN_OR_RETURN(VerifyPlan plan, PlanVerification(path, nullptr));
  VerifiedFile verified;
  SRS_RETURN_IF_ERROR(HashPass(fd, path, plan, &verified));
  // HDF5 read the metadata by name, the pass read the bytes through `fd`: both must have
  // seen the same, unchanged file for the checks to cover the bytes that were hashed.
  auto ns = [](const timespec& t) { return t.tv_sec * 1000000000LL + t.tv_nsec; };
  if (fstat(fd, &after) != 0 || stat(path.c_str(), &named) != 0 ||
      after.st_size != before.st_size || ns(after.st_mtim) != ns(before.st_mtim) ||
      ns(after.st_ctim) != ns(before.st_ctim) || named.st_ino != before.st_ino ||
      named.st_dev != before.st_dev) {
    return absl::DataLossError(absl::StrCat(path, ": file changed while being verified"));
  }
  SRS_RETURN_IF_ERROR(CheckRanges(plan, path));
  verified.summary = std::move(plan.summary);
  return verified;
}

absl::StatusOr<PieceSummary> VerifyPieceImage(const std::string& image, const std::string& name) {
  SRS_ASSIGN_OR_RETURN(VerifyPlan plan, PlanVerification(name, &image));
  FeedRanges(plan.ranges, 0, image.data(), image.size());
  SRS_RETURN_IF_ERROR(CheckRanges(plan, name));
  return std::move(plan.summary);
}

}  // namespace piece
}  // namespace srs
