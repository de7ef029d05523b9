#include "depot/grant_check.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace srs {
namespace depot {
namespace {

absl::Status Refuse(absl::Status status, absl::string_view op, absl::string_view what) {
  SRS_LOG(WARNING).Field("op", op).Field("grant", what) << "refused: " << status.message();
  return absl::Status(status.code(), absl::StrCat(op, ": ", status.message()));
}

std::string Describe(const v1::WriteGrant& grant) {
  return absl::StrCat("job=", grant.job(), " epoch=", grant.epoch(), " rank=", grant.rank());
}

}  // namespace

void GrantCheck::SetKey(const GrantKey& key) {
  absl::MutexLock lock(&mu_);
  key_ = key;
}

bool GrantCheck::has_key() const {
  absl::MutexLock lock(&mu_);
  return key_.has_value();
}

absl::Status GrantCheck::CheckCommon(const v1::WriteGrant& grant, absl::string_view op) const {
  std::optional<GrantKey> key;
  {
    absl::MutexLock lock(&mu_);
    key = key_;
  }
  if (!key.has_value()) {
    if (enrolls_) {
      return absl::UnavailableError(absl::StrCat(
          op, ": this depot has not enrolled with its RSS yet (no grant key): retry shortly"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(op,
                     ": this depot checks no write grants (start it with --rss to enroll, "
                     "or with --grant-key FILE)"));
  }
  absl::Status valid = key->Verify(grant, now_());
  if (!valid.ok()) return Refuse(valid, op, Describe(grant));
  if (!grant.depot_id().empty() && grant.depot_id() != depot_id_) {
    return Refuse(absl::PermissionDeniedError(absl::StrCat("write grant is for depot ",
                                                           grant.depot_id(), ", not this one")),
                  op, Describe(grant));
  }
  return absl::OkStatus();
}

absl::Status GrantCheck::CheckWrite(const v1::WriteGrant& grant, const v1::PieceKey& key,
                                    absl::string_view op) const {
  if (absl::Status status = CheckCommon(grant, op); !status.ok()) return status;
  if (grant.job() != key.job() || grant.epoch() != key.epoch() || grant.rank() != key.rank()) {
    return Refuse(absl::PermissionDeniedError(
                      absl::StrCat("write grant is for another piece than job=", key.job(),
                                   " epoch=", key.epoch(), " rank=", key.rank())),
                  op, Describe(grant));
  }
  return absl::OkStatus();
}

absl::Status GrantCheck::CheckList(const v1::WriteGrant& grant, const std::string& job) const {
  if (absl::Status status = CheckCommon(grant, "ListJob"); !status.ok()) return status;
  if (grant.job() != job) {
    return Refuse(
        absl::PermissionDeniedError(absl::StrCat("write grant is for another job than ", job)),
        "ListJob", Describe(grant));
  }
  return absl::OkStatus();
}

}  // namespace depot
}  // namespace srs
