// Element types of registered arrays, shared by the library, the depot and the tools. The names
// ("double", "int32", ...) are what travels in protos and HDF5 `srs_type` attributes; the
// numeric values match SRS_Datatype in srs.h for the fixed-width types.
#ifndef SRS_COMMON_DATATYPE_H_
#define SRS_COMMON_DATATYPE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace srs {

enum class ElementType {
  kChar = 1,
  kInt32 = 2,
  kInt64 = 3,
  kFloat = 4,
  kDouble = 5,
  kFloatComplex = 6,
  kDoubleComplex = 7,
};

// Bytes per element.
size_t ElementSize(ElementType type);
// "char", "int32", "int64", "float", "double", "float_complex", "double_complex".
const char* ElementTypeName(ElementType type);
absl::StatusOr<ElementType> ElementTypeFromName(absl::string_view name);
// Accepts the SRS_Datatype values of srs.h, including the C natives SRS_INT (8) and SRS_LONG (9),
// which resolve to the fixed-width type of the same size.
absl::StatusOr<ElementType> ElementTypeFromC(int c_type);
bool IsComplex(ElementType type);

}  // namespace srs

#endif  // SRS_COMMON_DATATYPE_H_
