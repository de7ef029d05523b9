#include "libsrs/src/context.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "libsrs/src/checkpoint_writer.h"
#include "libsrs/src/collective_status.h"
#include "libsrs/src/run_registration.h"

namespace srs {
namespace libsrs {
namespace {

constexpr int kStop = 1;
constexpr int kRequested = 2;
constexpr int kPeriodic = 4;
constexpr int kLost = 8;  // out of contact with every RSS for rss_lost_timeout

}  // namespace

absl::StatusOr<std::unique_ptr<Context>> Context::Create(MPI_Comm comm,
                                                         const std::string& config_path) {
  std::unique_ptr<Context> context(new Context());
  RunEnv& env = context->env_;
  // A private communicator: the library's collectives never match the application's messages.
  int rc = MPI_Comm_dup(comm, &env.comm);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Comm_dup");
  MPI_Comm_rank(env.comm, &env.rank);
  MPI_Comm_size(env.comm, &env.nprocs);
  InitLogLevelFromEnv();
  SetLogComponent(absl::StrCat("srs rank ", env.rank));
  SRS_RETURN_IF_ERROR(RegisterRun(config_path, &env));
  context->reader_ = std::make_unique<RestartReader>(&env);
  context->async_ = std::make_unique<AsyncCheckpoints>(&env, &context->registry_);
  if (env.rank == 0) {
    context->watcher_ = std::make_unique<StopWatcher>(env.rss.get(), env.run.run_token());
  }
  // The restart's preparation overlapped the set-up above; SRS_Init returns once it is done.
  context->reader_->FinishWarmUp();
  context->last_checkpoint_ = absl::Now();
  return context;
}

Context::~Context() {
  watcher_.reset();  // before the RSS client it uses
  async_.reset();    // joins the flusher (an uncommitted piece is left to its lease)
  if (env_.comm != MPI_COMM_NULL && !finalizing_) MPI_Comm_free(&env_.comm);
}

absl::Status Context::RejectAfterStop(const char* call) const {
  if (!stopped_) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      call,
      ": this run was stopped (SRS_Check_Stop returned 1); call MPI_Finalize and resume "
      "the job in a new run"));
}

absl::Status Context::Register(const std::string& name, void* data, int c_type,
                               int64_t global_count, SRS_Distribution dist) {
  return registry_.Register(name, data, c_type, global_count, dist, env_.rank, env_.nprocs);
}

absl::Status Context::CheckReadAgainstRegistration(const std::string& name, const void* data,
                                                   SRS_Distribution dist) const {
  auto registered = registry_.arrays().find(name);
  if (registered == registry_.arrays().end() || registered->second.data != data ||
      registered->second.layout == nullptr || dist == SRS_DIST_NONE || dist == SRS_DIST_SAME) {
    return absl::OkStatus();
  }
  int64_t stored = 0;
  if (!reader_->Query(name, nullptr, &stored).ok()) return absl::OkStatus();  // Read says why
  if (stored == registered->second.global_count) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("SRS_Read('", name, "'): the checkpoint holds ", stored, " elements, but '",
                   name, "' is registered with ", registered->second.global_count,
                   " for this buffer; reading would not fit (SRS_Query tells the stored size)"));
}

absl::Status Context::Read(const std::string& name, void* data, int c_type, SRS_Distribution dist) {
  // Registered before the read, the buffer's size is known: a checkpoint of another size is an
  // error instead of a write past its end. The verdict joins the read's own agreement (the rank
  // reads nothing then), so every rank fails alike even when only some registered first, and a
  // read of many small arrays pays one collective each, not two.
  return reader_->Read(name, data, c_type, dist, CheckReadAgainstRegistration(name, data, dist));
}

absl::Status Context::Query(const std::string& name, ElementType* type,
                            int64_t* global_count) const {
  return reader_->Query(name, type, global_count);
}

int Context::PendingFlags() const {
  int flags = 0;
  if (watcher_->stop_request() != 0) flags |= kStop;
  if (watcher_->checkpoint_request() != 0) flags |= kRequested;
  double interval = env_.settings.checkpoint_interval;
  if (interval > 0 && absl::Now() - last_checkpoint_ >= absl::Seconds(interval)) {
    flags |= kPeriodic;
  }
  // After a failed checkpoint, pending work waits for the backoff instead of failing again.
  if (!backoff_.Allowed(absl::Now())) flags = 0;
  if (!RssLost().ok()) flags |= kLost;
  return flags;
}

