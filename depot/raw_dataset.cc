#include "depot/raw_dataset.h"

#include <hdf5.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hdf5_lock.h"

namespace srs {
namespace depot {
namespace {

// Closes an HDF5 id at scope exit.
class Id {
 public:
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// The little-endian file type that holds `type` byte for byte; -1 for compound (complex)
// types, which always go through HDF5.
hid_t LittleEndianType(ElementType type) {
  switch (type) {
    case ElementType::kChar:
      return H5T_STD_I8LE;
    case ElementType::kInt32:
      return H5T_STD_I32LE;
    case ElementType::kInt64:
      return H5T_STD_I64LE;
    case ElementType::kFloat:
      return H5T_IEEE_F32LE;
    case ElementType::kDouble:
      return H5T_IEEE_F64LE;
    default:
      return -1;
  }
}

std::optional<RawDataset> LocateLocked(hid_t file, const std::string& dataset,
                                       ElementType wire_type) {
  const hid_t wanted = LittleEndianType(wire_type);
  if (wanted < 0) return std::nullopt;
  Id fcpl(H5Fget_create_plist(file), H5Pclose);
  hsize_t userblock = 1;
  if (!fcpl.ok() || H5Pget_userblock(fcpl.get(), &userblock) < 0 || userblock != 0) {
    return std::nullopt;
  }
  Id dset(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) return std::nullopt;
  Id type(H5Dget_type(dset.get()), H5Tclose);
  Id space(H5Dget_space(dset.get()), H5Sclose);
  if (!type.ok() || !space.ok() || H5Tequal(type.get(), wanted) <= 0 ||
      H5Sget_simple_extent_ndims(space.get()) != 1) {
    return std::nullopt;
  }
  hsize_t count = 0;
  H5Sget_simple_extent_dims(space.get(), &count, nullptr);
  RawDataset raw{0, static_cast<int64_t>(count), ElementSize(wire_type)};
  if (count == 0) return raw;
  Id dcpl(H5Dget_create_plist(dset.get()), H5Pclose);
  const hsize_t bytes = count * raw.element_size;
  if (!dcpl.ok() || H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS ||
      H5Pget_external_count(dcpl.get()) != 0 || H5Dget_storage_size(dset.get()) != bytes) {
    return std::nullopt;
  }
  haddr_t offset = H5Dget_offset(dset.get());
  if (offset == HADDR_UNDEF) return std::nullopt;
  raw.offset = offset;
  return raw;
}

// The element type stored byte for byte by the dataset type `type`, if any.
std::optional<ElementType> StoredElementType(hid_t type) {
  for (ElementType candidate : {ElementType::kChar, ElementType::kInt32, ElementType::kInt64,
                                ElementType::kFloat, ElementType::kDouble}) {
    if (H5Tequal(type, LittleEndianType(candidate)) > 0) return candidate;
  }
  return std::nullopt;
}

// H5Literate callback: collects the names of the root group's datasets.
// (HDF5 1.10 names, as Debian 12 ships.)
herr_t CollectDataset(hid_t group, const char* name, const H5L_info_t* info, void* out) {
  if (info->type != H5L_TYPE_HARD) return 0;
  H5O_info_t object;
  if (H5Oget_info_by_name2(group, name, &object, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return 0;
  if (object.type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

}  // namespace

absl::StatusOr<std::map<std::string, StoredRawDataset>> LocateRawDatasets(const std::string& path) {
  Hdf5Lock lock;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable HDF5 file"));
  }
  std::vector<std::string> names;
  H5Literate(file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, CollectDataset, &names);
  std::map<std::string, StoredRawDataset> located;
  for (const std::string& name : names) {
    std::optional<ElementType> stored;
    {
      Id dset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
      if (!dset.ok()) continue;
      Id type(H5Dget_type(dset.get()), H5Tclose);
      if (type.ok()) stored = StoredElementType(type.get());
    }
    if (!stored.has_value()) continue;
    std::optional<RawDataset> raw = LocateLocked(file.get(), name, *stored);
    if (raw.has_value()) located[name] = {*stored, *raw};
  }
  H5Eclear2(H5E_DEFAULT);
  return located;
}

absl::StatusOr<std::optional<RawDataset>> LocateRawDataset(const std::string& path,
                                                           const std::string& dataset,
                                                           ElementType wire_type) {
  Hdf5Lock lock;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable HDF5 file"));
  }
  std::optional<RawDataset> raw = LocateLocked(file.get(), dataset, wire_type);
  H5Eclear2(H5E_DEFAULT);
  return raw;
}

}  // namespace depot
}  // namespace srs
