// Job ownership: the secret that proves "I started this job".
//
// A job's first registration gets a fresh owner secret (NewOwnerSecret), handed to the client
// once; the RSS stores only OwnerSecretHash(secret) (SHA-256, hex) in its database, so a copy of
// rss.db does not give the secrets away. Later registrations and the per-job tool calls present
// the secret (or the admin token) and the RSS compares hashes in constant time.
#ifndef SRS_RSS_JOB_OWNER_H_
#define SRS_RSS_JOB_OWNER_H_

#include <string>

#include "absl/strings/string_view.h"

namespace srs {

// 256 random bits from the kernel (common/random.h), as 64 lowercase hex characters.
std::string NewOwnerSecret();

// SHA-256 of the secret as 64 lowercase hex characters (OpenSSL).
std::string OwnerSecretHash(absl::string_view secret);

// True if `secret` is non-empty and hashes to `hash`; the comparison takes the same time
// wherever the hashes differ. False for an empty `hash` (a job without an owner).
bool OwnerSecretMatches(absl::string_view secret, absl::string_view hash);

}  // namespace srs

#endif  // SRS_RSS_JOB_OWNER_H_
