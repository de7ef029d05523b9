// The depot's side of write grants (common/grant.h): which key it checks them with, and whether
// a request's grant allows it. Writes (Put, BeginLocalPut, CommitLocalPut) need a grant for
// exactly the piece's (job, epoch, rank); ListJob a grant of the job (any epoch and rank).
//
// The key comes from --grant-key FILE (a standalone depot) or from the RSS when the depot
// enrolls (RegisterDepot with the enrollment secret). Until it has one, every write is refused:
// UNAVAILABLE while enrollment is pending (the client retries), FAILED_PRECONDITION when the
// depot has neither a key file nor an RSS.
#ifndef SRS_DEPOT_GRANT_CHECK_H_
#define SRS_DEPOT_GRANT_CHECK_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grant.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace depot {

class GrantCheck {
 public:
  // `enrolls`: the key will come from an RSS (changes the error while there is none).
  GrantCheck(
      std::string depot_id, bool enrolls,
      std::function<absl::Time()> now = [] { return absl::Now(); })
      : depot_id_(std::move(depot_id)), enrolls_(enrolls), now_(std::move(now)) {}

  // Installs (or replaces, when the RSS's key changed) the key. Thread-safe.
  void SetKey(const GrantKey& key);
  bool has_key() const;

  // OK when `grant` is valid, unexpired, for this depot (or any), and for `key`.
  // UNAUTHENTICATED: no grant; PERMISSION_DENIED: invalid, expired, or for another piece.
  // The refusal is logged with the op and the key, never the MAC.
  absl::Status CheckWrite(const v1::WriteGrant& grant, const v1::PieceKey& key,
                          absl::string_view op) const;
  // Same for a listing of `job`.
  absl::Status CheckList(const v1::WriteGrant& grant, const std::string& job) const;

 private:
  absl::Status CheckCommon(const v1::WriteGrant& grant, absl::string_view op) const;

  const std::string depot_id_;
  const bool enrolls_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  std::optional<GrantKey> key_ ABSL_GUARDED_BY(mu_);
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_GRANT_CHECK_H_
