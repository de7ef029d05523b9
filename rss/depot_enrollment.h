// The RSS's side of depot security: enrollment and write grants.
//
// Enrollment: RegisterDepot must carry the enrollment secret, the RSS's admin token or the site
// secret (srs-rss --enroll-secret-file, the same file given to every srs-depot), so nobody can
// register an address of their choosing for a host and redirect its `depot = auto` pieces.
// An enrolled depot gets the grant key in the reply.
//
// Grants: the RSS keeps one grant key in <state>/grant.key (mode 0600, created at first start)
// and issues, with each BeginCheckpoint, one write grant per rank for (job, epoch, rank). A
// depot refuses writes without one (depot/grant_check.h).
#ifndef SRS_RSS_DEPOT_ENROLLMENT_H_
#define SRS_RSS_DEPOT_ENROLLMENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grant.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {

class DepotEnrollment {
 public:
  // Loads or creates <state_dir>/grant.key; reads `enroll_secret_file` if not empty (a
  // missing, unreadable or empty file is FAILED_PRECONDITION naming it). `grant_ttl`: how long
  // an issued grant stays valid (it must cover the longest piece write of a checkpoint).
  static absl::StatusOr<std::unique_ptr<DepotEnrollment>> Open(
      const std::string& state_dir, const std::string& enroll_secret_file,
      absl::Duration grant_ttl);

  // OK when `secret` is the admin token or the site enrollment secret (constant time).
  // UNAUTHENTICATED when empty, PERMISSION_DENIED when wrong.
  absl::Status CheckSecret(const std::string& secret, const std::string& admin_token) const;

  const GrantKey& key() const { return key_; }

  // One grant per rank 0..nprocs-1 for (job, epoch), valid for any depot holding the key
  // (a rank may write to any depot of the RSS), appended to `response`.
  void IssueWriteGrants(const std::string& job, int64_t epoch, int32_t nprocs,
                        rss::v1::BeginCheckpointResponse* response) const;

 private:
  DepotEnrollment(GrantKey key, std::string site_secret, absl::Duration grant_ttl)
      : key_(std::move(key)), site_secret_(std::move(site_secret)), grant_ttl_(grant_ttl) {}

  GrantKey key_;
  std::string site_secret_;  // "" = only the admin token enrolls
  absl::Duration grant_ttl_;
};

}  // namespace srs

#endif  // SRS_RSS_DEPOT_ENROLLMENT_H_