absl::Status Context::RssLost() const {
  absl::Duration limit = env_.settings.rss_lost_timeout;
  if (watcher_ == nullptr || limit <= absl::ZeroDuration()) return absl::OkStatus();
  absl::Duration silent = watcher_->SinceContact();
  if (silent < limit) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "lost contact with the RSS at ", env_.rss->address(), " for ",
      absl::FormatDuration(absl::Trunc(silent, absl::Seconds(1))),
      " (rss_lost_timeout = ", absl::FormatDuration(limit),
      "): the job can no longer be stopped or checkpointed; its last committed checkpoint stays "
      "resumable"));
}

void Context::ReportRestartOnce() {
  if (!restart() || restart_reported_) return;
  restart_reported_ = true;
  double seconds = reader_->read_seconds(), max_seconds = 0;
  int64_t bytes = reader_->read_bytes(), total_bytes = 0;
  MPI_Reduce(&seconds, &max_seconds, 1, MPI_DOUBLE, MPI_MAX, 0, env_.comm);
  MPI_Reduce(&bytes, &total_bytes, 1, MPI_INT64_T, MPI_SUM, 0, env_.comm);
  if (env_.rank != 0) return;
  rss::v1::ReportRestartRequest req;
  req.set_run_token(env_.run.run_token());
  req.set_read_seconds(max_seconds);
  req.set_bytes(total_bytes);
  absl::Status status = env_.rss->ReportRestart(req).status();
  // Timings are informative: losing them must not stop the job.
  if (!status.ok()) {
    SRS_LOG(WARNING) << "ReportRestart: " << status;
  }
}

absl::Status Context::RunCheckpoint(rss::v1::CheckpointReason reason, int64_t request_id) {
  CheckpointWriter writer(&env_, &registry_);
  absl::StatusOr<CheckpointResult> result = writer.Run(reason, request_id);
  if (env_.rank == 0) last_checkpoint_ = absl::Now();
  if (env_.rank == 0) backoff_.Record(result.ok(), absl::Now());
  return result.status();
}

absl::StatusOr<int> Context::CheckStop() {
  if (stopped_) return 1;
  ReportRestartOnce();
  // The one collective of the common case (it also completes an asynchronous checkpoint once
  // every rank's write is done).
  int flags = async_->ExchangeFlags(env_.rank == 0 ? PendingFlags() : 0);
  if (flags == 0) return 0;
  if (flags & kLost) {
    absl::Status lost =
        BroadcastStatus(env_.comm, 0, env_.rank == 0 ? RssLost() : absl::OkStatus());
    if (!lost.ok()) return lost;
    flags &= ~kLost;
    if (flags == 0) return 0;
  }
  if (flags & kStop) {
    int64_t id = env_.rank == 0 ? watcher_->stop_request() : 0;
    async_->Drain("the stop checkpoint");
    SRS_RETURN_IF_ERROR(RunCheckpoint(rss::v1::REASON_STOP, id));
    async_->LogSummary();
    stopped_ = true;
    watcher_.reset();  // nothing more to watch; MPI_Finalize must not wait on the stream
    return 1;
  }
  int64_t id = env_.rank == 0 ? watcher_->checkpoint_request() : 0;
  rss::v1::CheckpointReason reason =
      (flags & kRequested) ? rss::v1::REASON_REQUESTED : rss::v1::REASON_PERIODIC;
  absl::Status status = async_->Checkpoint(reason, id);
  // A skipped periodic checkpoint restarts the interval too: the next is due one interval on.
  if (env_.rank == 0) last_checkpoint_ = absl::Now();
  if (env_.rank == 0 && (flags & kRequested)) watcher_->ClearCheckpointRequest(id);
  if (!status.ok()) {
    // The previous checkpoint is still the restart point: the job goes on (DESIGN §2).
    SRS_LOG(WARNING) << "periodic/requested checkpoint failed, continuing: " << status;
  }
  return 0;
}

absl::Status Context::Checkpoint() {
  SRS_RETURN_IF_ERROR(RejectAfterStop("SRS_Checkpoint"));
  ReportRestartOnce();
  // SRS_Checkpoint stays synchronous: it returns once its checkpoint is committed.
  async_->Drain("SRS_Checkpoint");
  return RunCheckpoint(rss::v1::REASON_REQUESTED, 0);
}

absl::Status Context::Finish() {
  SRS_RETURN_IF_ERROR(RejectAfterStop("SRS_Finish"));
  ReportRestartOnce();
  async_->Drain("SRS_Finish");
  async_->LogSummary();
  absl::Status finished;
  if (env_.rank == 0) {
    rss::v1::FinishRunRequest req;
    req.set_run_token(env_.run.run_token());
    finished = env_.rss->FinishRun(req).status();
  }
  SRS_RETURN_IF_ERROR(BroadcastStatus(env_.comm, 0, finished));
  watcher_.reset();
  return absl::OkStatus();
}

}  // namespace libsrs
}  // namespace srs
