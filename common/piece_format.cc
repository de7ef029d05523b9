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
#include "common/hdf5_lock.h"
#include "common/status_macros.h"

namespace srs {
namespace piece {
namespace {

// Elements per HDF5 read/write call when streaming a dataset through a bounce buffer (checksum
// verification, big-endian conversion): bounded memory whatever the dataset size.
constexpr int64_t kStreamBytes = 4 << 20;

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Hid(Hid&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Hid& operator=(Hid&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(closer_, other.closer_);
    return *this;
  }
  ~Hid() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  }
  hid_t get() const { return id_; }
  hid_t release() { return std::exchange(id_, -1); }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// The most specific message of HDF5's error stack (its innermost entry), for Status messages.
std::string Hdf5ErrorText() {
  std::string text;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
        auto* out = static_cast<std::string*>(data);
        if (n == 0 && err->desc != nullptr) *out = absl::StrCat(err->func_name, ": ", err->desc);
        return 0;
      },
      &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "HDF5 error" : text;
}

absl::Status H5Error(absl::StatusCode code, const std::string& path, absl::string_view what) {
  return absl::Status(code, absl::StrCat(path, ": ", what, ": ", Hdf5ErrorText()));
}

// Called under the lock by every entry point: HDF5 must never print to stderr on its own.
void QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Hid Compound(hid_t member, size_t member_size) {
  Hid type(H5Tcreate(H5T_COMPOUND, 2 * member_size), H5Tclose);
  H5Tinsert(type.get(), "re", 0, member);
  H5Tinsert(type.get(), "im", member_size, member);
  return type;
}

// The HDF5 type of an ElementType: native (memory), little-endian (wire) or big-endian.
enum class Order { kNative, kLittle, kBig };

Hid TypeOf(ElementType type, Order order) {
  const bool le = order == Order::kLittle, be = order == Order::kBig;
  auto pick = [&](hid_t native, hid_t little, hid_t big) {
    return le ? little : be ? big : native;
  };
  switch (type) {
    case ElementType::kChar:
      return Hid(H5Tcopy(pick(H5T_NATIVE_SCHAR, H5T_STD_I8LE, H5T_STD_I8BE)), H5Tclose);
    case ElementType::kInt32:
      return Hid(H5Tcopy(pick(H5T_NATIVE_INT32, H5T_STD_I32LE, H5T_STD_I32BE)), H5Tclose);
    case ElementType::kInt64:
      return Hid(H5Tcopy(pick(H5T_NATIVE_INT64, H5T_STD_I64LE, H5T_STD_I64BE)), H5Tclose);
    case ElementType::kFloat:
      return Hid(H5Tcopy(pick(H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, H5T_IEEE_F32BE)), H5Tclose);
    case ElementType::kDouble:
      return Hid(H5Tcopy(pick(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, H5T_IEEE_F64BE)), H5Tclose);
    case ElementType::kFloatComplex:
      return Compound(pick(H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, H5T_IEEE_F32BE), 4);
    case ElementType::kDoubleComplex:
      return Compound(pick(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, H5T_IEEE_F64BE), 8);
  }
  return Hid();
}

std::string NowIso8601() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

// ---- attributes -------------------------------------------------------------------------

absl::Status WriteAttr(hid_t obj, const char* name, hid_t mem_type, hid_t file_type,
                       const void* value, hsize_t n, bool scalar) {
  Hid space = scalar   ? Hid(H5Screate(H5S_SCALAR), H5Sclose)
              : n == 0 ? Hid(H5Screate(H5S_NULL), H5Sclose)
                       : Hid(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid attr(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok() || (n > 0 && H5Awrite(attr.get(), mem_type, value) < 0)) {
    return absl::InternalError(absl::StrCat("attribute ", name, ": ", Hdf5ErrorText()));
  }
  return absl::OkStatus();
}

absl::Status WriteInt64Attr(hid_t obj, const char* name, int64_t value) {
  return WriteAttr(obj, name, H5T_NATIVE_INT64, H5T_STD_I64LE, &value, 1, true);
}
absl::Status WriteInt32Attr(hid_t obj, const char* name, int32_t value) {
  return WriteAttr(obj, name, H5T_NATIVE_INT32, H5T_STD_I32LE, &value, 1, true);
}
absl::Status WriteStringAttr(hid_t obj, const char* name, const std::string& value) {
  // Fixed-length, null-terminated: what h5dump and h5py show as a plain string.
  Hid type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), value.size() + 1);
  H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
  return WriteAttr(obj, name, type.get(), type.get(), value.c_str(), 1, true);
}

absl::StatusOr<std::string> ReadStringAttr(hid_t obj, const char* name) {
  Hid attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) return absl::DataLossError(absl::StrCat("missing attribute '", name, "'"));
  Hid type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    return absl::DataLossError(absl::StrCat("attribute '", name, "' is not a string"));
  }
  if (H5Tis_variable_str(type.get()) > 0) {  // written by other tools (h5py's default)
    char* value = nullptr;
    Hid mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    if (H5Aread(attr.get(), mem.get(), &value) < 0 || value == nullptr) {
      return absl::DataLossError(absl::StrCat("attribute '", name, "': ", Hdf5ErrorText()));
    }
    std::string result(value);
    H5free_memory(value);
    return result;
  }
  std::string value(H5Tget_size(type.get()), '\0');
  if (H5Aread(attr.get(), type.get(), value.data()) < 0) {
    return absl::DataLossError(absl::StrCat("attribute '", name, "': ", Hdf5ErrorText()));
  }
  return std::string(value.c_str());  // drops the terminator and any padding
}

