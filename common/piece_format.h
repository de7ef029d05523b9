// The HDF5 checkpoint piece (DESIGN.md §5, docs/architecture.md "The checkpoint piece"): one
// HDF5 file per rank per checkpoint, readable by h5dump/h5py anywhere.
//
//   /                  attrs srs_format_version (int 1), app, epoch, rank, nprocs, created
//   /<name>            1-D dataset of this rank's elements, a standard HDF5 type; attrs
//                      global_count, distribution, distribution_params, srs_type, checksum
//   /srs_index/<name>  int64 global index per local element ("map"/"func" layouts only)
//
// Element types on disk: char -> 1-byte signed integer (H5T_NATIVE_SCHAR, so h5dump prints
// numbers, not strings); int32/int64/float/double -> the native (or, on request, big-endian)
// HDF5 type; float_complex/double_complex -> compound {re, im} of float/double, h5py's layout.
//
// Checksums: XXH3-64 of each dataset's raw bytes in its STORED file type layout (so a
// big-endian file is checked over its big-endian bytes), kept as the string attribute
// "xxh3:<16 hex>" (common/checksum.h ChecksumToString).
//
// Every function takes the process-wide Hdf5Lock itself (common/hdf5_lock.h); callers need not.
// HDF5's own error printing is off; HDF5 failures come back as Status messages naming the file
// and the dataset.
//
//   piece::PieceHeader header{"heat", 3, rank, nprocs, ""};
//   piece::DatasetWrite u{"u", ElementType::kDouble, u.data(), n, global_n, "block", {}};
//   SRS_RETURN_IF_ERROR(piece::WritePieceFile(path, header, {u}));
//   std::vector<double> out(10);
//   SRS_RETURN_IF_ERROR(piece::ReadSelection(path, "u", ElementType::kDouble,
//                                            {{0, 2, 10, 1}}, out.data(), 80));
#ifndef SRS_COMMON_PIECE_FORMAT_H_
#define SRS_COMMON_PIECE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/datatype.h"
#include "common/write_behind.h"
#include "common/written_file_hash.h"

