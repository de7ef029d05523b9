#include "common/error_codes.h"

#include "gtest/gtest.h"
#include "srs/srs.h"

namespace srs {
namespace {

TEST(ErrorCodes, CCodesAreNegatedAbslCodes) {
  EXPECT_EQ(ToCErrorCode(absl::StatusCode::kOk), SRS_OK);
  EXPECT_EQ(ToCErrorCode(absl::StatusCode::kNotFound), SRS_ERR_NOT_FOUND);
  EXPECT_EQ(ToCErrorCode(absl::StatusCode::kUnavailable), SRS_ERR_UNAVAILABLE);
  EXPECT_EQ(ToCErrorCode(absl::StatusCode::kDataLoss), SRS_ERR_DATA_LOSS);
  EXPECT_EQ(ToCErrorCode(absl::StatusCode::kUnauthenticated), SRS_ERR_UNAUTHENTICATED);
  for (int code = 0; code <= 16; ++code) {
    auto absl_code = static_cast<absl::StatusCode>(code);
    EXPECT_EQ(FromCErrorCode(ToCErrorCode(absl_code)), absl_code);
  }
  EXPECT_EQ(FromCErrorCode(-99), absl::StatusCode::kUnknown);
  EXPECT_EQ(FromCErrorCode(3), absl::StatusCode::kUnknown);
}

TEST(ErrorCodes, EveryCodeHasAString) {
  EXPECT_STREQ(CErrorCodeString(SRS_OK), "SRS_OK: success");
  EXPECT_STREQ(CErrorCodeString(SRS_ERR_NOT_FOUND), "SRS_ERR_NOT_FOUND: not found");
  EXPECT_STREQ(CErrorCodeString(-100), "SRS_ERR_?: not an SRS status code");
}

TEST(ErrorCodes, GrpcRoundTripKeepsCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status status(static_cast<absl::StatusCode>(code), "why");
    grpc::Status wire = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(wire.error_code()), code);
    EXPECT_EQ(FromGrpcStatus(wire), status);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  absl::Status with_context =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"),
                     "depot 127.0.0.1:9");
  EXPECT_EQ(with_context.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(with_context.message(), "depot 127.0.0.1:9: connection refused");
}

}  // namespace
}  // namespace srs