// Reads an integer attribute (scalar or 1-D) converted to int64.
absl::StatusOr<std::vector<int64_t>> ReadInt64sAttr(hid_t obj, const char* name) {
  Hid attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) return absl::DataLossError(absl::StrCat("missing attribute '", name, "'"));
  Hid space(H5Aget_space(attr.get()), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<int64_t> values(n > 0 ? n : 0);
  if (n > 0 && H5Aread(attr.get(), H5T_NATIVE_INT64, values.data()) < 0) {
    return absl::DataLossError(absl::StrCat("attribute '", name, "': ", Hdf5ErrorText()));
  }
  return values;
}

absl::StatusOr<int64_t> ReadInt64Attr(hid_t obj, const char* name) {
  SRS_ASSIGN_OR_RETURN(std::vector<int64_t> values, ReadInt64sAttr(obj, name));
  if (values.size() != 1) {
    return absl::DataLossError(absl::StrCat("attribute '", name, "' is not a single integer"));
  }
  return values[0];
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

// Writes the raw elements and returns the checksum of their stored bytes. Native-order data
// is written straight from the caller's memory; big-endian data goes through a bounded bounce
// buffer converted with H5Tconvert, hashed as stored.
absl::StatusOr<uint64_t> WriteElements(hid_t dset, const DatasetWrite& ds, hid_t file_type) {
  const size_t elem = ElementSize(ds.type);
  Hid native = TypeOf(ds.type, Order::kNative);
  if (!ds.big_endian) {
    if (ds.count > 0 && H5Dwrite(dset, native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ds.data) < 0) {
      return absl::InternalError(Hdf5ErrorText());
    }
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

absl::Status WriteDataset(hid_t file, const DatasetWrite& ds, std::vector<WrittenRange>* ranges) {
  Hid file_type = TypeOf(ds.type, ds.big_endian ? Order::kBig : Order::kLittle);
  hsize_t n = ds.count;
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  // Contiguous and never filled: the data is written once, in one piece, and the depot then
  // verifies it in place at the offset HDF5 reports (VerifyPieceFile).
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS);
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  Hid dset(H5Dcreate2(file, ds.name.c_str(), file_type.get(), space.get(), H5P_DEFAULT, dcpl.get(),
                      H5P_DEFAULT),
           H5Dclose);
  if (!dset.ok()) return absl::InternalError(Hdf5ErrorText());
  SRS_ASSIGN_OR_RETURN(uint64_t checksum, WriteElements(dset.get(), ds, file_type.get()));
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
                           std::vector<WrittenRange>* ranges) {
  SRS_RETURN_IF_ERROR(WriteInt32Attr(file, "srs_format_version", kFormatVersion));
  SRS_RETURN_IF_ERROR(WriteStringAttr(file, "app", header.app));
  SRS_RETURN_IF_ERROR(WriteInt64Attr(file, "epoch", header.epoch));
  SRS_RETURN_IF_ERROR(WriteInt32Attr(file, "rank", header.rank));
  SRS_RETURN_IF_ERROR(WriteInt32Attr(file, "nprocs", header.nprocs));
  SRS_RETURN_IF_ERROR(
      WriteStringAttr(file, "created", header.created.empty() ? NowIso8601() : header.created));
  for (const DatasetWrite& ds : datasets) {
    SRS_RETURN_IF_ERROR(
        Annotate(WriteDataset(file, ds, ranges), absl::StrCat("dataset '", ds.name, "'")));
  }
  return absl::OkStatus();
}

absl::Status FsyncPath(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": open: ", strerror(errno)));
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat(path, ": fsync: ", strerror(saved)));
  return absl::OkStatus();
}

