#include "common/piece_format.h"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/checksum.h"
#include "common/direct_write.h"
#include "common/hdf5_lock.h"
#include "common/piece_hdf5.h"
#include "common/status_macros.h"

namespace srs {
namespace piece {
namespace {

std::string NowIso8601() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

// ---- writing ----------------------------------------------------------------------------

absl::Status ValidateWrites(const std::vector<DatasetWrite>& datasets) {
  std::set<std::string> names;
  for (const DatasetWrite& ds : datasets) {
    if (ds.name.empty() || absl::StrContains(ds.name, "/") || ds.name == kIndexGroup ||
        ds.name == "." || !names.insert(ds.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid or duplicate dataset name '", ds.name, "'"));
    }
    if (ds.count < 0 || ds.global_count < 0 || (ds.count > 0 && ds.data == nullptr)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dataset '", ds.name, "': negative count or no data"));
    }
  }
  return absl::OkStatus();
}

// Slabs of this many bytes when the file's writeback starts behind the copy (WriteBehind::
// WantsRanges): the disk gets the first MiB while HDF5 copies the next.
constexpr int64_t kEagerSlabBytes = int64_t{1} << 20;

// Native-order elements, straight from the caller's memory: in one H5Dwrite, or, when `behind`
// wants the ranges as they are written, in slabs each handed to it as soon as it is in the
// file (a 4 MiB piece's data was otherwise written back only once its file was closed).
absl::Status WriteNativeElements(hid_t dset, const DatasetWrite& ds, hid_t native,
                                 WriteBehind* behind) {
  const int64_t elem = static_cast<int64_t>(ElementSize(ds.type));
  const int64_t step = std::max<int64_t>(1, kEagerSlabBytes / elem);
  const bool eager = behind != nullptr && behind->WantsRanges();
  if (!eager || ds.count < 2 * step) {
    if (ds.count > 0 && H5Dwrite(dset, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds.data) < 0) {
      return absl::InternalError(Hdf5ErrorText());
    }
    // WriteBehind gathers the ranges into calls of kEagerBytes or more: 1000 small arrays do
    // not cost a system call each.
    const haddr_t offset = eager && ds.count > 0 ? H5Dget_offset(dset) : HADDR_UNDEF;
    if (offset != HADDR_UNDEF) behind->Written(offset, static_cast<uint64_t>(ds.count * elem));
    return absl::OkStatus();
  }
  Hid file_space(H5Dget_space(dset), H5Sclose);
  haddr_t offset = HADDR_UNDEF;
  for (int64_t at = 0; at < ds.count; at += step) {
    hsize_t start = at, n = std::min(step, ds.count - at);
    Hid mem_space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (!mem_space.ok() ||
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr) < 0 ||
        H5Dwrite(dset, native, mem_space.get(), file_space.get(), H5P_DEFAULT,
                 static_cast<const char*>(ds.data) + at * elem) < 0) {
      return absl::InternalError(Hdf5ErrorText());
    }
    if (offset == HADDR_UNDEF) offset = H5Dget_offset(dset);  // allocated by the first write
    if (offset != HADDR_UNDEF) {
      behind->Written(static_cast<uint64_t>(offset) + static_cast<uint64_t>(at * elem),
                      static_cast<uint64_t>(n) * static_cast<uint64_t>(elem));
    }
  }
  return absl::OkStatus();
}

// Writes the raw elements and returns the checksum of their stored bytes. Native-order data
// is written straight from the caller's memory (WriteNativeElements); big-endian data goes
// through a bounded bounce buffer converted with H5Tconvert, hashed as stored.
absl::StatusOr<uint64_t> WriteElements(hid_t dset, const DatasetWrite& ds, hid_t file_type,
                                       WriteBehind* behind) {
  const size_t elem = ElementSize(ds.type);
  Hid native = TypeOf(ds.type, Order::kNative);
  if (!ds.big_endian) {
    SRS_RETURN_IF_ERROR(WriteNativeElements(dset, ds, native.get(), behind));
    return Xxh3(ds.data, ds.count * elem);
  }
  const bool complex = IsComplex(ds.type);
  const size_t parts = complex ? 2 : 1;
  ElementType scalar = ds.type == ElementType::kFloatComplex    ? ElementType::kFloat
                       : ds.type == ElementType::kDoubleComplex ? ElementType::kDouble
                                                                : ds.type;
  Hid scalar_native = TypeOf(scalar, Order::kNative), scalar_be = TypeOf(scalar, Order::kBig);
  Xxh3Hasher hasher;
  const int64_t step = std::max<int64_t>(1, kStreamBytes / elem);
  std::vector<char> buffer(std::min(ds.count, step) * elem);
  Hid file_space(H5Dget_space(dset), H5Sclose);
  for (int64_t at = 0; at < ds.count; at += step) {
    hsize_t start = at, n = std::min(step, ds.count - at);
    std::memcpy(buffer.data(), static_cast<const char*>(ds.data) + at * elem, n * elem);
    // Complex values convert as 2n scalars: H5Tconvert of compounds would need a background
    // buffer, and {re, im} of one scalar type is exactly a pair of scalars.
    if (H5Tconvert(scalar_native.get(), scalar_be.get(), n * parts, buffer.data(), nullptr,
                   H5P_DEFAULT) < 0) {
      return absl::InternalError(Hdf5ErrorText());
    }
    hasher.Update(buffer.data(), n * elem);
    Hid mem_space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr);
    if (H5Dwrite(dset, file_type, mem_space.get(), file_space.get(), H5P_DEFAULT, buffer.data()) <
        0) {
      return absl::InternalError(Hdf5ErrorText());
    }
  }
  return hasher.Digest();
}

// On a little-endian host the native types ARE the stored little-endian types: the stored bytes
// of a dataset are the caller's bytes, so its range can be hashed from memory (WrittenRange).
bool NativeIsStoredOrder() { return H5Tget_order(H5T_NATIVE_INT64) == H5T_ORDER_LE; }

// Records that `dset`'s stored bytes are `bytes` bytes at `data` (ranges may be null).
absl::Status NoteRange(hid_t dset, const void* data, size_t bytes,
                       std::vector<WrittenRange>* ranges) {
  if (ranges == nullptr || bytes == 0 || !NativeIsStoredOrder()) return absl::OkStatus();
  haddr_t offset = H5Dget_offset(dset);
  if (offset == HADDR_UNDEF) return absl::InternalError("no contiguous storage after the write");
  ranges->push_back({static_cast<uint64_t>(offset), data, bytes});
  return absl::OkStatus();
}

absl::Status WriteIndex(hid_t file, const DatasetWrite& ds, std::vector<WrittenRange>* ranges) {
  Hid group(H5Gopen2(file, kIndexGroup, H5P_DEFAULT), H5Gclose);
  if (!group.ok()) {
    H5Eclear2(H5E_DEFAULT);
    group = Hid(H5Gcreate2(file, kIndexGroup, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  }
  hsize_t n = ds.count;
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid dset(H5Dcreate2(group.get(), ds.name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                      H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose);
  if (!dset.ok() || (n > 0 && H5Dwrite(dset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                       ds.global_index) < 0)) {
    return absl::InternalError(absl::StrCat("index of '", ds.name, "': ", Hdf5ErrorText()));
  }
  return NoteRange(dset.get(), ds.global_index, static_cast<size_t>(n) * sizeof(int64_t), ranges);
}

// True when `ds` is written with direct I/O after the file is laid out (WriteOptions::direct_io):
// large, stored as it is in memory, from page-aligned memory.
bool DeferredToDirect(const DatasetWrite& ds) {
  return !ds.big_endian && NativeIsStoredOrder() &&
         ds.count * static_cast<int64_t>(ElementSize(ds.type)) >= kDirectMinBytes &&
         DirectWritable(ds.data);
}

// `deferred` (null: write everything now): a dataset DeferredToDirect is only laid out (space
// allocated at creation, never filled) and its range appended there, to be written later.
// `behind` (may be null): told the data's ranges as they are written (WriteNativeElements).
absl::Status WriteDataset(hid_t file, const DatasetWrite& ds, std::vector<WrittenRange>* ranges,
                          std::vector<WrittenRange>* deferred, WriteBehind* behind) {
  const bool defer = deferred != nullptr && DeferredToDirect(ds);
  Hid file_type = TypeOf(ds.type, ds.big_endian ? Order::kBig : Order::kLittle);
  hsize_t n = ds.count;
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  // Contiguous and never filled: the data is written once, in one piece, and the depot then
  // verifies it in place at the offset HDF5 reports (VerifyPieceFile).
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS);
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  if (defer) H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);  // its offset is known now
  Hid dset(H5Dcreate2(file, ds.name.c_str(), file_type.get(), space.get(), H5P_DEFAULT, dcpl.get(),
                      H5P_DEFAULT),
           H5Dclose);
  if (!dset.ok()) return absl::InternalError(Hdf5ErrorText());
  const size_t bytes = static_cast<size_t>(ds.count) * ElementSize(ds.type);
  uint64_t checksum = 0;
  if (defer) {
    checksum = Xxh3(ds.data, bytes);
    haddr_t offset = H5Dget_offset(dset.get());
    if (offset == HADDR_UNDEF) return absl::InternalError("no storage laid out for a direct write");
    deferred->push_back({static_cast<uint64_t>(offset), ds.data, bytes});
  } else {
    SRS_ASSIGN_OR_RETURN(checksum, WriteElements(dset.get(), ds, file_type.get(), behind));
  }
  hid_t d = dset.get();
  // Big-endian data was converted in a bounce buffer: its stored bytes are read back instead.
  if (!ds.big_endian) {
    SRS_RETURN_IF_ERROR(NoteRange(d, ds.data, ds.count * ElementSize(ds.type), ranges));
  }
  SRS_RETURN_IF_ERROR(WriteInt64Attr(d, "global_count", ds.global_count));
  SRS_RETURN_IF_ERROR(WriteStringAttr(d, "distribution", ds.distribution));
  SRS_RETURN_IF_ERROR(WriteAttr(d, "distribution_params", H5T_NATIVE_INT64, H5T_STD_I64LE,
                                ds.distribution_params.data(), ds.distribution_params.size(),
                                false));
  SRS_RETURN_IF_ERROR(WriteStringAttr(d, "srs_type", ElementTypeName(ds.type)));
  SRS_RETURN_IF_ERROR(WriteStringAttr(d, "checksum", ChecksumToString(checksum)));
  if (ds.global_index != nullptr) SRS_RETURN_IF_ERROR(WriteIndex(file, ds, ranges));
  return absl::OkStatus();
}

absl::Status WriteContents(hid_t file, const PieceHeader& header,
                           const std::vector<DatasetWrite>& datasets,
                           std::vector<WrittenRange>* ranges,
                           std::vector<WrittenRange>* deferred = nullptr,
                           WriteBehind* behind = nullptr) {
  SRS_RETURN_IF_ERROR(WriteInt32Attr(file, "srs_format_version", kFormatVersion));
  SRS_RETURN_IF_ERROR(WriteStringAttr(file, "app", header.app));
  SRS_RETURN_IF_ERROR(WriteInt64Attr(file, "epoch", header.epoch));
  SRS_RETURN_IF_ERROR(WriteInt32Attr(file, "rank", header.rank));
  SRS_RETURN_IF_ERROR(WriteInt32Attr(file, "nprocs", header.nprocs));
  SRS_RETURN_IF_ERROR(
      WriteStringAttr(file, "created", header.created.empty() ? NowIso8601() : header.created));
  for (const DatasetWrite& ds : datasets) {
    SRS_RETURN_IF_ERROR(Annotate(WriteDataset(file, ds, ranges, deferred, behind),
                                 absl::StrCat("dataset '", ds.name, "'")));
  }
  return absl::OkStatus();
}

absl::Status ReadSelectionImpl(const std::string& path, const std::string* image,
                               const std::string& dataset, ElementType wire_type,
                               const std::vector<Hyperslab>& selections, void* out,
                               size_t out_bytes) {
  SRS_ASSIGN_OR_RETURN(int64_t total, SelectionElements(selections));
  const size_t elem = ElementSize(wire_type);
  if (static_cast<unsigned __int128>(total) * elem > out_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": dataset '", dataset, "': ", total,
                                                   " elements do not fit in ", out_bytes,
                                                   " bytes"));
  }
  Hdf5Lock lock;
  QuietHdf5();
  SRS_ASSIGN_OR_RETURN(Hid file, OpenFile(path, image));
  SRS_ASSIGN_OR_RETURN(Hid dset, OpenDataset(file.get(), path, dataset));
  const std::string context = absl::StrCat(path, ": dataset '", dataset, "'");
  DatasetSummary summary;  // an index dataset has no attributes: int64, its length
  summary.count = IndexedDatasetOf(dataset).empty() ? -2 : DatasetLength(dset.get());
  if (summary.count == -2) {
    SRS_ASSIGN_OR_RETURN(summary, ReadDatasetSummary(file.get(), dset.get(), dataset));
  } else if (summary.count < 0) {
    return absl::DataLossError(absl::StrCat(context, ": index is not 1-D"));
  } else if (wire_type != ElementType::kInt64) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": an index reads as int64 only"));
  }
  if (IsComplex(summary.type) != IsComplex(wire_type)) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": cannot convert stored ",
                                                   ElementTypeName(summary.type), " to ",
                                                   ElementTypeName(wire_type)));
  }
  Hid mem_type = TypeOf(wire_type, Order::kLittle);
  Hid file_space(H5Dget_space(dset.get()), H5Sclose);
  char* at = static_cast<char*>(out);
  for (const Hyperslab& s : selections) {
    SRS_RETURN_IF_ERROR(ValidateSlab(s, summary.count, context));
    if (s.count == 0) continue;
    hsize_t start = s.start, stride = s.stride, count = s.count, block = s.block;
    hsize_t n = count * block;
    Hid mem_space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, &stride, &count, &block) <
            0 ||
        H5Dread(dset.get(), mem_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, at) <
            0) {
      return H5Error(absl::StatusCode::kDataLoss, context, "read");
    }
    at += n * elem;
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// True when the file system holding `path` has less than twice the data's bytes (plus 8 MiB) free.
bool SpaceIsShort(const std::string& path, const std::vector<DatasetWrite>& datasets) {
  uint64_t bytes = 8 << 20;
  for (const DatasetWrite& ds : datasets) {
    bytes += 2 * (ds.count * ElementSize(ds.type) + (ds.global_index ? ds.count * 8 : 0));
  }
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  struct statvfs fs;
  if (dir.empty() || statvfs(dir.c_str(), &fs) != 0) return false;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < bytes;
}

