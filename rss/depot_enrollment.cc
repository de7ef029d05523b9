#include "rss/depot_enrollment.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/secret_file.h"
#include "common/status_macros.h"
#include "rss/rss_service.h"

namespace srs {

absl::StatusOr<std::unique_ptr<DepotEnrollment>> DepotEnrollment::Open(
    const std::string& state_dir, const std::string& enroll_secret_file, absl::Duration grant_ttl) {
  absl::StatusOr<GrantKey> key = GrantKey::LoadOrCreate(state_dir + "/grant.key");
  if (!key.ok()) return Annotate(key.status(), "the RSS's write-grant key");
  std::string site_secret;
  if (!enroll_secret_file.empty()) {
    absl::StatusOr<std::string> text = ReadSecretFile(enroll_secret_file);
    if (!text.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("--enroll-secret-file ", enroll_secret_file, ": ", text.status().message()));
    }
    site_secret = std::string(absl::StripAsciiWhitespace(*text));
    if (site_secret.size() < 16) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--enroll-secret-file ", enroll_secret_file,
          ": the secret must have at least 16 characters (e.g. `openssl rand -hex 16`)"));
    }
  }
  return std::unique_ptr<DepotEnrollment>(
      new DepotEnrollment(std::move(*key), std::move(site_secret), grant_ttl));
}

absl::Status DepotEnrollment::CheckSecret(const std::string& secret,
                                          const std::string& admin_token) const {
  if (secret.empty()) {
    return absl::UnauthenticatedError(
        "RegisterDepot: enrollment secret missing (start srs-depot with --enroll-secret-file: "
        "the RSS's admin.token or the site enrollment secret)");
  }
  bool ok = TokensEqual(secret, admin_token);
  if (!site_secret_.empty()) ok = TokensEqual(secret, site_secret_) || ok;
  if (!ok) return absl::PermissionDeniedError("RegisterDepot: wrong enrollment secret");
  return absl::OkStatus();
}

void DepotEnrollment::IssueWriteGrants(const std::string& job, int64_t epoch, int32_t nprocs,
                                       rss::v1::BeginCheckpointResponse* response) const {
  const absl::Time expires = absl::Now() + grant_ttl_;
  for (int32_t rank = 0; rank < nprocs; ++rank) {
    *response->add_write_grants() = key_.Mint({job, epoch, rank, "", expires});
  }
}

}  // namespace srs
