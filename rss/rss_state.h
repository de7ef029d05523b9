// RssState: everything the Runtime Support Service knows, as plain C++ over a durable SqliteStore.
// It knows nothing of gRPC (the service converts and delegates); it speaks the srs.rss.v1
// messages because they are the RSS's vocabulary.
//
// Model. A job has runs (one configuration each: process count, hosts, depots) and checkpoints
// (epochs, monotonic per job). At most one run of a job is "running"; it holds a lease kept alive
// by its open watch streams. A checkpoint is "pending" while its pieces are reported, "committed"
// once every rank reported and the pieces are pinned on their depots, "discarded" when aborted or
// left behind by a lost run, "deleted" when dropped by retention, a fresh start or the finish.
//
// Invariants the store keeps across kill -9: every state change is one SQLite transaction, made
// before the in-memory copy changes, so a failed write leaves both as they were. A checkpoint is
// never "committed" unless all its pieces were pinned first. Pieces to delete go to a durable
// queue (ProcessDeleteQueue), retried with backoff until their depot answers.
//
// Thread safety: all methods may be called concurrently; one mutex serializes state changes.
// Depot calls (pinning, deleting) are made without holding it.
#ifndef SRS_RSS_RSS_STATE_H_
#define SRS_RSS_RSS_STATE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rss/depot_janitor.h"
#include "rss/depot_registry.h"
#include "rss/replica_copier.h"
#include "rss/sqlite_store.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {

struct RssStateOptions {
  absl::Duration lease = absl::Seconds(10);  // a run without a watch for this long is lost
  std::function<absl::Time()> clock = [] { return absl::Now(); };  // tests move time by hand
  // A depot is down after this long without a registration, or after about three of its
  // heartbeats if that is longer (rss/depot_registry.h; srs-rss --depot-timeout).
  absl::Duration depot_down_timeout = kDefaultDepotDownTimeout;
  // Asked before a registration creates a job, with the number of jobs known and whether the
  // admin token came with it; a refusal (RESOURCE_EXHAUSTED) is the registration's answer.
  // Empty = always. srs-rss plugs in NewJobGate (rss/request_budget.h).
  std::function<absl::Status(int64_t existing_jobs, bool admin)> admit_new_job;
};

// What a watch stream should tell its run now.
struct WatchStatus {
  bool run_active = false;  // false: the run stopped, finished or was lost; end the stream
  bool shutting_down = false;
  int64_t stop_request = 0;        // pending stop, 0 = none
  int64_t checkpoint_request = 0;  // pending checkpoint request, 0 = none
  int64_t generation = 0;          // pass back to WaitWatch
};

class RssState {
 public:
  // Opens the database at `db_path` and loads it. Runs that were running when the RSS died get a
  // fresh lease from now, so their watches have the lease time to reconnect.
  static absl::StatusOr<std::unique_ptr<RssState>> Open(const std::string& db_path,
                                                        DepotJanitor* janitor,
                                                        RssStateOptions options);
  ~RssState();

  absl::Duration lease() const { return options_.lease; }

