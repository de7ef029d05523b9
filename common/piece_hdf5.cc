#include "common/piece_hdf5.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/checksum.h"
#include "common/status_macros.h"

namespace srs {
namespace piece {
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
absl::StatusOr<Hid> OpenFile(const std::string& path, const std::string* image) {
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

}  // namespace piece
}  // namespace srs
