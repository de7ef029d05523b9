// One error vocabulary across C, C++ and RPC: an SRS C status code is the negated
// absl::StatusCode, and absl::StatusCode values equal gRPC's. The conversions live here, once.
#ifndef SRS_COMMON_ERROR_CODES_H_
#define SRS_COMMON_ERROR_CODES_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace srs {

// SRS_OK (0) for OK, otherwise -code (SRS_ERR_*).
int ToCErrorCode(absl::StatusCode code);
// Inverse of ToCErrorCode; anything out of range is kUnknown.
absl::StatusCode FromCErrorCode(int c_code);
// "SRS_ERR_NOT_FOUND: not found" for -5; a static string.
const char* CErrorCodeString(int c_code);

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);
// Like FromGrpcStatus, prefixing the message with what was being done and with whom.
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view context);

}  // namespace srs

#endif  // SRS_COMMON_ERROR_CODES_H_