// Writes `bytes` to a new file at `path` with write(2) and fsyncs it. A full disk is
// RESOURCE_EXHAUSTED.
absl::Status WriteBytesFile(const std::string& path, const std::string& bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": open: ", strerror(errno)));
  size_t done = 0;
  int error = 0;
  while (done < bytes.size() && error == 0) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno != EINTR) error = errno;
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (error == 0 && fsync(fd) != 0) error = errno;
  close(fd);
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": ", strerror(error)));
  }
  if (error != 0) return absl::InternalError(absl::StrCat(path, ": write: ", strerror(error)));
  return absl::OkStatus();
}

// WritePieceFile; `ranges` (may be null) receives where each dataset's bytes went.
// `before_sync` (may be empty) runs once every byte of the file is written, before the file is
// made durable (or its writeback started): the hash of the written file, while the disk works.
absl::Status WritePieceFileImpl(const std::string& path, const PieceHeader& header,
                                const std::vector<DatasetWrite>& datasets,
                                std::vector<WrittenRange>* ranges, WriteOptions options,
                                const std::function<void()>& before_sync = {}) {
  SRS_RETURN_IF_ERROR(ValidateWrites(datasets));
  if (SpaceIsShort(path, datasets)) {
    // HDF5 1.10 keeps a file whose close failed for lack of space in its ID table, half
    // destroyed, and crashes on it at MPI_Finalize or exit (HDFFV-11052: SIGSEGV in
    // H5F__close_cb). When space is short, build the file in memory and write its bytes with
    // write(2), whose ENOSPC is a clean error.
    SRS_ASSIGN_OR_RETURN(std::string image, WritePieceImage(header, datasets));
    return WriteBytesFile(path, image);
  }
  // What HDF5 writes itself goes to disk behind it (write_behind.h); datasets deferred to direct
  // I/O are written after the layout, counted as they go.
  int64_t buffered_bytes = 0;
  bool any_direct = false;
  for (const DatasetWrite& ds : datasets) {
    if (options.direct_io && DeferredToDirect(ds)) {
      any_direct = true;
    } else {
      buffered_bytes += ds.count * static_cast<int64_t>(ElementSize(ds.type));
    }
  }
  std::vector<WrittenRange> deferred;
  std::unique_ptr<WriteBehind> behind;
  {
    Hdf5Lock lock;
    QuietHdf5();
    Hid fapl = PieceFileAccess();
    // Direct I/O needs every deferred dataset at a block-aligned offset; small objects
    // (metadata, small datasets) stay packed.
    if (any_direct && fapl.ok()) H5Pset_alignment(fapl.get(), kDirectMinBytes, kDirectAlign);
    Hid file(
        H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.ok() ? fapl.get() : H5P_DEFAULT),
        H5Fclose);
    if (!file.ok()) return H5Error(absl::StatusCode::kInternal, path, "cannot create");
    // With direct writes the file reaches its full size at close, before its data is written:
    // no write-behind thread (it would count holes); the direct writes count instead, and
    // Finish reports the whole file once it is durable.
    SRS_ASSIGN_OR_RETURN(
        behind, WriteBehind::Start(path, any_direct ? 0 : buffered_bytes, options.on_durable));
    SRS_RETURN_IF_ERROR(Annotate(WriteContents(file.get(), header, datasets, ranges,
                                               any_direct ? &deferred : nullptr, behind.get()),
                                 path));
    // Closing flushes: its failure (disk full) must fail the write.
    if (H5Fclose(file.release()) < 0) return H5Error(absl::StatusCode::kInternal, path, "close");
  }
  if (!deferred.empty()) {
    SRS_RETURN_IF_ERROR(WriteRangesDirect(path, deferred, options.on_durable));
  }
  if (before_sync) before_sync();
  if (!options.fsync && !any_direct) return behind->StartRest();
  return behind->Finish();
}

}  // namespace

