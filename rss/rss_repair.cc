// RssState: `srs repair` (re-create the missing copies of a job's committed checkpoints) and
// `srs drop` (remove one checkpoint so an older kept one becomes the restart point).
//
// A repair takes a snapshot of the job's pieces and of the depots under the mutex, then works
// piece by piece without it (Stat every copy, Replicate, pin), and records each piece's outcome
// in its own transaction, after checking that nobody changed the piece meanwhile. kill -9 in the
// middle loses nothing committed: an unrecorded new copy is unpinned and its depot reclaims it
// when its lease runs out.
#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "rss/client/piece_copies.h"
#include "rss/rss_state.h"

namespace srs {

namespace v1 = rss::v1;

namespace {

// Up as the depot registry judged it when ListDepots() filled `state` (heartbeats within the
// depot's timeout, rss/depot_registry.h).
bool DepotUpForRepair(const v1::DepotRecord& depot, absl::Time /*now*/) {
  return depot.state() == "up";
}

std::string DomainOf(const v1::DepotRecord& depot) {
  return depot.failure_domain().empty() ? depot.host() : depot.failure_domain();
}

// The depot a copy lives on: by id, or (records that predate ids) by the address it was written
// to. Null when no registered depot matches.
const v1::DepotRecord* DepotOf(const std::vector<v1::DepotRecord>& depots,
                               const v1::PieceCopy& copy) {
  for (const v1::DepotRecord& depot : depots) {
    if (!copy.depot_id().empty() && depot.depot_id() == copy.depot_id()) return &depot;
  }
  if (!copy.depot_id().empty()) return nullptr;
  for (const v1::DepotRecord& depot : depots) {
    if (depot.address() == copy.depot_address() || depot.depot_id() == copy.depot_address()) {
      return &depot;
    }
  }
  return nullptr;
}

std::string NameOf(const v1::PieceCopy& copy) {
  return copy.depot_id().empty() ? copy.depot_address() : copy.depot_id();
}

int64_t UsedBytes(const v1::DepotRecord& depot) {
  return std::max<int64_t>(0, depot.capacity_bytes() - depot.free_bytes());
}

}  // namespace

struct RssState::RepairItem {
  int64_t epoch = 0;
  int32_t copies_required = 1;
  v1::PieceRecord record;  // as the catalog held it, manage caps included
};

struct RssState::RepairOutcome {
  std::vector<v1::PieceCopy> keep;  // the healthy copies, in the record's order, then new ones
  std::vector<v1::PieceCopy> gone;  // leave the record; their deletion is queued
  std::vector<std::string> gone_addresses;  // where to delete each gone copy (current address)
  std::vector<v1::RepairedCopy> made;
};

absl::StatusOr<std::vector<RssState::RepairItem>> RssState::RepairItems(
    const std::string& job_name) {
  absl::MutexLock lock(&mu_);
  auto found = jobs_.find(job_name);
  if (found == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job named ", job_name));
  std::vector<RepairItem> items;
  for (const auto& [epoch, ckpt] : found->second.checkpoints) {
    if (ckpt.summary.state() != "committed") continue;
    for (const auto& [rank, piece] : ckpt.pieces) {
      RepairItem item;
      item.epoch = epoch;
      item.copies_required = std::max(1, ckpt.summary.copies_required());
      item.record = piece;
      items.push_back(std::move(item));
    }
  }
  return items;
}

absl::Status RssState::RecordRepair(const std::string& job_name, const RepairItem& item,
                                    const RepairOutcome& outcome) {
  absl::MutexLock lock(&mu_);
  auto found = jobs_.find(job_name);
  const Checkpoint* ckpt = nullptr;
  if (found != jobs_.end()) {
    auto it = found->second.checkpoints.find(item.epoch);
    if (it != found->second.checkpoints.end()) ckpt = &it->second;
  }
  const v1::PieceRecord* current = nullptr;
  if (ckpt != nullptr && ckpt->summary.state() == "committed") {
    auto piece = ckpt->pieces.find(item.record.rank());
    if (piece != ckpt->pieces.end()) current = &piece->second;
  }
  bool unchanged =
      current != nullptr && current->SerializeAsString() == item.record.SerializeAsString();
  int64_t now = NowMs();
  const std::string what =
      absl::StrCat("job ", job_name, " epoch ", item.epoch, " rank ", item.record.rank());
  if (!unchanged) {
    // Dropped, retired or re-recorded meanwhile: the new copies belong to nothing. Delete them.
    SRS_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
      for (const v1::RepairedCopy& made : outcome.made) {
        for (const v1::PieceCopy& copy : outcome.keep) {
          if (copy.depot_id() != made.to_depot_id()) continue;
          DeleteTask task{
              0, copy.depot_address(), copy.manage_cap(), what, 0, now, copy.depot_id(), false};
          SRS_RETURN_IF_ERROR(store_->EnqueueDelete(&task));
          deletes_[task.id] = std::move(task);
        }
      }
      return absl::OkStatus();
    }));
    return absl::AbortedError(absl::StrCat(
        "epoch ", item.epoch, " rank ", item.record.rank(),
        ": the checkpoint changed during the repair (dropped or retired); nothing recorded"));
  }
  Job& job = found->second;
  Checkpoint& target = job.checkpoints.at(item.epoch);
  return Transact([&]() -> absl::Status {
    v1::PieceRecord record = item.record;
    record.clear_copies();
    for (const v1::PieceCopy& copy : outcome.keep) *record.add_copies() = copy;
    record = WithLegacyMirror(std::move(record));
    SRS_RETURN_IF_ERROR(store_->PutPiece({job_name, item.epoch, record}));
    for (size_t i = 0; i < outcome.gone.size(); ++i) {
      const v1::PieceCopy& copy = outcome.gone[i];
      if (copy.manage_cap().empty() ||
          (outcome.gone_addresses[i].empty() && copy.depot_id().empty())) {
        continue;
      }
      // By depot id: a depot that comes back on another address still gets the deletion.
      DeleteTask task{
          0, outcome.gone_addresses[i], copy.manage_cap(), what, 0, now, copy.depot_id(), false};
      SRS_RETURN_IF_ERROR(store_->EnqueueDelete(&task));
      deletes_[task.id] = std::move(task);
    }
    target.pieces[record.rank()] = std::move(record);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::RepairJobResponse> RssState::RepairJob(const std::string& job_name,
                                                          ReplicaCopier* copier,
                                                          absl::Duration patience) {
  // Two repairs of one piece at once would both copy it; the second's record would then fail
  // its "unchanged" check and its copies be deleted again. One at a time is simpler.
  absl::MutexLock one_at_a_time(&repair_mu_);
  SRS_ASSIGN_OR_RETURN(std::vector<RepairItem> items, RepairItems(job_name));
  const std::vector<v1::DepotRecord> depots = ListDepots();
  const absl::Time now = options_.clock();
  v1::RepairJobResponse resp;
  // Depots that did not answer this round (by id): not asked again, so a node that vanished
  // without a reset (its packets dropped) costs one timeout, not one per piece.
  std::set<std::string> unreachable;
  auto note_unreachable = [&unreachable](const std::string& depot_id, const absl::Status& status) {
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
      unreachable.insert(depot_id);
    }
  };
  for (const RepairItem& item : items) {
    const int32_t rank = item.record.rank();
    const std::string where = absl::StrCat("epoch ", item.epoch, " rank ", rank);
    RepairOutcome outcome;
    std::vector<std::string> why_gone;
    std::set<std::string> domains;  // holding a healthy copy, or chosen for a new one
    std::set<std::string> holders;  // every depot named by a copy: never a target
    // Per gone copy: its depot is down, unknown or did not answer, so the copy may well still be
    // there (a rebooting node). Such a copy leaves the record only once the piece is whole again
    // without it.
    std::vector<bool> may_come_back;
    for (const v1::PieceCopy& copy : CopiesOf(item.record)) {
      const v1::DepotRecord* depot = DepotOf(depots, copy);
      holders.insert(depot != nullptr ? depot->depot_id() : NameOf(copy));
      std::string reason;
      bool absent = true;  // the depot is not answering: the copy's fate is unknown
      if (depot == nullptr) {
        reason = "depot unknown";
      } else if (!DepotUpForRepair(*depot, now)) {
        reason = "depot down";
      } else if (unreachable.count(depot->depot_id()) != 0) {
        reason = "depot unreachable";
      } else {
        absl::StatusOr<StoredPiece> stat =
            copier->Stat(depot->address(), copy.read_cap(), item.record.size_bytes());
        note_unreachable(depot->depot_id(), stat.status());
        absent = absl::IsUnavailable(stat.status()) || absl::IsDeadlineExceeded(stat.status());
        if (!stat.ok()) {
          reason = absl::IsNotFound(stat.status())
                       ? "piece missing"
                       : absl::StrCat("unreadable: ", stat.status().message());
        } else if (stat->size_bytes != item.record.size_bytes() ||
                   stat->xxh3_64 != item.record.xxh3_64()) {
          reason = "piece corrupt (size or checksum differs)";
        }
      }
      if (reason.empty()) {
        outcome.keep.push_back(copy);
        domains.insert(DomainOf(*depot));
      } else {
        outcome.gone.push_back(copy);
        outcome.gone_addresses.push_back(depot != nullptr ? depot->address()
                                                          : copy.depot_address());
        may_come_back.push_back(absent);
        why_gone.push_back(absl::StrCat(NameOf(copy), ": ", reason));
      }
    }
    if (patience > absl::ZeroDuration() && !outcome.gone.empty()) {
      bool recent = false;
      for (const v1::PieceCopy& copy : outcome.gone) {
        const v1::DepotRecord* depot = DepotOf(depots, copy);
        recent = recent || (depot != nullptr &&
                            now - absl::FromUnixMillis(depot->last_seen_unix_ms()) <= patience);
      }
      if (recent) continue;  // maybe a restart: wait until the depot is gone for `patience`
    }
    if (outcome.keep.empty()) {
      // Nothing to copy from: leave the record as it is (a depot that comes back may still
      // serve it). When every copy is only out of reach (its depot down, unknown or silent:
      // a private depot between runs, a rebooting node) the piece is not known to be lost, and
      // the problem says so: `srs drop` is the way out only for a piece known to be lost.
      const bool all_may_come_back =
          std::all_of(may_come_back.begin(), may_come_back.end(), [](bool b) { return b; });
      resp.add_problems(absl::StrCat(where,
                                     all_may_come_back
                                         ? ": no copy reachable now, none known lost ("
                                         : ": no healthy copy left (",
                                     absl::StrJoin(why_gone, "; "), ")"));
      continue;
    }
    // Candidates: live depots of failure domains without a healthy copy, least used first.
    std::vector<const v1::DepotRecord*> candidates;
    for (const v1::DepotRecord& depot : depots) {
      if (DepotUpForRepair(depot, now) && holders.count(depot.depot_id()) == 0 &&
          domains.count(DomainOf(depot)) == 0) {
        candidates.push_back(&depot);
      }
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const auto* a, const auto* b) { return UsedBytes(*a) < UsedBytes(*b); });
    const v1::PieceCopy source = outcome.keep.front();
    const v1::DepotRecord* source_depot = DepotOf(depots, source);
    int missing = item.copies_required - static_cast<int>(outcome.keep.size());
    std::vector<std::string> failures;
    for (const v1::DepotRecord* target : candidates) {
      if (missing <= 0) break;
      if (domains.count(DomainOf(*target)) != 0) continue;  // took one of this domain already
      if (unreachable.count(target->depot_id()) != 0) continue;
      CopyOrder order;
      order.job = job_name;
      order.epoch = item.epoch;
      order.rank = rank;
      order.source_address = source_depot->address();
      order.source_manage_cap = source.manage_cap();
      order.target_depot_id = target->depot_id();
      order.target_address = target->address();
      absl::StatusOr<CopyMade> made = copier->Copy(order);
      absl::Status pinned = made.status();
      if (made.ok()) {
        pinned = janitor_->Pin(target->address(), {made->manage_cap});
        note_unreachable(target->depot_id(), pinned);
      }
      if (!pinned.ok()) {
        // The target's unpinned copy (if any) runs out with its lease; try another depot.
        failures.push_back(absl::StrCat(target->depot_id(), ": ", pinned.message()));
        continue;
      }
      v1::PieceCopy copy;
      copy.set_depot_id(target->depot_id());
      copy.set_depot_address(target->address());
      copy.set_read_cap(made->read_cap);
      copy.set_manage_cap(made->manage_cap);
      outcome.keep.push_back(std::move(copy));
      domains.insert(DomainOf(*target));
      v1::RepairedCopy repaired;
      repaired.set_epoch(item.epoch);
      repaired.set_rank(rank);
      repaired.set_from_depot_id(source_depot->depot_id());
      repaired.set_to_depot_id(target->depot_id());
      outcome.made.push_back(std::move(repaired));
      --missing;
    }
    if (missing > 0) {
      resp.add_problems(absl::StrCat(
          where, ": no live depot in another failure domain", missing > 1 ? " for " : "",
          missing > 1 ? absl::StrCat(missing, " copies") : "",
          failures.empty() ? "" : absl::StrCat(" (tried ", absl::StrJoin(failures, "; "), ")")));
    }
    if (missing > 0) {
      // Still short of copies: a copy whose depot is only silent stays in the record (after the
      // healthy and new ones; readers skip it while its depot is down). Dropping it would queue
      // its deletion and so destroy, when its node comes back, a copy that nothing replaced.
      RepairOutcome kept_gone;
      for (size_t i = 0; i < outcome.gone.size(); ++i) {
        if (may_come_back[i]) {
          outcome.keep.push_back(outcome.gone[i]);
        } else {
          kept_gone.gone.push_back(outcome.gone[i]);
          kept_gone.gone_addresses.push_back(outcome.gone_addresses[i]);
        }
      }
      outcome.gone = std::move(kept_gone.gone);
      outcome.gone_addresses = std::move(kept_gone.gone_addresses);
    }
    if (outcome.gone.empty() && outcome.made.empty()) continue;  // nothing to change
    absl::Status recorded = RecordRepair(job_name, item, outcome);
    if (!recorded.ok()) {
      resp.add_problems(std::string(recorded.message()));
      continue;
    }
    for (const v1::RepairedCopy& made : outcome.made) *resp.add_made() = made;
    SRS_LOG(INFO)
            .Field("job", job_name)
            .Field("epoch", item.epoch)
            .Field("rank", rank)
            .Field("made", static_cast<long long>(outcome.made.size()))
            .Field("removed", static_cast<long long>(outcome.gone.size()))
        << "piece repaired" << (why_gone.empty() ? "" : ": ") << absl::StrJoin(why_gone, "; ");
  }
  SRS_ASSIGN_OR_RETURN(v1::GetJobResponse after, GetJob(job_name));
  for (v1::CheckpointSummary& summary : *after.mutable_checkpoints()) {
    for (v1::PieceRecord& piece : *summary.mutable_pieces()) {
      piece.clear_manage_cap();
      for (v1::PieceCopy& copy : *piece.mutable_copies()) copy.clear_manage_cap();
    }
    *resp.add_checkpoints() = std::move(summary);
  }
  return resp;
}

