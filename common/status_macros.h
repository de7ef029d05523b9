// Status helpers that Debian's Abseil (20220623) does not ship.
//
//   SRS_RETURN_IF_ERROR(DoThing());                 // returns the error Status, if any
//   SRS_ASSIGN_OR_RETURN(auto file, OpenFile(p));   // unwraps a StatusOr or returns its error
#ifndef SRS_COMMON_STATUS_MACROS_H_
#define SRS_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SRS_STATUS_CONCAT_INNER_(a, b) a##b
#define SRS_STATUS_CONCAT_(a, b) SRS_STATUS_CONCAT_INNER_(a, b)

#define SRS_RETURN_IF_ERROR(expr)                          \
  do {                                                     \
    ::absl::Status srs_status_ = (expr);                   \
    if (!srs_status_.ok()) return srs_status_;             \
  } while (0)

#define SRS_ASSIGN_OR_RETURN(lhs, expr) \
  SRS_ASSIGN_OR_RETURN_IMPL_(SRS_STATUS_CONCAT_(srs_statusor_, __LINE__), lhs, expr)

#define SRS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

namespace srs {

// Prefixes the message of a non-OK status with `context`, keeping its code.
inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), std::string(context) + ": " + std::string(status.message()));
}

}  // namespace srs

#endif  // SRS_COMMON_STATUS_MACROS_H_
