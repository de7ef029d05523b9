// fault_inspect: what the RSS durably holds for a job, for the fault-test drivers. It asks the
// RSS (GetJob, admin token) and, for the newest committed checkpoint, reads the value of a scalar
// dataset (default "iter") straight from rank 0's piece on its depot, independently of the
// library's restart path. Prints `key=value` lines:
//
//   job_state=lost            state of the newest run
//   last_epoch=7              newest committed checkpoint (0 = none)
//   committed_value=120       the dataset's value in that checkpoint (absent if none)
//   runs=stopped,lost,running every run, oldest first
//   run_epochs=0,3,7          resumed_from_epoch of every run
//   checkpoints=3:committed:REASON_PERIODIC 4:discarded:REASON_PERIODIC ...
//   committed_pieces=6        pieces of all committed checkpoints together
//   newest_run=<run id>
//
//   fault_inspect --rss HOST:PORT --token-file FILE --job JOB [--dataset iter] [--run RUN_ID]
//                 [--allow-missing yes]
//
// Any error (RSS unreachable, unknown job without --allow-missing yes, unreadable piece) exits 1
// with the reason on stderr: no output ever stands for "could not ask".
// With --run, also prints run_state=<state>, run_unfinished_checkpoints=<n> (checkpoints begun by
// that run that never committed: pending or discarded — a kill during a checkpoint write leaves
// exactly such a checkpoint) and run_pending_checkpoints=<n> (those still pending).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/datatype.h"
#include "common/piece_format.h"
#include "depot/client/depot_client.h"
#include "rss/client/rss_client.h"

namespace {

struct Options {
  std::string rss, token_file, job, dataset = "iter", run;
  bool allow_missing = false;  // an unknown job prints job_state=none instead of failing
};

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int a = 1; a + 1 < argc; a += 2) {
    std::string k = argv[a], v = argv[a + 1];
    if (k == "--rss") {
      o->rss = v;
    } else if (k == "--token-file") {
      o->token_file = v;
    } else if (k == "--job") {
      o->job = v;
    } else if (k == "--dataset") {
      o->dataset = v;
    } else if (k == "--run") {
      o->run = v;
    } else if (k == "--allow-missing") {
      o->allow_missing = v == "yes";
    } else {
      return false;
    }
  }
  return (argc % 2) == 1 && !o->rss.empty() && !o->token_file.empty() && !o->job.empty();
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// Reads element 0 of `dataset` (as int64) from rank 0's piece of checkpoint `c`.
int ReadCommittedValue(const srs::rss::v1::CheckpointSummary& c, const std::string& dataset,
                       int64_t* value) {
  for (const auto& p : c.pieces()) {
    if (p.rank() != 0) continue;
    auto depot = srs::DepotClient::Connect(p.depot_address(), absl::Seconds(10));
    if (!depot.ok()) {
      fprintf(stderr, "fault_inspect: %s\n", depot.status().ToString().c_str());
      return 1;
    }
    absl::Status s =
        (*depot)->ReadRange(p.read_cap(), dataset, srs::ElementType::kInt64,
                            {srs::piece::Hyperslab{0, 1, 1, 1}}, value, sizeof(*value));
    if (!s.ok()) {
      fprintf(stderr, "fault_inspect: epoch %lld rank 0: %s\n", (long long)c.epoch(),
              s.ToString().c_str());
      return 1;
    }
    return 0;
  }
  fprintf(stderr, "fault_inspect: epoch %lld has no piece of rank 0\n", (long long)c.epoch());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o)) {
    fprintf(stderr,
            "usage: fault_inspect --rss HOST:PORT --token-file FILE --job JOB [--dataset NAME] "
            "[--run RUN_ID] [--allow-missing yes]\n");
    return 2;
  }
  auto token = srs::ReadAdminToken(o.token_file);
  auto rss = srs::RssClient::Connect(o.rss, absl::Seconds(10));
  if (!token.ok() || !rss.ok()) {
    fprintf(stderr, "fault_inspect: %s %s\n", token.status().ToString().c_str(),
            rss.status().ToString().c_str());
    return 1;
  }
  srs::rss::v1::GetJobRequest req;
  req.set_admin_token(*token);
  req.set_job(o.job);
  auto job = (*rss)->GetJob(req);
  if (absl::IsNotFound(job.status()) && o.allow_missing) {  // not registered yet
    printf("job_state=none\nlast_epoch=0\n");
    return 0;
  }
  if (!job.ok()) {
    fprintf(stderr, "fault_inspect: %s\n", job.status().ToString().c_str());
    return 1;
  }
  printf("job_state=%s\n", job->summary().state().c_str());
  printf("last_epoch=%lld\n", (long long)job->summary().last_epoch());
  std::vector<std::string> runs, run_epochs, cps;
  for (const auto& r : job->runs()) {
    runs.push_back(r.state());
    run_epochs.push_back(std::to_string(r.resumed_from_epoch()));
    if (!o.run.empty() && r.run_id() == o.run) printf("run_state=%s\n", r.state().c_str());
  }
  printf("runs=%s\nrun_epochs=%s\n", Join(runs, ",").c_str(), Join(run_epochs, ",").c_str());
  if (!job->runs().empty()) printf("newest_run=%s\n", job->runs().rbegin()->run_id().c_str());
  int unfinished = 0, pending = 0, committed_pieces = 0;
  for (const auto& c : job->checkpoints()) {
    if (c.state() == "committed") committed_pieces += c.pieces_size();
    cps.push_back(std::to_string(c.epoch()) + ":" + c.state() + ":" +
                  srs::rss::v1::CheckpointReason_Name(c.reason()));
    if (!o.run.empty() && c.run_id() == o.run && c.state() != "committed" && c.state() != "deleted")
      ++unfinished;
    if (!o.run.empty() && c.run_id() == o.run && c.state() == "pending") ++pending;
  }
  printf("checkpoints=%s\ncommitted_pieces=%d\n", Join(cps, " ").c_str(), committed_pieces);
  if (!o.run.empty())
    printf("run_unfinished_checkpoints=%d\nrun_pending_checkpoints=%d\n", unfinished, pending);
  int64_t last = job->summary().last_epoch();
  if (last > 0) {
    bool found = false;
    for (const auto& c : job->checkpoints()) {
      if (c.epoch() != last || c.state() != "committed") continue;
      int64_t value = 0;
      if (ReadCommittedValue(c, o.dataset, &value) != 0) return 1;
      printf("committed_value=%lld\ncommitted_nprocs=%d\n", (long long)value, c.nprocs());
      found = true;
    }
    if (!found) {
      fprintf(stderr, "fault_inspect: last_epoch %lld is not among the committed checkpoints\n",
              (long long)last);
      return 1;
    }
  }
  return 0;
}