// File access for piece files: the sec2 driver with HDF5's file locking off. A piece is written
// once, by one writer, under a private spool name, and never changes afterwards, so HDF5's
// advisory flock() protects nothing here; and it does harm: the lock belongs to the open file
// description, which a child the process forks while a piece is open (an application calling
// system() while the async flusher writes) inherits until it exits, so the depot's commit then
// failed to open the piece ("unable to lock file, errno = 11").
Hid PieceFileAccess() {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (fapl.ok())
    H5Pset_file_locking(fapl.get(), /*use_file_locking=*/0,
                        /*ignore_when_disabled=*/1);
  return fapl;
}

// ---- reading ----------------------------------------------------------------------------

// Opens a piece read-only: the file at `path`, or, when `image` is given, that in-memory file
// image (the core driver; `path` then only names it in errors).
absl::StatusOr<Hid> OpenFile(const std::string& path, const std::string* image = nullptr) {
  if (image == nullptr) {
    if (access(path.c_str(), F_OK) != 0) {
      return absl::NotFoundError(absl::StrCat(path, ": no such piece file"));
    }
    Hid fapl = PieceFileAccess();
    Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.ok() ? fapl.get() : H5P_DEFAULT), H5Fclose);
    if (!file.ok()) return H5Error(absl::StatusCode::kDataLoss, path, "not a readable HDF5 file");
    return file;
  }
  static std::atomic<uint64_t> counter{0};
  std::string name = absl::StrCat("srs-piece-read-", getpid(), "-", counter++, ".h5");
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_core(fapl.get(), 1 << 20, /*backing_store=*/0);
  H5Pset_file_image(fapl.get(), const_cast<char*>(image->data()), image->size());
  Hid file(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.ok()) return H5Error(absl::StatusCode::kDataLoss, path, "not a readable HDF5 image");
  return file;
}

// A root dataset, or an index dataset "srs_index/<name>".
absl::StatusOr<Hid> OpenDataset(hid_t file, const std::string& path, const std::string& name) {
  const bool index = !IndexedDatasetOf(name).empty();
  if (name.empty() || (!index && absl::StrContains(name, "/")) || name == kIndexGroup ||
      (index && H5Lexists(file, kIndexGroup, H5P_DEFAULT) <= 0) ||
      H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return absl::NotFoundError(absl::StrCat(path, ": no dataset '", name, "'"));
  }
  Hid dset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) {
    return H5Error(absl::StatusCode::kDataLoss, path, absl::StrCat("dataset '", name, "'"));
  }
  return dset;
}

