#include "common/datatype.h"

#include <complex>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace srs {

size_t ElementSize(ElementType type) {
  switch (type) {
    case ElementType::kChar:
      return 1;
    case ElementType::kInt32:
    case ElementType::kFloat:
      return 4;
    case ElementType::kInt64:
    case ElementType::kDouble:
    case ElementType::kFloatComplex:
      return 8;
    case ElementType::kDoubleComplex:
      return 16;
  }
  return 0;
}

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kChar:
      return "char";
    case ElementType::kInt32:
      return "int32";
    case ElementType::kInt64:
      return "int64";
    case ElementType::kFloat:
      return "float";
    case ElementType::kDouble:
      return "double";
    case ElementType::kFloatComplex:
      return "float_complex";
    case ElementType::kDoubleComplex:
      return "double_complex";
  }
  return "unknown";
}

absl::StatusOr<ElementType> ElementTypeFromName(absl::string_view name) {
  for (int value = 1; value <= 7; ++value) {
    auto type = static_cast<ElementType>(value);
    if (name == ElementTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown element type '", name, "'"));
}

absl::StatusOr<ElementType> ElementTypeFromC(int c_type) {
  if (c_type >= 1 && c_type <= 7) return static_cast<ElementType>(c_type);
  if (c_type == 8) return sizeof(int) == 8 ? ElementType::kInt64 : ElementType::kInt32;
  if (c_type == 9) return sizeof(long) == 8 ? ElementType::kInt64 : ElementType::kInt32;
  return absl::InvalidArgumentError(absl::StrCat("unknown SRS_Datatype ", c_type));
}

bool IsComplex(ElementType type) {
  return type == ElementType::kFloatComplex || type == ElementType::kDoubleComplex;
}

}  // namespace srs
