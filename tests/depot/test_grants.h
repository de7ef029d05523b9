// Write grants for tests that talk to a depot without an RSS: the test makes a key file, starts
// srs-depot with --grant-key FILE, and mints the grants an RSS would issue.
#ifndef SRS_TESTS_DEPOT_TEST_GRANTS_H_
#define SRS_TESTS_DEPOT_TEST_GRANTS_H_

#include <string>

#include "absl/time/clock.h"
#include "common/grant.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace testing {

// A fresh key, saved to `path` (mode 0600) for srs-depot --grant-key.
inline GrantKey MakeGrantKeyFile(const std::string& path) {
  GrantKey key = GrantKey::Generate();
  absl::Status saved = key.Save(path);
  if (!saved.ok()) std::abort();
  return key;
}

// The grant an RSS would issue for `piece`, valid for `ttl`.
inline depot::v1::WriteGrant GrantFor(const GrantKey& key, const depot::v1::PieceKey& piece,
                                      absl::Duration ttl = absl::Minutes(10)) {
  return key.Mint({piece.job(), piece.epoch(), piece.rank(), "", absl::Now() + ttl});
}

// A grant of `job` (for ListJob).
inline depot::v1::WriteGrant JobGrant(const GrantKey& key, const std::string& job) {
  return key.Mint({job, 0, 0, "", absl::Now() + absl::Minutes(10)});
}

}  // namespace testing
}  // namespace srs

#endif  // SRS_TESTS_DEPOT_TEST_GRANTS_H_