int64_t DatasetLength(hid_t dset) {
  Hid space(H5Dget_space(dset), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return -1;
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  return static_cast<int64_t>(n);
}

absl::StatusOr<DatasetSummary> ReadDatasetSummary(hid_t file, hid_t dset, const std::string& name) {
  DatasetSummary s;
  s.name = name;
  SRS_ASSIGN_OR_RETURN(std::string type_name, ReadStringAttr(dset, "srs_type"));
  SRS_ASSIGN_OR_RETURN(s.type, ElementTypeFromName(type_name));
  s.count = DatasetLength(dset);
  if (s.count < 0) return absl::DataLossError("dataset is not 1-D");
  Hid file_type(H5Dget_type(dset), H5Tclose);
  if (H5Tget_size(file_type.get()) != ElementSize(s.type) ||
      (H5Tget_class(file_type.get()) == H5T_COMPOUND) != IsComplex(s.type)) {
    return absl::DataLossError(
        absl::StrCat("stored HDF5 type does not match srs_type ", type_name));
  }
  SRS_ASSIGN_OR_RETURN(s.global_count, ReadInt64Attr(dset, "global_count"));
  SRS_ASSIGN_OR_RETURN(s.distribution, ReadStringAttr(dset, "distribution"));
  SRS_ASSIGN_OR_RETURN(s.distribution_params, ReadInt64sAttr(dset, "distribution_params"));
  SRS_ASSIGN_OR_RETURN(std::string checksum, ReadStringAttr(dset, "checksum"));
  char* end = nullptr;
  if (checksum.size() != 21 || !absl::StartsWith(checksum, "xxh3:") ||
      (s.checksum = strtoull(checksum.c_str() + 5, &end, 16), *end != '\0')) {
    return absl::DataLossError(absl::StrCat("malformed checksum attribute '", checksum, "'"));
  }
  std::string index_path = absl::StrCat(kIndexGroup, "/", name);
  s.has_index = H5Lexists(file, kIndexGroup, H5P_DEFAULT) > 0 &&
                H5Lexists(file, index_path.c_str(), H5P_DEFAULT) > 0;
  H5Eclear2(H5E_DEFAULT);
  return s;
}

// Names of the root's datasets (not the index group), in HDF5's name order.
absl::StatusOr<std::vector<std::string>> DatasetNames(hid_t file, const std::string& path) {
  H5G_info_t info;
  if (H5Gget_info(file, &info) < 0) return H5Error(absl::StatusCode::kDataLoss, path, "root");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    char name[1024];
    ssize_t len = H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name),
                                     H5P_DEFAULT);
    if (len < 0 || len >= static_cast<ssize_t>(sizeof(name))) {
      return H5Error(absl::StatusCode::kDataLoss, path, "link name");
    }
    if (std::string(name) != kIndexGroup) names.emplace_back(name);
  }
  return names;
}

absl::StatusOr<PieceSummary> SummaryLocked(hid_t file, const std::string& path) {
  PieceSummary summary;
  auto root = [&](const absl::Status& s) { return Annotate(s, path); };
  auto version = ReadInt64Attr(file, "srs_format_version");
  if (!version.ok()) return root(version.status());
  summary.format_version = static_cast<int>(*version);
  if (summary.format_version != kFormatVersion) {
    return absl::DataLossError(
        absl::StrCat(path, ": unsupported srs_format_version ", summary.format_version));
  }
  PieceHeader& h = summary.header;
  auto app = ReadStringAttr(file, "app");
  auto epoch = ReadInt64Attr(file, "epoch");
  auto rank = ReadInt64Attr(file, "rank");
  auto nprocs = ReadInt64Attr(file, "nprocs");
  auto created = ReadStringAttr(file, "created");
  for (const absl::Status& s :
       {app.status(), epoch.status(), rank.status(), nprocs.status(), created.status()}) {
    if (!s.ok()) return root(s);
  }
  h.app = *app, h.epoch = *epoch, h.rank = *rank, h.nprocs = *nprocs, h.created = *created;
  SRS_ASSIGN_OR_RETURN(std::vector<std::string> names, DatasetNames(file, path));
  for (const std::string& name : names) {
    SRS_ASSIGN_OR_RETURN(Hid dset, OpenDataset(file, path, name));
    auto ds = ReadDatasetSummary(file, dset.get(), name);
    if (!ds.ok()) return Annotate(ds.status(), absl::StrCat(path, ": dataset '", name, "'"));
    summary.datasets.push_back(std::move(*ds));
  }
  return summary;
}