  // Runs. `admin`: the caller presented a valid admin token (needed for force; acts on any job).
  // Ownership (docs/security.md): a new job gets an owner secret, returned once in
  // resp.owner_secret; registering an existing job needs req.owner_secret or `admin`
  // (UNAUTHENTICATED without either, PERMISSION_DENIED with a wrong one). A job without an owner
  // (migrated from schema 1) is adopted by the first registration with `admin`, which gets a new
  // owner secret. Refusals change nothing.
  absl::StatusOr<rss::v1::RegisterRunResponse> RegisterRun(const rss::v1::RegisterRunRequest& req,
                                                           bool admin);
  // OK if `secret` is the owner secret of `job`; PERMISSION_DENIED otherwise (also for an unknown
  // job, so a wrong guess does not tell which jobs exist).
  absl::Status CheckOwner(const std::string& job, const std::string& secret) const;
  // What the service checks a run call against: the run's process count (immutable) and state
  // ("running", "stopped", "finished", "lost"). NOT_FOUND for an unknown run.
  struct RunFacts {
    int32_t nprocs = 0;
    std::string state;
  };
  absl::StatusOr<RunFacts> FactsOfRun(const std::string& run_id) const;
  // PERMISSION_DENIED for an unknown token. Returns the run id.
  absl::StatusOr<std::string> RunForToken(const std::string& token) const;
  // `replica_targets` (if not null) receives, per rank, the depots its piece is copied to
  // (rss_redundancy.cc; empty lists without redundancy). A run with redundancy whose copies
  // cannot be placed on the live depots now is FAILED_PRECONDITION and begins nothing.
  absl::StatusOr<int64_t> BeginCheckpoint(
      const std::string& run_id, const rss::v1::BeginCheckpointRequest& req,
      std::vector<rss::v1::ReplicaTargets>* replica_targets = nullptr);
  // The job and process count of a run (for its write grants); NOT_FOUND for an unknown run.
  absl::StatusOr<std::pair<std::string, int32_t>> JobOfRun(const std::string& run_id);
  absl::Status ReportPieces(const std::string& run_id, const rss::v1::ReportPiecesRequest& req);
  // Memory only: how far the run's pending checkpoint `epoch` has got (GetJob shows it while it
  // is pending). NOT_FOUND / FAILED_PRECONDITION like ReportPieces for another run's or a
  // finished checkpoint.
  absl::Status ReportProgress(const std::string& run_id, const rss::v1::ReportProgressRequest& req);
  absl::Status CommitCheckpoint(const std::string& run_id,
                                const rss::v1::CommitCheckpointRequest& req);
  absl::Status AbortCheckpoint(const std::string& run_id,
                               const rss::v1::AbortCheckpointRequest& req);
  absl::Status ReportRestart(const std::string& run_id, const rss::v1::ReportRestartRequest& req);
  absl::Status FinishRun(const std::string& run_id);
  // The launcher of `run_id` saw it die: a running run becomes "lost" now, with `reason` as its
  // end_reason. Returns the run's state afterwards; changes nothing if the run is not the job's
  // newest or is no longer running. NOT_FOUND for an unknown job or run.
  absl::StatusOr<std::string> EndRunByLauncher(const std::string& job, const std::string& run_id,
                                               const std::string& reason);
  // Records a rank's fatal error in the run's record (rss_failures.cc). INVALID_ARGUMENT for a
  // rank outside the run; the message is cut to 4 KiB.
  absl::Status ReportFailure(const std::string& run_id, const rss::v1::RunFailure& failure);

  // Watch streams: Attach when a stream opens (FAILED_PRECONDITION if the run is not running),
  // Detach when it closes (the lease then counts down). WaitWatch blocks until something changed
  // since `generation` or `timeout` passed.
  absl::Status AttachWatch(const std::string& run_id);
  void DetachWatch(const std::string& run_id);
  WatchStatus WaitWatch(const std::string& run_id, int64_t generation, absl::Duration timeout);
  // Makes every WaitWatch return with shutting_down (daemon shutdown).
  void ShutdownWatches();

  // Depots and tools. RegisterDepot is also the depot's heartbeat: it records the depot under its
  // id with its current address (a new address replaces the old one, logged), host, failure
  // domain, space and heartbeat period (rss/depot_registry.h).
  absl::Status RegisterDepot(const rss::v1::RegisterDepotRequest& req);
  absl::StatusOr<int64_t> RequestStop(const std::string& job);
  absl::StatusOr<int64_t> RequestCheckpoint(const std::string& job);
  std::vector<rss::v1::JobSummary> ListJobs() const;
  absl::StatusOr<rss::v1::GetJobResponse> GetJob(const std::string& job) const;
  // Every depot with its state ("up"/"down") and failure domain filled.
  std::vector<rss::v1::DepotRecord> ListDepots() const;

