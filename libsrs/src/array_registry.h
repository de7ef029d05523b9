// The arrays SRS_Register recorded on this rank: address, element type, global size and layout.
// Nothing is copied; the checkpoint writer reads the application's memory at checkpoint time.
#ifndef SRS_LIBSRS_SRC_ARRAY_REGISTRY_H_
#define SRS_LIBSRS_SRC_ARRAY_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/datatype.h"
#include "libsrs/src/distribution_handle.h"

namespace srs {
namespace libsrs {

struct RegisteredArray {
  std::string name;
  void* data = nullptr;
  ElementType type = ElementType::kDouble;
  int64_t global_count = 0;  // SRS_DIST_NONE: this rank's own count
  int64_t local_count = 0;
  SRS_Distribution handle = SRS_DIST_NONE;
  // Keeps the layout alive even if the handle is freed after SRS_Finish (null for NONE).
  std::shared_ptr<const layout::Distribution> layout;
};

// Checks an array name: non-empty, at most 255 bytes, no '/', not the index group's name.
absl::Status ValidateArrayName(const std::string& name);

class ArrayRegistry {
 public:
  ArrayRegistry() = default;
  ~ArrayRegistry();  // releases the handles' registration counts
  ArrayRegistry(const ArrayRegistry&) = delete;
  ArrayRegistry& operator=(const ArrayRegistry&) = delete;

  // Records (or replaces) `name` for rank `rank` of `nprocs`. INVALID_ARGUMENT as srs.h says.
  absl::Status Register(const std::string& name, void* data, int c_type, int64_t global_count,
                        SRS_Distribution dist, int rank, int nprocs);

  // By name, so every rank lists arrays in the same order.
  const std::map<std::string, RegisteredArray>& arrays() const { return arrays_; }

 private:
  void Release(RegisteredArray* array);
  std::map<std::string, RegisteredArray> arrays_;
};

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_ARRAY_REGISTRY_H_
