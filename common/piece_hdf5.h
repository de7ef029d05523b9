// The HDF5 plumbing shared by the piece format's writer (piece_format.cc) and verifier
// (piece_verify.cc): identifier ownership, error text, element types, attributes, and opening
// and summarizing a piece file. Internal to common/: other code goes through piece_format.h.
// Every function expects the caller to hold the HDF5 lock (common/hdf5_lock.h) and to have
// silenced HDF5's own error printing (QuietHdf5).
#ifndef SRS_COMMON_PIECE_HDF5_H_
#define SRS_COMMON_PIECE_HDF5_H_

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/datatype.h"
#include "common/piece_format.h"

namespace srs {
namespace piece {

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
std::string Hdf5ErrorText();
// `code` with "<path>: <what>: <HDF5's message>".
absl::Status H5Error(absl::StatusCode code, const std::string& path, absl::string_view what);
// Called under the lock by every entry point: HDF5 must never print to stderr on its own.
void QuietHdf5();

// The HDF5 type of an ElementType: native (memory), little-endian (wire) or big-endian.
enum class Order { kNative, kLittle, kBig };
Hid TypeOf(ElementType type, Order order);

// Attributes: `n` values of `mem_type` stored as `file_type` (a scalar, an empty or a 1-D
// attribute); INTERNAL naming the attribute on failure.
absl::Status WriteAttr(hid_t obj, const char* name, hid_t mem_type, hid_t file_type,
                       const void* value, hsize_t n, bool scalar);
// Scalar writes; reads that fail with DATA_LOSS naming the attribute.
absl::Status WriteInt64Attr(hid_t obj, const char* name, int64_t value);
absl::Status WriteInt32Attr(hid_t obj, const char* name, int32_t value);
absl::Status WriteStringAttr(hid_t obj, const char* name, const std::string& value);
absl::StatusOr<std::string> ReadStringAttr(hid_t obj, const char* name);
// An integer attribute (scalar or 1-D) converted to int64.
absl::StatusOr<std::vector<int64_t>> ReadInt64sAttr(hid_t obj, const char* name);
absl::StatusOr<int64_t> ReadInt64Attr(hid_t obj, const char* name);

// File access for piece files: the sec2 driver with HDF5's file locking off (see the .cc).
Hid PieceFileAccess();
// Opens a piece read-only: the file at `path`, or, when `image` is given, that in-memory file
// image (the core driver; `path` then only names it in errors).
absl::StatusOr<Hid> OpenFile(const std::string& path, const std::string* image = nullptr);
// A root dataset, or an index dataset "srs_index/<name>"; NOT_FOUND when absent.
absl::StatusOr<Hid> OpenDataset(hid_t file, const std::string& path, const std::string& name);
// Elements of a 1-D dataset; -1 when it is not 1-D.
int64_t DatasetLength(hid_t dset);
absl::StatusOr<DatasetSummary> ReadDatasetSummary(hid_t file, hid_t dset, const std::string& name);
// Names of the root's datasets (not the index group), in HDF5's name order.
absl::StatusOr<std::vector<std::string>> DatasetNames(hid_t file, const std::string& path);
absl::StatusOr<PieceSummary> SummaryLocked(hid_t file, const std::string& path);
// XXH3 of a dataset's raw stored bytes, read through a bounded bounce buffer.
absl::StatusOr<uint64_t> HashStoredBytes(hid_t dset, int64_t count);
// INVALID_ARGUMENT unless `s` selects elements within [0, length).
absl::Status ValidateSlab(const Hyperslab& s, int64_t length, const std::string& context);

}  // namespace piece
}  // namespace srs

#endif  // SRS_COMMON_PIECE_HDF5_H_
