#include "libsrs/src/checkpoint_writer.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/checksum.h"
#include "common/datatype.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "libsrs/src/checkpoint_progress.h"
#include "libsrs/src/collective_status.h"
#include "libsrs/src/dist_spec.h"
#include "libsrs/src/piece_replication.h"
#include "libsrs/src/piece_writer.h"
#include "libsrs/src/polite_agreement.h"
#include "libsrs/src/test_hooks.h"
#include "libsrs/src/write_grants.h"

namespace srs {
namespace libsrs {
namespace {

rss::v1::ArraySpec SpecOf(const RegisteredArray& array) {
  rss::v1::ArraySpec spec;
  spec.set_name(array.name);
  spec.set_srs_type(ElementTypeName(array.type));
  spec.set_global_count(array.global_count);
  DistSpec dist{"none", {}};
  if (array.layout != nullptr) dist = {array.layout->name(), array.layout->params()};
  *spec.mutable_distribution() = ToProto(dist);
  return spec;
}

// What every rank must agree on: names, types, layouts, and global sizes (except NONE arrays,
// whose count is per rank).
uint64_t RegistryFingerprint(const std::vector<rss::v1::ArraySpec>& specs) {
  std::string text;
  for (const rss::v1::ArraySpec& spec : specs) {
    bool none = spec.distribution().kind() == "none";
    absl::StrAppend(&text, spec.name(), "|", spec.srs_type(), "|",
                    spec.distribution().ShortDebugString(), "|",
                    none ? int64_t{-1} : spec.global_count(), ";");
  }
  return Xxh3(text.data(), text.size());
}

// The checkpoint's data over all ranks (rank 0, after AgreeOnArrays: global counts are known),
// saturating instead of overflowing; unknown types count nothing.
int64_t DataBytesOf(const std::vector<rss::v1::ArraySpec>& arrays) {
  unsigned __int128 bytes = 0;
  for (const rss::v1::ArraySpec& spec : arrays) {
    absl::StatusOr<ElementType> type = ElementTypeFromName(spec.srs_type());
    if (!type.ok() || spec.global_count() < 0) continue;
    bytes += static_cast<unsigned __int128>(spec.global_count()) * ElementSize(*type);
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  return bytes > static_cast<unsigned __int128>(kMax) ? kMax : static_cast<int64_t>(bytes);
}

}  // namespace

absl::StatusOr<std::vector<rss::v1::ArraySpec>> CheckpointWriter::AgreeOnArrays(
    uint64_t vote, uint64_t* max_vote) {
  std::vector<rss::v1::ArraySpec> specs;
  std::vector<int64_t> local_counts;
  for (const auto& entry : registry_->arrays()) {
    specs.push_back(SpecOf(entry.second));
    local_counts.push_back(entry.second.local_count);
  }
  // max(h) together with max(~h) = ~min(h): one allreduce tells whether all fingerprints match.
  uint64_t h = RegistryFingerprint(specs);
  uint64_t mine[3] = {h, ~h, vote}, agreed[3] = {0, 0, 0};
  MPI_Allreduce(mine, agreed, 3, MPI_UINT64_T, MPI_MAX, env_->comm);
  if (max_vote != nullptr) *max_vote = agreed[2];
  if (agreed[0] != ~agreed[1]) {
    return absl::FailedPreconditionError(
        "checkpoint: the ranks registered different arrays (names, types, layouts or global "
        "sizes differ); every rank must SRS_Register the same arrays");
  }
  if (specs.empty()) {
    return absl::FailedPreconditionError("checkpoint: no array registered (SRS_Register first)");
  }
  std::vector<int64_t> all(env_->rank == 0 ? specs.size() * env_->nprocs : 0);
  MPI_Gather(local_counts.data(), static_cast<int>(specs.size()), MPI_INT64_T, all.data(),
             static_cast<int>(specs.size()), MPI_INT64_T, 0, env_->comm);
  for (size_t a = 0; env_->rank == 0 && a < specs.size(); ++a) {
    int64_t total = 0;
    for (int r = 0; r < env_->nprocs; ++r) {
      int64_t count = all[r * specs.size() + a];
      specs[a].add_local_counts(count);
      total += count;
    }
    if (specs[a].distribution().kind() == "none") specs[a].set_global_count(total);
  }
  return specs;
}

absl::StatusOr<rss::v1::BeginCheckpointResponse> CheckpointWriter::BeginRpc(
    const std::vector<rss::v1::ArraySpec>& arrays, rss::v1::CheckpointReason reason,
    int64_t request_id) {
  rss::v1::BeginCheckpointRequest req;
  req.set_run_token(env_->run.run_token());
  req.set_reason(reason);
  req.set_request_id(request_id);
  req.set_attempt_id(RandomHex(8));  // makes the begin safe to retry (RssClient)
  for (const rss::v1::ArraySpec& spec : arrays) *req.add_arrays() = spec;
  return env_->rss->BeginCheckpoint(req);
}

absl::StatusOr<int64_t> CheckpointWriter::BeginOnRoot(const std::vector<rss::v1::ArraySpec>& arrays,
                                                      rss::v1::CheckpointReason reason,
                                                      int64_t request_id, RankWriteGrant* grant) {
  absl::StatusOr<rss::v1::BeginCheckpointResponse> begun = rss::v1::BeginCheckpointResponse();
  if (env_->rank == 0) begun = BeginRpc(arrays, reason, request_id);
  PoliteBarrier(env_->comm);  // the other ranks wait for the RSS's answer without spinning
  SRS_RETURN_IF_ERROR(BroadcastStatus(env_->comm, 0, begun.status()));
  int64_t epoch = env_->rank == 0 ? begun->epoch() : 0;
  MPI_Bcast(&epoch, 1, MPI_INT64_T, 0, env_->comm);
  env_->last_epoch_begun = epoch;  // the next checkpoint's guess (RunEnv::PredictedEpoch)
  *grant =
      ScatterWriteGrants(env_->comm, env_->rank, env_->nprocs, env_->rank == 0 ? &*begun : nullptr);
  return epoch;
}

absl::Status CheckpointWriter::CommitOnRoot(int64_t epoch, const std::vector<std::string>& records,
                                            const CheckpointResult& result) {
  absl::Time start = absl::Now();
  // In batches of at most ~16 MiB: with redundancy a record carries every copy's address and
  // capabilities, and a big job's records in one message would pass the RSS's 64 MiB limit.
  // The last batch rides in the commit itself when the RSS takes it (one call and one durable
  // transaction less for the usual checkpoint); an older RSS gets every batch reported first.
  constexpr size_t kBatchBytes = 16 << 20;
  // (A test that kills rank 0 between ReportPieces and the commit needs them apart too.)
  const bool commit_carries_last =
      env_->run.commit_accepts_pieces() && !TestHookArmed(TestPoint::kAfterReport);
  rss::v1::ReportPiecesRequest report;
  size_t batch_bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!report.add_pieces()->ParseFromString(records[i])) {
      return absl::InternalError("cannot parse a gathered piece record");
    }
    batch_bytes += records[i].size();
    const bool last = i + 1 == records.size();
    if ((batch_bytes < kBatchBytes && !last) || (last && commit_carries_last)) continue;
    report.set_run_token(env_->run.run_token());
    report.set_epoch(epoch);
    SRS_RETURN_IF_ERROR(env_->rss->ReportPieces(report).status());
    report.Clear();
    batch_bytes = 0;
  }
  TestHookMaybeDie(TestPoint::kAfterReport, epoch, env_->rank);
  rss::v1::CommitCheckpointRequest commit;
  commit.set_run_token(env_->run.run_token());
  commit.set_epoch(epoch);
  commit.mutable_pieces()->Swap(report.mutable_pieces());  // empty unless commit_carries_last
  commit.mutable_timings()->set_write_seconds(result.write_seconds);
  commit.mutable_timings()->set_bytes(result.bytes);
  commit.mutable_timings()->set_commit_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  return env_->rss->CommitCheckpoint(commit).status();
}

CheckpointWriter::Gathered CheckpointWriter::Gather(
    int64_t epoch, const absl::StatusOr<rss::v1::PieceRecord>& record, double write_seconds) {
  Gathered g;
  g.result.epoch = epoch;
  g.agreed = AgreeStatus(env_->comm, record.status());
  if (!g.agreed.ok()) return g;
  // One gather carries both the record and the write time (the timings are rank 0's business).
  std::string mine(sizeof(double), '\0');
  std::memcpy(mine.data(), &write_seconds, sizeof(double));
  record->AppendToString(&mine);
  for (std::string& both : GatherStrings(env_->comm, 0, mine)) {
    double seconds = 0;
    std::memcpy(&seconds, both.data(), sizeof(double));
    g.result.write_seconds = std::max(g.result.write_seconds, seconds);
    rss::v1::PieceRecord piece;
    if (piece.ParseFromArray(both.data() + sizeof(double),
                             static_cast<int>(both.size() - sizeof(double)))) {
      g.result.bytes += piece.size_bytes();
    }
    g.records.push_back(both.substr(sizeof(double)));
  }
  return g;
}

absl::Status CheckpointWriter::CommitOrAbortOnRoot(int64_t epoch, const Gathered& gathered) {
  absl::Status verdict = gathered.agreed;
  if (verdict.ok()) verdict = CommitOnRoot(epoch, gathered.records, gathered.result);
  if (!verdict.ok()) {
    rss::v1::AbortCheckpointRequest abort;
    abort.set_run_token(env_->run.run_token());
    abort.set_epoch(epoch);
    abort.set_reason(std::string(verdict.message()));
    absl::Status aborted = env_->rss->AbortCheckpoint(abort).status();
    if (!aborted.ok()) {
      SRS_LOG(WARNING) << "abort of epoch " << epoch << ": " << aborted;
    }
  }
  return verdict;
}

void CheckpointWriter::DropPiece(const rss::v1::PieceRecord& record) { DropCopies(*env_, record); }

absl::StatusOr<CheckpointResult> CheckpointWriter::Run(rss::v1::CheckpointReason reason,
                                                       int64_t request_id) {
  const absl::Time agree_start = absl::Now();
  absl::StatusOr<std::vector<rss::v1::ArraySpec>> arrays = AgreeOnArrays();
  // AgreeOnArrays' verdict is the same on every rank (it comes from collectives).
  SRS_RETURN_IF_ERROR(arrays.status());
  const absl::Time begin_start = absl::Now();
  // This rank's piece is started now, under the epoch the begin will most probably answer, so
  // the RSS's round trip and durable write run while the piece is written (StartEarlyPiece);
  // a wrong guess costs the write again. Declared before `early`, which may use them until it
  // is destroyed.
  std::vector<std::vector<int64_t>> indices;
  absl::StatusOr<std::vector<piece::DatasetWrite>> datasets =
      BuildPieceDatasets(*env_, *registry_, &indices);
  std::atomic<int64_t> done_bytes{0};
  const int64_t guess = env_->PredictedEpoch() + TestHookEpochGuessOffset();
  std::unique_ptr<EarlyLocalWrite> early;
  if (datasets.ok()) early = StartEarlyPiece(*env_, *datasets, guess, &done_bytes);
  RankWriteGrant grant;
  SRS_ASSIGN_OR_RETURN(int64_t epoch, BeginOnRoot(*arrays, reason, request_id, &grant));
  if (early != nullptr && epoch != guess) {  // written under another epoch: removed, written anew
    SRS_LOG(DEBUG) << "checkpoint epoch " << epoch << ": the piece written early as epoch " << guess
                   << " is discarded";
    early.reset();
  }
  absl::Time start = absl::Now();
  absl::StatusOr<rss::v1::PieceRecord> record = absl::InternalError("piece not written");
  {
    // Rank 0 tells the RSS how far the write has got (`srs stop --wait` shows it).
    CheckpointProgress progress(env_->rank == 0 ? env_->rss.get() : nullptr, env_->run.run_token(),
                                epoch, DataBytesOf(*arrays), PieceDataBytes(*registry_),
                                &done_bytes);
    record = datasets.ok() ? WritePieceDatasets(*env_, *datasets, epoch, grant, &done_bytes,
                                                /*direct_io=*/false, early.get())
                           : datasets.status();
  }
  if (record.ok()) TestHookMaybeDie(TestPoint::kAfterPut, epoch, env_->rank);
  const absl::Time gather_start = absl::Now();
  // The ranks done first wait for the others politely: their cores go to the ranks still
  // writing and to the depot committing their pieces.
  PoliteBarrier(env_->comm);
  Gathered gathered = Gather(epoch, record, absl::ToDoubleSeconds(gather_start - start));
  const absl::Time commit_start = absl::Now();
  absl::Status verdict;
  if (env_->rank == 0) verdict = CommitOrAbortOnRoot(epoch, gathered);
  PoliteBarrier(env_->comm);  // as in BeginOnRoot
  verdict = BroadcastStatus(env_->comm, 0, verdict);
  // Where a checkpoint's time goes (SRS_LOG=debug), phase by phase on this rank.
  SRS_LOG(DEBUG) << "checkpoint epoch " << epoch << " phases (s): agree "
                 << absl::ToDoubleSeconds(begin_start - agree_start) << ", begin "
                 << absl::ToDoubleSeconds(start - begin_start) << ", piece "
                 << absl::ToDoubleSeconds(gather_start - start) << ", gather "
                 << absl::ToDoubleSeconds(commit_start - gather_start) << ", commit "
                 << absl::ToDoubleSeconds(absl::Now() - commit_start);
  // Not committed: drop this rank's piece now rather than waiting for its lease to run out.
  if (!verdict.ok() && record.ok()) DropPiece(*record);
  SRS_RETURN_IF_ERROR(verdict);
  TestHookMaybeDie(TestPoint::kAfterCommit, epoch, env_->rank);
  if (env_->rank != 0) return gathered.result;
  SRS_LOG(INFO) << "checkpoint epoch " << epoch << " committed: " << gathered.result.bytes
                << " bytes in " << gathered.result.write_seconds << " s";
  return gathered.result;
}

}  // namespace libsrs
}  // namespace srs