// XXH3 of a dataset's raw stored bytes, read through a bounded bounce buffer.
absl::StatusOr<uint64_t> HashStoredBytes(hid_t dset, int64_t count) {
  Hid file_type(H5Dget_type(dset), H5Tclose);
  const size_t elem = H5Tget_size(file_type.get());
  const int64_t step = std::max<int64_t>(1, kStreamBytes / static_cast<int64_t>(elem));
  std::vector<char> buffer(std::min(count, step) * elem);
  Hid file_space(H5Dget_space(dset), H5Sclose);
  Xxh3Hasher hasher;
  for (int64_t at = 0; at < count; at += step) {
    hsize_t start = at, n = std::min(step, count - at);
    Hid mem_space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr);
    if (H5Dread(dset, file_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT,
                buffer.data()) < 0) {
      return absl::DataLossError(absl::StrCat("unreadable data: ", Hdf5ErrorText()));
    }
    hasher.Update(buffer.data(), n * elem);
  }
  return hasher.Digest();
}

absl::Status ValidateSlab(const Hyperslab& s, int64_t length, const std::string& context) {
  if (s.start < 0 || s.count < 0 || s.block < 0 || s.stride < 1 || (s.count > 0 && s.block < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        context, ": invalid selection (start ", s.start, ", stride ", s.stride, ", count ", s.count,
        ", block ", s.block, "): negative value, stride < 1 or empty block"));
  }
  if (s.count > 1 && s.stride < s.block) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": overlapping blocks (stride ",
                                                   s.stride, " < block ", s.block, ")"));
  }
  if (s.count == 0) return absl::OkStatus();
  // last = start + (count-1)*stride + block, computed without overflow.
  __int128 last = static_cast<__int128>(s.count - 1) * s.stride + s.start + s.block;
  if (last > length) {
    return absl::OutOfRangeError(absl::StrCat(context, ": selection (start ", s.start, ", stride ",
                                              s.stride, ", count ", s.count, ", block ", s.block,
                                              ") goes past the end (", length, " elements)"));
  }
  return absl::OkStatus();
}

// ---- verification ---------------------------------------------------------------------

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
absl::Status WritePieceFileImpl(const std::string& path, const PieceHeader& header,
                                const std::vector<DatasetWrite>& datasets,
                                std::vector<WrittenRange>* ranges) {
  SRS_RETURN_IF_ERROR(ValidateWrites(datasets));
  if (SpaceIsShort(path, datasets)) {
    // HDF5 1.10 keeps a file whose close failed for lack of space in its ID table, half
    // destroyed, and crashes on it at MPI_Finalize or exit (HDFFV-11052: SIGSEGV in
    // H5F__close_cb). When space is short, build the file in memory and write its bytes with
    // write(2), whose ENOSPC is a clean error.
    SRS_ASSIGN_OR_RETURN(std::string image, WritePieceImage(header, datasets));
    return WriteBytesFile(path, image);
  }
  {
    Hdf5Lock lock;
    QuietHdf5();
    Hid fapl = PieceFileAccess();
    Hid file(
        H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.ok() ? fapl.get() : H5P_DEFAULT),
        H5Fclose);
    if (!file.ok()) return H5Error(absl::StatusCode::kInternal, path, "cannot create");
    SRS_RETURN_IF_ERROR(Annotate(WriteContents(file.get(), header, datasets, ranges), path));
    // Closing flushes: its failure (disk full) must fail the write.
    if (H5Fclose(file.release()) < 0) return H5Error(absl::StatusCode::kInternal, path, "close");
  }
  return FsyncPath(path);
}

}  // namespace

absl::Status WritePieceFile(const std::string& path, const PieceHeader& header,
                            const std::vector<DatasetWrite>& datasets) {
  return WritePieceFileImpl(path, header, datasets, nullptr);
}

absl::StatusOr<FileDigest> WritePieceFileHashed(const std::string& path, const PieceHeader& header,
                                                const std::vector<DatasetWrite>& datasets) {
  std::vector<WrittenRange> ranges;
  SRS_RETURN_IF_ERROR(WritePieceFileImpl(path, header, datasets, &ranges));
  return HashWrittenFile(path, std::move(ranges));
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
