#include "tools/json_output.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "tools/failure_view.h"
#include "tools/format.h"
#include "tools/job_view.h"

namespace srs::tools {
namespace {

// A depot re-registers every 5 s (depot_server.h); a few missed rounds mean it is gone.
constexpr absl::Duration kDepotSilence = absl::Seconds(30);

double Num(int64_t value) { return static_cast<double>(value); }

cliv1::CheckpointInfo CheckpointJson(const rssv1::CheckpointSummary& checkpoint) {
  cliv1::CheckpointInfo out;
  const rssv1::PhaseTimings& t = checkpoint.timings();
  out.set_epoch(Num(checkpoint.epoch()));
  out.set_state(checkpoint.state());
  out.set_reason(ReasonName(checkpoint.reason()));
  out.set_run_id(checkpoint.run_id());
  out.set_nprocs(checkpoint.nprocs());
  out.set_bytes(Num(t.bytes()));
  out.set_created(IsoTime(checkpoint.created_unix_ms()));
  out.set_created_unix_ms(Num(checkpoint.created_unix_ms()));
  out.set_committed(IsoTime(checkpoint.committed_unix_ms()));
  out.set_committed_unix_ms(Num(checkpoint.committed_unix_ms()));
  out.set_write_seconds(t.write_seconds());
  out.set_commit_seconds(t.commit_seconds());
  for (const rssv1::ArraySpec& array : checkpoint.arrays()) {
    cliv1::ArrayInfo* a = out.add_arrays();
    a->set_name(array.name());
    a->set_type(array.srs_type());
    a->set_global_count(Num(array.global_count()));
    a->set_distribution(array.distribution().kind());
    a->set_distribution_text(DistributionText(array.distribution()));
  }
  for (const rssv1::PieceRecord& piece : checkpoint.pieces()) {
    cliv1::PieceInfo* p = out.add_pieces();  // capabilities stay out: they are secrets
    p->set_rank(piece.rank());
    p->set_depot(piece.depot_address());
    p->set_size_bytes(Num(piece.size_bytes()));
    p->set_checksum(Checksum(piece.xxh3_64()));
    for (const rssv1::PieceCopy& copy : piece.copies()) {
      cliv1::CopyInfo* c = p->add_copies();
      c->set_depot_id(copy.depot_id());
      c->set_depot(copy.depot_address());
      c->set_failure_domain(copy.failure_domain());
      c->set_state(copy.state());
    }
  }
  out.set_copies_required(std::max(1, checkpoint.copies_required()));
  return out;
}

// FailureText without its "-" placeholder: JSON says "none" with "".
std::string FailureJson(const rssv1::RunFailure& failure) {
  std::string text = FailureText(failure);
  return text == "-" ? "" : text;
}

}  // namespace

std::string IsoTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

cliv1::JobStatus JobStatusJson(const rssv1::JobSummary& job) {
  cliv1::JobStatus out;
  out.set_job(job.job());
  out.set_state(job.state());
  out.set_stop_pending(job.stop_pending());
  out.set_nprocs(job.nprocs());
  for (const std::string& host : job.hosts()) out.add_hosts(host);
  out.set_last_epoch(Num(job.last_epoch()));
  out.set_last_checkpoint_bytes(Num(job.last_checkpoint_bytes()));
  out.set_last_checkpoint_time(IsoTime(job.last_checkpoint_unix_ms()));
  out.set_last_checkpoint_unix_ms(Num(job.last_checkpoint_unix_ms()));
  if (job.state() != "finished" && job.has_failure()) out.set_failure(FailureJson(job.failure()));
  return out;
}

cliv1::LsOutput LsJson(const std::string& job, const rssv1::GetJobResponse& info, bool all) {
  cliv1::LsOutput out;
  out.set_job(job);
  for (const rssv1::CheckpointSummary& checkpoint : info.checkpoints()) {
    bool live = checkpoint.state() == "committed" || checkpoint.state() == "pending";
    if (live || all) *out.add_checkpoints() = CheckpointJson(checkpoint);
  }
  return out;
}

cliv1::HistoryOutput HistoryJson(const std::string& job, const rssv1::GetJobResponse& info) {
  cliv1::HistoryOutput out;
  out.set_job(job);
  for (const rssv1::Configuration& run : info.runs()) {
    cliv1::RunInfo* r = out.add_runs();
    r->set_run_id(run.run_id());
    r->set_state(run.state());
    r->set_nprocs(run.nprocs());
    std::set<std::string> seen;
    for (const rssv1::RankPlacement& rank : run.ranks()) {
      if (seen.insert(rank.host()).second) r->add_hosts(rank.host());
    }
    r->set_started(IsoTime(run.started_unix_ms()));
    r->set_started_unix_ms(Num(run.started_unix_ms()));
    r->set_ended(IsoTime(run.ended_unix_ms()));
    r->set_ended_unix_ms(Num(run.ended_unix_ms()));
    r->set_resumed_from_epoch(Num(run.resumed_from_epoch()));
    r->set_restart_read_seconds(run.restart_read_seconds());
    r->set_restart_bytes(Num(run.restart_bytes()));
    if (const rssv1::CheckpointSummary* stop = StopCheckpointOf(info, run.run_id())) {
      r->set_stop_epoch(Num(stop->epoch()));
      r->set_stop_seconds(stop->timings().write_seconds() + stop->timings().commit_seconds());
      r->set_stop_bytes(Num(stop->timings().bytes()));
    }
    if (run.has_failure()) r->set_failure(FailureJson(run.failure()));
  }
  return out;
}

cliv1::DepotsOutput DepotsJson(const rssv1::ListDepotsResponse& depots, absl::Time now) {
  cliv1::DepotsOutput out;
  for (const rssv1::DepotRecord& depot : depots.depots()) {
    cliv1::DepotInfo* d = out.add_depots();
    d->set_id(depot.depot_id());
    d->set_host(depot.host());
    d->set_address(depot.address());
    bool recent = depot.last_seen_unix_ms() > 0 &&
                  now - absl::FromUnixMillis(depot.last_seen_unix_ms()) <= kDepotSilence;
    // The RSS knows each depot's heartbeat and its own timeout; an older RSS sends no state.
    d->set_state(!depot.state().empty() ? depot.state() : recent ? "up" : "down");
    d->set_failure_domain(depot.failure_domain().empty() ? depot.host() : depot.failure_domain());
    d->set_capacity_bytes(Num(depot.capacity_bytes()));
    d->set_free_bytes(Num(depot.free_bytes()));
    d->set_last_seen(IsoTime(depot.last_seen_unix_ms()));
    d->set_last_seen_unix_ms(Num(depot.last_seen_unix_ms()));
  }
  return out;
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print JSON: ", status.ToString()));
  }
  return json;
}

int PrintJson(const std::string& command, const google::protobuf::Message& message) {
  absl::StatusOr<std::string> json = ToJson(message);
  if (!json.ok()) return Fail(command, json.status());
  std::printf("%s\n", json->c_str());
  return 0;
}

}  // namespace srs::tools