  // Repair and drop (rss_repair.cc). RepairJob re-creates the missing copies of every piece of
  // the job's committed checkpoints (RepairJobRequest in rss.proto): depot calls go through
  // `copier` (Stat, Replicate) and the janitor (pin) without the mutex held; each piece's new
  // record is one transaction. Problems (no healthy copy left, no live depot in another failure
  // domain) are listed in the answer, not errors. NOT_FOUND for an unknown job.
  // `patience` > 0 (the RSS's own --auto-repair): a piece with an unhealthy copy on a depot
  // seen within `patience` is left alone this time (a depot restarting is not a lost node).
  // One repair at a time.
  absl::StatusOr<rss::v1::RepairJobResponse> RepairJob(
      const std::string& job, ReplicaCopier* copier,
      absl::Duration patience = absl::ZeroDuration());
  // `srs drop`: checkpoint `epoch` of `job` becomes "deleted" and every copy of its pieces is
  // queued for deletion. NOT_FOUND for an unknown job or epoch; FAILED_PRECONDITION for a
  // pending checkpoint of a running run; a "deleted" one stays so (idempotent). Returns the
  // state afterwards.
  absl::StatusOr<std::string> DropJobCheckpoint(const std::string& job, int64_t epoch);

  // Background work (the server calls these periodically). SweepLostRuns marks runs whose lease
  // ran out as lost and returns how many; ProcessDeleteQueue tries every due deletion once and
  // returns how many are still queued.
  int SweepLostRuns();
  int ProcessDeleteQueue();

 private:
  struct Checkpoint {
    int64_t request_id = 0;
    rss::v1::CheckpointSummary summary;  // no pieces
    std::map<int32_t, rss::v1::PieceRecord> pieces;
    int64_t progress_bytes = 0;  // ReportProgress, memory only
    int64_t progress_total_bytes = 0;
  };
  struct Run {
    RunRow row;
    int watchers = 0;
    absl::Time last_alive;
  };
  struct Job {
    JobRow row;
    std::vector<std::string> run_ids;           // oldest first
    std::map<int64_t, Checkpoint> checkpoints;  // by epoch
  };

  RssState(std::unique_ptr<SqliteStore> store, DepotJanitor* janitor, RssStateOptions options);

