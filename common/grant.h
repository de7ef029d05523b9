// Write grants: the RSS's permission for one rank to store one checkpoint piece on a depot.
//
// A grant names (job, epoch, rank, depot id, expiry) and carries an HMAC-SHA256 of those fields
// under a 32-byte key the RSS creates in its state directory and hands to each depot when the
// depot enrolls (RegisterDepot with the enrollment secret). A standalone depot reads the key
// from a file (--grant-key). Whoever holds the key can mint grants: it is as secret as the
// admin token.
//
//   SRS_ASSIGN_OR_RETURN(GrantKey key, GrantKey::LoadOrCreate(state_dir + "/grant.key"));
//   depot::v1::WriteGrant grant = key.Mint({"heat", 7, 3, "", absl::Now() + absl::Hours(2)});
//   ...
//   SRS_RETURN_IF_ERROR(key.Verify(grant, absl::Now()));  // on the depot
//   // then compare grant.job()/epoch()/rank() with the request's piece key
#ifndef SRS_COMMON_GRANT_H_
#define SRS_COMMON_GRANT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {

// What a grant allows. depot_id "" = any depot that holds the key.
struct GrantFields {
  std::string job;
  int64_t epoch = 0;
  int32_t rank = 0;
  std::string depot_id;
  absl::Time expires;
};

class GrantKey {
 public:
  static constexpr size_t kBytes = 32;  // HMAC-SHA256 key length

  // A fresh key from the kernel's CSPRNG.
  static GrantKey Generate();
  // From raw bytes (the RegisterDepot reply); INVALID_ARGUMENT unless exactly kBytes.
  static absl::StatusOr<GrantKey> FromBytes(const std::string& bytes);
  // A key file holds the key as 64 hex characters and a newline, mode 0600. Load: NOT_FOUND if
  // absent, INVALID_ARGUMENT naming the file if it is not a key. LoadOrCreate creates it.
  static absl::StatusOr<GrantKey> Load(const std::string& path);
  static absl::StatusOr<GrantKey> LoadOrCreate(const std::string& path);
  absl::Status Save(const std::string& path) const;

  const std::string& bytes() const { return bytes_; }

  // A grant for `fields`, signed with this key.
  depot::v1::WriteGrant Mint(const GrantFields& fields) const;

  // OK when `grant` was minted with this key and has not expired at `now`. The caller still
  // compares the fields with its request. Errors (never naming the key or the MAC):
  // UNAUTHENTICATED: no grant at all (empty MAC); PERMISSION_DENIED: malformed, forged, tampered
  // or made with another key; or expired (the message says which).
  absl::Status Verify(const depot::v1::WriteGrant& grant, absl::Time now) const;

 private:
  explicit GrantKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string Mac(const depot::v1::WriteGrant& grant) const;

  std::string bytes_;
};

}  // namespace srs

#endif  // SRS_COMMON_GRANT_H_