absl::Status WritePieceFile(const std::string& path, const PieceHeader& header,
                            const std::vector<DatasetWrite>& datasets) {
  return WritePieceFileImpl(path, header, datasets, nullptr, WriteOptions());
}

absl::StatusOr<FileDigest> WritePieceFileHashed(const std::string& path, const PieceHeader& header,
                                                const std::vector<DatasetWrite>& datasets,
                                                WriteOptions options) {
  std::vector<WrittenRange> ranges;
  // Hashed on a thread of its own while the file is made durable (or its writeback starts): the
  // bytes it reads are in the caller's memory and the page cache, and the fsync mostly waits
  // for the disk. (A file written in one piece for lack of space is hashed after.) Where no
  // thread can be started (EAGAIN), the hash runs in this one at get() instead: libstdc++ falls
  // back to the deferred policy then, rather than throwing into an asynchronous flusher.
  std::future<absl::StatusOr<FileDigest>> digest;
  auto hash = [&] { return HashWrittenFile(path, ranges); };
  absl::Status written = WritePieceFileImpl(
      path, header, datasets, &ranges, std::move(options),
      [&] { digest = std::async(std::launch::async | std::launch::deferred, hash); });
  if (!digest.valid()) {
    SRS_RETURN_IF_ERROR(written);
    return hash();
  }
  absl::StatusOr<FileDigest> hashed = digest.get();
  SRS_RETURN_IF_ERROR(written);
  return hashed;
}

