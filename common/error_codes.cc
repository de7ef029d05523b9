#include "common/error_codes.h"

#include <string>

namespace srs {
namespace {

constexpr int kMaxCode = static_cast<int>(absl::StatusCode::kUnauthenticated);

constexpr const char* kCodeStrings[] = {
    "SRS_OK: success",
    "SRS_ERR_CANCELLED: cancelled",
    "SRS_ERR_UNKNOWN: unknown error",
    "SRS_ERR_INVALID_ARGUMENT: invalid argument",
    "SRS_ERR_DEADLINE_EXCEEDED: deadline exceeded",
    "SRS_ERR_NOT_FOUND: not found",
    "SRS_ERR_ALREADY_EXISTS: already exists",
    "SRS_ERR_PERMISSION_DENIED: permission denied",
    "SRS_ERR_RESOURCE_EXHAUSTED: resource exhausted",
    "SRS_ERR_FAILED_PRECONDITION: failed precondition",
    "SRS_ERR_ABORTED: aborted",
    "SRS_ERR_OUT_OF_RANGE: out of range",
    "SRS_ERR_UNIMPLEMENTED: unimplemented",
    "SRS_ERR_INTERNAL: internal error",
    "SRS_ERR_UNAVAILABLE: unavailable",
    "SRS_ERR_DATA_LOSS: data loss",
    "SRS_ERR_UNAUTHENTICATED: unauthenticated",
};
static_assert(sizeof(kCodeStrings) / sizeof(kCodeStrings[0]) == kMaxCode + 1,
              "one string per absl::StatusCode");

}  // namespace

int ToCErrorCode(absl::StatusCode code) { return -static_cast<int>(code); }

absl::StatusCode FromCErrorCode(int c_code) {
  if (c_code > 0 || -c_code > kMaxCode) return absl::StatusCode::kUnknown;
  return static_cast<absl::StatusCode>(-c_code);
}

const char* CErrorCodeString(int c_code) {
  if (c_code > 0 || -c_code > kMaxCode) return "SRS_ERR_?: not an SRS status code";
  return kCodeStrings[-c_code];
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  int code = static_cast<int>(status.error_code());
  if (code < 0 || code > kMaxCode) code = static_cast<int>(absl::StatusCode::kUnknown);
  return absl::Status(static_cast<absl::StatusCode>(code), status.error_message());
}

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view context) {
  absl::Status converted = FromGrpcStatus(status);
  if (converted.ok()) return converted;
  return absl::Status(converted.code(),
                      std::string(context) + ": " + std::string(converted.message()));
}

}  // namespace srs