absl::StatusOr<std::string> RssState::DropJobCheckpoint(const std::string& job_name,
                                                        int64_t epoch) {
  absl::MutexLock lock(&mu_);
  auto found = jobs_.find(job_name);
  if (found == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job named ", job_name));
  Job& job = found->second;
  auto it = job.checkpoints.find(epoch);
  if (it == job.checkpoints.end()) {
    std::vector<int64_t> kept;
    for (const auto& [e, ckpt] : job.checkpoints) {
      if (ckpt.summary.state() == "committed") kept.push_back(e);
    }
    return absl::NotFoundError(absl::StrCat(
        "job ", job_name, " has no checkpoint with epoch ", epoch,
        kept.empty() ? " (it has no committed one)"
                     : absl::StrCat(" (committed epochs: ", absl::StrJoin(kept, ", "), ")")));
  }
  const std::string state = it->second.summary.state();
  if (state == "deleted") return state;
  if (state == "pending") {
    auto run = runs_.find(it->second.summary.run_id());
    if (run != runs_.end() && run->second.row.config.state() == "running") {
      return absl::FailedPreconditionError(absl::StrCat(
          "epoch ", epoch, " of job ", job_name, " is being written by the running run ",
          run->second.row.run_id, "; it cannot be dropped until that run ends"));
    }
  }
  SRS_RETURN_IF_ERROR(Transact([&] { return DropCheckpoint(&job, epoch, "deleted"); }));
  SRS_LOG(INFO).Field("job", job_name).Field("epoch", epoch).Field("was", state)
      << "checkpoint dropped by a tool";
  return std::string("deleted");
}

}  // namespace srs