namespace srs {
namespace piece {

// The value of the root attribute srs_format_version this code writes and reads.
inline constexpr int kFormatVersion = 1;
// Group holding the global index datasets of user-defined layouts.
inline constexpr const char* kIndexGroup = "srs_index";

struct PieceHeader {
  std::string app;
  int64_t epoch = 0;
  int32_t rank = 0;
  int32_t nprocs = 0;
  std::string created;  // ISO 8601 UTC; filled with the current time when empty
};

struct DatasetWrite {
  std::string name;  // no '/', not "srs_index"
  ElementType type = ElementType::kDouble;
  const void* data = nullptr;  // `count` elements of `type`, native byte order
  int64_t count = 0;
  int64_t global_count = 0;
  std::string distribution;  // kind: "none", "same", "block", "cyclic", "block_cyclic", ...
  std::vector<int64_t> distribution_params;
  // map/func layouts: `count` global indices, written to /srs_index/<name>.
  const int64_t* global_index = nullptr;
  // Store the big-endian file type (portability tests: a BE file must read back correctly).
  bool big_endian = false;
};

struct DatasetSummary {
  std::string name;
  ElementType type = ElementType::kDouble;
  int64_t count = 0;
  int64_t global_count = 0;
  std::string distribution;
  std::vector<int64_t> distribution_params;
  uint64_t checksum = 0;  // from the checksum attribute
  bool has_index = false;
};

struct PieceSummary {
  int format_version = 0;
  PieceHeader header;
  std::vector<DatasetSummary> datasets;  // in name order (HDF5's link order)
};

// One regular 1-D selection, HDF5 hyperslab semantics: `count` blocks of `block` elements at
// start, start+stride, ...; stride must be >= 1 (and >= block for blocks not to overlap is NOT
// required: HDF5 rejects overlapping blocks, which comes back as INVALID_ARGUMENT).
struct Hyperslab {
  int64_t start = 0;
  int64_t stride = 1;
  int64_t count = 0;
  int64_t block = 1;
};

// Datasets of at least this many bytes may be written with direct I/O (WriteOptions::direct_io).
inline constexpr int64_t kDirectMinBytes = int64_t{1} << 20;

// How WritePieceFileHashed writes.
struct WriteOptions {
  // Called with the bytes known to be written so far, as they get there: on disk behind HDF5's
  // writes (common/write_behind.h), or written by direct I/O. May be empty.
  WriteBehind::OnDurable on_durable;
  // Datasets of at least kDirectMinBytes, stored as they are in memory (not big-endian) and held
  // in page-aligned memory (an asynchronous checkpoint's staging buffer) are written with direct
  // I/O from that memory (common/direct_write.h) after HDF5 has laid the file out, their space
  // allocated at creation and aligned to kDirectAlign: no page-cache copy. The file is the same
  // HDF5 piece either way.
  bool direct_io = false;
  // False: the file is not fsynced, its writeback only started (WriteBehind::StartRest), for a
  // reader that makes it durable itself: a same-host depot adopting a spool file, which fsyncs
  // it while it checks the file's metadata. A file with datasets written by direct I/O is
  // fsynced all the same (its size and extents are metadata only an fsync writes).
  bool fsync = true;
};

// Writes a piece with the sec2 driver, then fsyncs the file. INVALID_ARGUMENT for bad names,
// duplicate names, negative counts or null data with count > 0.
absl::Status WritePieceFile(const std::string& path, const PieceHeader& header,
                            const std::vector<DatasetWrite>& datasets);

// WritePieceFile that also returns the size and XXH3-64 of the whole file as written ("hash on
// the way"): the dataset and index bytes are hashed from `data`/`global_index` in memory (their
// stored bytes are exactly those on a little-endian host), only HDF5's metadata between them is
// read back; big-endian datasets are read back too. The depot's commit then need not read the
// piece (depot/README.md). The caller must not change the data until this returns.
// How the bytes go to disk: WriteOptions.
absl::StatusOr<FileDigest> WritePieceFileHashed(const std::string& path, const PieceHeader& header,
                                                const std::vector<DatasetWrite>& datasets,
                                                WriteOptions options = {});

// The same file built in memory (core driver, H5Fget_file_image): the bytes a client streams.
absl::StatusOr<std::string> WritePieceImage(const PieceHeader& header,
                                            const std::vector<DatasetWrite>& datasets);

// Root and dataset attributes only (no data read). NOT_FOUND when the file does not exist,
// DATA_LOSS when it is not a readable HDF5 piece.
absl::StatusOr<PieceSummary> ReadPieceSummary(const std::string& path);

// ReadPieceSummary plus recomputing every dataset's checksum (and index dataset shape):
// DATA_LOSS naming the file and the dataset on any mismatch.
absl::StatusOr<PieceSummary> VerifyPiece(const std::string& path);

// VerifyPiece plus the size and XXH3 of the whole file, from ONE sequential read of the file.
// Only the metadata lookups (attributes, where each contiguous dataset's raw bytes lie) hold
// the HDF5 lock; the byte pass runs without it, so several pieces verify in parallel. Datasets
// that are not one contiguous range of the file (compact, chunked, external, unallocated) are
// checked through HDF5 instead. DATA_LOSS also when the file changes while it is verified.
struct VerifiedFile {
  PieceSummary summary;
  int64_t size = 0;
  uint64_t xxh3 = 0;
};
absl::StatusOr<VerifiedFile> VerifyPieceFile(const std::string& path);

// Number of elements all `selections` select (no file access). INVALID_ARGUMENT for negative
// start/count/block or stride < 1.
absl::StatusOr<int64_t> SelectionElements(const std::vector<Hyperslab>& selections);

// "srs_index/<name>" (kIndexGroup) names the global index of dataset <name>: returns <name>,
// or "" when `dataset` is not such a name.
std::string IndexedDatasetOf(const std::string& dataset);

// Reads the elements of `selections` of `dataset`, concatenated in REQUEST order, converted by
// HDF5 to `wire_type` in little-endian byte order, into `out` (out_bytes long). `dataset` may be
// an index dataset "srs_index/<name>", read with wire type int64 only.
// NOT_FOUND: unknown dataset. OUT_OF_RANGE: a selection past the end. INVALID_ARGUMENT:
// negative values or stride < 1, a type that does not convert (complex <-> real), `out` too
// small.
absl::Status ReadSelection(const std::string& path, const std::string& dataset,
                           ElementType wire_type, const std::vector<Hyperslab>& selections,
                           void* out, size_t out_bytes);

// VerifyPiece and ReadSelection on a piece held in memory (a file image, e.g. from
// WritePieceImage; the depot's memory backend). `name` labels the piece in errors.
absl::StatusOr<PieceSummary> VerifyPieceImage(const std::string& image, const std::string& name);
absl::Status ReadSelectionImage(const std::string& image, const std::string& name,
                                const std::string& dataset, ElementType wire_type,
                                const std::vector<Hyperslab>& selections, void* out,
                                size_t out_bytes);

// The /srs_index/<dataset> global indices. NOT_FOUND if the dataset has none.
absl::Status ReadIndex(const std::string& path, const std::string& dataset,
                       std::vector<int64_t>* global_index);

}  // namespace piece
}  // namespace srs

#endif  // SRS_COMMON_PIECE_FORMAT_H_