  // Repair (rss_repair.cc): one piece of a committed checkpoint as the repair found it, and the
  // two steps that need the mutex: taking the job's pieces, and recording one piece's outcome.
  struct RepairItem;
  struct RepairOutcome;
  absl::StatusOr<std::vector<RepairItem>> RepairItems(const std::string& job);
  absl::Status RecordRepair(const std::string& job, const RepairItem& item,
                            const RepairOutcome& outcome);
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Runs `fn` in one transaction. `fn` changes memory and writes the same change to the store;
  // if anything fails the transaction rolls back and memory is reloaded from the store, so the
  // two never disagree (failures are rare: disk full, I/O errors).
  absl::Status Transact(const std::function<absl::Status()>& fn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Run*> FindRun(const std::string& run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Run* CurrentRun(const Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Checkpoint*> FindPending(const Run& run, int64_t epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool LeaseLive(const Run& run) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Registration steps (rss_state.cc). Authorize: who may register `req.job()`; sets
  // *new_owner when this registration makes (or adopts) the job's owner.
  absl::Status AuthorizeRegistration(const rss::v1::RegisterRunRequest& req, bool admin,
                                     bool* new_owner) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckNoLiveRun(Job* job, bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const Checkpoint*> ChooseRestart(const Job& job,
                                                  const rss::v1::RegisterRunRequest& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<std::string>> ResolveDepots(
      const rss::v1::RegisterRunRequest& req) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  rss::v1::Manifest MakeManifest(const Checkpoint& ckpt) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Redundancy (rss_redundancy.cc, issue 13). Whether a depot counts as up for new copies (the
  // registry's heartbeat state), and the depot a copy is on (by id, else by its address).
  bool DepotUp(const rss::v1::DepotRecord& depot) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const rss::v1::DepotRecord* DepotOfCopy(const rss::v1::PieceCopy& copy) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The copy targets of each rank whose own depot is `rank_depots[r]` (an address), `copies` in
  // all (PlaceReplicas over the up depots). FAILED_PRECONDITION naming the rank when its depot
  // is not registered (its failure domain is unknown) or too few domains are up.
  absl::StatusOr<std::vector<rss::v1::ReplicaTargets>> PlaceCopies(
      const std::vector<std::string>& rank_depots, int copies) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commit check: every piece has `copies` copies on as many distinct failure domains (each
  // copy's depot known by id). FAILED_PRECONDITION listing the ranks that fall short.
  absl::Status CheckCopies(const Checkpoint& ckpt, int copies) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where a copy's depot is now: its registered address if its id is known, else the address
  // the copy was written to.
  std::string CopyAddress(const rss::v1::PieceCopy& copy) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new "running" run of `req`'s job, with each rank's resolved depot and a fresh token.
  Run NewRun(const rss::v1::RegisterRunRequest& req, const std::vector<std::string>& depots,
             int64_t seq) const;
  // Inside a transaction: ends a run (state, end time, requests cleared) and discards its
  // pending checkpoints.
  absl::Status EndRun(Job* job, Run* run, const std::string& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inside a transaction: changes a checkpoint's state and queues its pieces for deletion.
  absl::Status DropCheckpoint(Job* job, int64_t epoch, const std::string& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MarkLost(Job* job, Run* run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PutRun(const Run& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PutCheckpoint(const Job& job, const Checkpoint& ckpt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commit, phase 1: checks every rank reported; the manage caps to pin, per depot.
  using CapsByDepot = std::map<std::string, std::vector<std::string>>;
  // `*fresh` receives the request's pieces not stored yet (checked as ReportPieces checks them);
  // "every rank reported" counts them.
  absl::StatusOr<CapsByDepot> CapsToPin(const std::string& run_id,
                                        const rss::v1::CommitCheckpointRequest& req,
                                        std::vector<rss::v1::PieceRecord>* fresh, bool* committed);
  // Commit, phase 3 (after pinning): one transaction stores `fresh`, marks it committed, ends a
  // stopping run, applies retention.
  absl::Status MarkCommitted(const std::string& run_id, const rss::v1::CommitCheckpointRequest& req,
                             const std::vector<rss::v1::PieceRecord>& fresh,
                             absl::Duration pin_time);
  // The reported pieces `ckpt` does not hold yet, normalized (copies named by depot id); refuses
  // a malformed piece, a rank twice, or a rank that reported a different piece. `call` names
  // the RPC in errors.
  absl::StatusOr<std::vector<rss::v1::PieceRecord>> FreshPieces(
      absl::string_view call, const std::string& run_id, const Checkpoint& ckpt,
      const google::protobuf::RepeatedPtrField<rss::v1::PieceRecord>& reported_pieces)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a commit that carried `fresh` failed once pinning had begun (some may be pinned):
  // stores them with the pending checkpoint, so that whatever ends it deletes them, or, when it
  // ended meanwhile (or holds another piece for that rank), queues them for deletion. Best
  // effort: logged if it fails.
  void FailedCommitKeeps(const std::string& run_id, int64_t epoch,
                         const std::vector<rss::v1::PieceRecord>& fresh);
  // Inside a transaction: queues every copy of `piece` for deletion (`now_ms` 0: now).
  absl::Status QueuePieceDeletion(const std::string& job, int64_t epoch,
                                  const rss::v1::PieceRecord& piece, int64_t now_ms = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inside a transaction: stores `fresh` as pieces of `ckpt`.
  absl::Status StorePieces(const std::string& job, Checkpoint* ckpt,
                           const std::vector<rss::v1::PieceRecord>& fresh)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyRetention(Job* job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inside a transaction: deletes the committed checkpoints of runs before `run_id` (the fresh
  // run that just committed or finished supersedes them).
  absl::Status DropSuperseded(Job* job, const std::string& run_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> NextRequestId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets a pending stop or checkpoint request (`field`) on the job's running run.
  absl::StatusOr<int64_t> SetRequest(const std::string& job, int64_t RunRow::*field,
                                     const char* what);
  rss::v1::JobSummary Summarize(const Job& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { ++generation_; }
  int64_t NowMs() const { return absl::ToUnixMillis(options_.clock()); }

  std::unique_ptr<SqliteStore> store_;
  DepotJanitor* janitor_;
  RssStateOptions options_;

  mutable absl::Mutex mu_;
  std::map<std::string, Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Run> runs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> run_by_token_ ABSL_GUARDED_BY(mu_);
  DepotRegistry registry_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, DeleteTask> deletes_ ABSL_GUARDED_BY(mu_);
  int64_t next_request_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex delete_mu_;  // one ProcessDeleteQueue at a time
  absl::Mutex repair_mu_;  // one RepairJob at a time (the tool's and the automatic one)
};

}  // namespace srs

#endif  // SRS_RSS_RSS_STATE_H_