absl::StatusOr<std::string> WritePieceImage(const PieceHeader& header,
                                            const std::vector<DatasetWrite>& datasets) {
  SRS_RETURN_IF_ERROR(ValidateWrites(datasets));
  static std::atomic<uint64_t> counter{0};
  // The core driver still keys open files by name: make each in-memory file's name unique.
  std::string name = absl::StrCat("srs-piece-image-", getpid(), "-", counter++, ".h5");
  Hdf5Lock lock;
  QuietHdf5();
  // Grow the in-memory file in one step: the core driver reallocates by this increment, and
  // 1 MiB steps would copy a 1 GiB image hundreds of times.
  size_t expected = 1 << 20;
  for (const DatasetWrite& ds : datasets) {
    expected += ds.count * ElementSize(ds.type) + (ds.global_index ? ds.count * 8 : 0);
  }
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_core(fapl.get(), expected, /*backing_store=*/0);
  Hid file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!file.ok()) return H5Error(absl::StatusCode::kInternal, name, "cannot create in memory");
  SRS_RETURN_IF_ERROR(
      Annotate(WriteContents(file.get(), header, datasets, nullptr), "piece image"));
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) {
    return H5Error(absl::StatusCode::kInternal, name, "flush");
  }
  ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  if (size < 0) return H5Error(absl::StatusCode::kInternal, name, "file image size");
  std::string image(size, '\0');
  if (H5Fget_file_image(file.get(), image.data(), image.size()) != size) {
    return H5Error(absl::StatusCode::kInternal, name, "file image");
  }
  return image;
}

