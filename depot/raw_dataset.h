// Where a dataset's stored bytes lie in a piece file, when they can be sent exactly as they are
// stored: the data channel (data_channel.h) then sends them with sendfile, outside the HDF5
// lock, instead of reading them through HDF5 into a buffer first.
#ifndef SRS_DEPOT_RAW_DATASET_H_
#define SRS_DEPOT_RAW_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/datatype.h"

namespace srs {
namespace depot {

struct RawDataset {
  uint64_t offset = 0;      // of element 0 in the file, bytes
  int64_t count = 0;        // elements
  size_t element_size = 0;  // bytes, = ElementSize(wire type)
};

// The raw location of `dataset` (a root dataset or "srs_index/<name>") in the piece file at
// `path`, if its stored type is exactly `wire_type` in little-endian order and its bytes are
// one contiguous allocated range of the file (no chunking, filters, external storage or user
// block). std::nullopt when any of that does not hold (the caller then reads through HDF5,
// which converts); an error only when the file cannot be opened at all. Takes the HDF5 lock
// for the metadata lookups only.
absl::StatusOr<std::optional<RawDataset>> LocateRawDataset(const std::string& path,
                                                           const std::string& dataset,
                                                           ElementType wire_type);

// A root dataset whose bytes can be read as they are stored: its stored element type (one of
// the little-endian char, int32, int64, float or double types) and where its bytes lie.
struct StoredRawDataset {
  ElementType type = ElementType::kChar;
  RawDataset raw;
};

// Every root dataset of the piece file at `path` that LocateRawDataset would locate for its own
// stored type, by name, from one H5Fopen: a restart of many arrays then opens each piece's
// metadata once, not once per array (index work per piece, issue 15). Datasets that must go
// through HDF5 are absent. An error only when the file cannot be opened at all. Takes the HDF5
// lock.
absl::StatusOr<std::map<std::string, StoredRawDataset>> LocateRawDatasets(const std::string& path);

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_RAW_DATASET_H_
