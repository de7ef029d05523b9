#include "libsrs/src/piece_replication.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/client/piece_copies.h"

namespace srs {
namespace libsrs {

absl::StatusOr<rss::v1::PieceRecord> ReplicatePiece(const RunEnv& env,
                                                    const depot::v1::PieceKey& key,
                                                    rss::v1::PieceRecord own,
                                                    const rss::v1::ReplicaTargets& targets,
                                                    const depot::v1::WriteGrant& grant) {
  const std::string& address = own.depot_address();
  absl::StatusOr<std::string> own_id = env.depots->DepotId(address);
  absl::StatusOr<std::shared_ptr<DepotClient>> depot = env.depots->Get(address);
  if (own_id.ok() && depot.ok()) {
    own.set_depot_id(*own_id);
    own = WithLegacyMirror(std::move(own));  // copies = [own]
  }
  const int n = targets.targets_size();
  std::vector<absl::StatusOr<depot::v1::PutResponse>> copies(
      n, absl::UnknownError("replicate not run"));
  const absl::Time start = absl::Now();
  if (own_id.ok() && depot.ok()) {
    // One thread per target (at most 7): each waits on its own Replicate call.
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        const rss::v1::ReplicaTarget& target = targets.targets(i);
        depot::v1::ReplicateRequest request;
        *request.mutable_key() = key;
        request.set_manage_cap(own.manage_cap());
        request.set_target_address(target.address());
        request.set_target_depot_id(target.depot_id());
        *request.mutable_grant() = grant;
        copies[i] = (*depot)->Replicate(request, own.size_bytes());
      });
    }
    for (std::thread& t : threads) t.join();
  }
  absl::Status failed = !own_id.ok() ? own_id.status() : depot.status();
  for (int i = 0; i < n && failed.ok(); ++i) {
    if (!copies[i].ok()) {
      const rss::v1::ReplicaTarget& target = targets.targets(i);
      failed =
          Annotate(copies[i].status(),
                   absl::StrCat("copying the epoch ", key.epoch(), " piece of rank ", key.rank(),
                                " from depot ", address, " to depot ", target.depot_id(), " at ",
                                target.address(), " (domain ", target.failure_domain(), ")"));
    }
  }
  for (int i = 0; i < n; ++i) {
    if (!copies[i].ok()) continue;
    const rss::v1::ReplicaTarget& target = targets.targets(i);
    rss::v1::PieceCopy* copy = own.add_copies();
    copy->set_depot_id(target.depot_id());
    copy->set_depot_address(target.address());
    copy->set_read_cap(copies[i]->caps().read());
    copy->set_manage_cap(copies[i]->caps().manage());
  }
  if (!failed.ok()) {
    // All or nothing: the checkpoint will abort, so nothing of this piece should linger.
    DropCopies(env, own);
    if (own.copies_size() == 0) {  // the own piece was not listed yet
      absl::StatusOr<std::shared_ptr<DepotClient>> mine = env.depots->Get(address);
      if (mine.ok()) (*mine)->Delete(own.manage_cap()).IgnoreError();
    }
    return failed;
  }
  SRS_LOG(DEBUG) << "piece epoch " << key.epoch() << " of rank " << key.rank() << ": " << n
                 << " cop" << (n == 1 ? "y" : "ies") << " made in "
                 << absl::ToDoubleSeconds(absl::Now() - start) << " s";
  return own;
}

void DropCopies(const RunEnv& env, const rss::v1::PieceRecord& record) {
  for (const rss::v1::PieceCopy& copy : CopiesOf(record)) {
    absl::StatusOr<std::shared_ptr<DepotClient>> depot = env.depots->Get(copy.depot_address());
    if (depot.ok()) (*depot)->Delete(copy.manage_cap()).IgnoreError();
  }
}

}  // namespace libsrs
}  // namespace srs