absl::StatusOr<PieceSummary> ReadPieceSummary(const std::string& path) {
  Hdf5Lock lock;
  QuietHdf5();
  SRS_ASSIGN_OR_RETURN(Hid file, OpenFile(path));
  return SummaryLocked(file.get(), path);
}

absl::Status ReadSelection(const std::string& path, const std::string& dataset,
                           ElementType wire_type, const std::vector<Hyperslab>& selections,
                           void* out, size_t out_bytes) {
  return ReadSelectionImpl(path, nullptr, dataset, wire_type, selections, out, out_bytes);
}

absl::Status ReadSelectionImage(const std::string& image, const std::string& name,
                                const std::string& dataset, ElementType wire_type,
                                const std::vector<Hyperslab>& selections, void* out,
                                size_t out_bytes) {
  return ReadSelectionImpl(name, &image, dataset, wire_type, selections, out, out_bytes);
}

std::string IndexedDatasetOf(const std::string& dataset) {
  const std::string prefix = absl::StrCat(kIndexGroup, "/");
  if (!absl::StartsWith(dataset, prefix)) return "";
  std::string name = dataset.substr(prefix.size());
  return name.empty() || absl::StrContains(name, "/") || name == "." ? "" : name;
}

absl::StatusOr<int64_t> SelectionElements(const std::vector<Hyperslab>& selections) {
  int64_t total = 0;
  for (const Hyperslab& s : selections) {
    SRS_RETURN_IF_ERROR(ValidateSlab(s, std::numeric_limits<int64_t>::max(), "selection"));
    __int128 n = static_cast<__int128>(s.count) * s.block + total;
    if (n > std::numeric_limits<int64_t>::max()) {
      return absl::InvalidArgumentError("selection: too many elements");
    }
    total = static_cast<int64_t>(n);
  }
  return total;
}

absl::Status ReadIndex(const std::string& path, const std::string& dataset,
                       std::vector<int64_t>* global_index) {
  const std::string name = absl::StrCat(kIndexGroup, "/", dataset);
  Hdf5Lock lock;  // recursive: held so the length and the read see the same file
  int64_t n = -1;
  {
    QuietHdf5();
    SRS_ASSIGN_OR_RETURN(Hid file, OpenFile(path));
    absl::StatusOr<Hid> index = OpenDataset(file.get(), path, name);
    if (index.ok()) n = DatasetLength(index->get());
    if (IndexedDatasetOf(name) != dataset || absl::IsNotFound(index.status())) {
      return absl::NotFoundError(absl::StrCat(path, ": no index for dataset '", dataset, "'"));
    }
    if (n < 0) return absl::DataLossError(absl::StrCat(path, ": unreadable ", name));
  }
  global_index->assign(n, 0);
  return ReadSelection(path, name, ElementType::kInt64, {{0, 1, n, 1}}, global_index->data(),
                       n * sizeof(int64_t));
}

}  // namespace piece
}  // namespace srs