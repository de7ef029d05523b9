#include "libsrs/src/array_registry.h"

#include "absl/strings/str_cat.h"
#include "common/piece_format.h"
#include "common/status_macros.h"

namespace srs {
namespace libsrs {

absl::Status ValidateArrayName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("empty array name");
  if (name.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("array name '", name.substr(0, 32), "...' is longer than 255 bytes"));
  }
  if (name.find('/') != std::string::npos || name == "." || name == ".." ||
      name == piece::kIndexGroup) {
    return absl::InvalidArgumentError(
        absl::StrCat("array name '", name, "' is reserved or contains '/'"));
  }
  return absl::OkStatus();
}

ArrayRegistry::~ArrayRegistry() {
  for (auto& entry : arrays_) Release(&entry.second);
}

void ArrayRegistry::Release(RegisteredArray* array) {
  if (IsReal(array->handle)) array->handle->registrations.fetch_sub(1);
  array->handle = SRS_DIST_NONE;
}

absl::Status ArrayRegistry::Register(const std::string& name, void* data, int c_type,
                                     int64_t global_count, SRS_Distribution dist, int rank,
                                     int nprocs) {
  SRS_RETURN_IF_ERROR(ValidateArrayName(name));
  auto context = [&] { return absl::StrCat("SRS_Register('", name, "') on rank ", rank); };
  absl::StatusOr<ElementType> type = ElementTypeFromC(c_type);
  if (!type.ok()) return Annotate(type.status(), context());
  if (global_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(context(), ": negative global_count ", global_count));
  }
  if (IsSame(dist)) {
    return absl::InvalidArgumentError(absl::StrCat(
        context(), ": SRS_DIST_SAME is for SRS_Read only; register with SRS_DIST_NONE"));
  }
  if (dist == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(context(), ": NULL distribution"));
  }
  RegisteredArray array{name, data, *type, global_count, global_count, dist, nullptr};
  if (IsReal(dist)) {
    array.layout = dist->layout;
    SRS_RETURN_IF_ERROR(Annotate(array.layout->Validate(global_count, nprocs), context()));
    array.local_count = array.layout->LocalCount(global_count, rank, nprocs);
  }
  if (data == nullptr && array.local_count > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(context(), ": NULL data for ", array.local_count, " local elements"));
  }
  auto it = arrays_.find(name);
  if (it != arrays_.end()) Release(&it->second);
  if (IsReal(dist)) dist->registrations.fetch_add(1);
  arrays_[name] = std::move(array);
  return absl::OkStatus();
}

}  // namespace libsrs
}  // namespace srs
