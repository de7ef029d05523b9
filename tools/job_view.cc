#include "tools/job_view.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace srs::tools {

const rssv1::Configuration* NewestRun(const rssv1::GetJobResponse& job) {
  if (job.runs().empty()) return nullptr;
  return &job.runs(job.runs_size() - 1);
}

const rssv1::CheckpointSummary* CommittedCheckpoint(const rssv1::GetJobResponse& job,
                                                    int64_t epoch) {
  const rssv1::CheckpointSummary* best = nullptr;
  for (const rssv1::CheckpointSummary& checkpoint : job.checkpoints()) {
    if (checkpoint.state() != "committed") continue;
    if (epoch != 0 && checkpoint.epoch() != epoch) continue;
    if (best == nullptr || checkpoint.epoch() > best->epoch()) best = &checkpoint;
  }
  return best;
}

const rssv1::CheckpointSummary* StopCheckpointOf(const rssv1::GetJobResponse& job,
                                                 const std::string& run_id) {
  for (const rssv1::CheckpointSummary& checkpoint : job.checkpoints()) {
    if (checkpoint.run_id() == run_id && checkpoint.reason() == rssv1::REASON_STOP &&
        checkpoint.state() != "discarded" && checkpoint.state() != "pending") {
      return &checkpoint;
    }
  }
  return nullptr;
}

namespace {
std::string Shorten(const std::vector<std::string>& hosts, int max_shown) {
  if (hosts.empty()) return "-";
  if (static_cast<int>(hosts.size()) <= max_shown) return absl::StrJoin(hosts, ",");
  std::vector<std::string> shown(hosts.begin(), hosts.begin() + max_shown);
  return absl::StrCat(absl::StrJoin(shown, ","), ",+", hosts.size() - max_shown, " more");
}
}  // namespace

std::string HostList(const rssv1::Configuration& run, int max_shown) {
  std::vector<std::string> hosts;
  std::set<std::string> seen;
  for (const rssv1::RankPlacement& rank : run.ranks()) {
    if (seen.insert(rank.host()).second) hosts.push_back(rank.host());
  }
  return Shorten(hosts, max_shown);
}

std::string HostList(const google::protobuf::RepeatedPtrField<std::string>& hosts, int max_shown) {
  return Shorten(std::vector<std::string>(hosts.begin(), hosts.end()), max_shown);
}

std::string DistributionText(const rssv1::Distribution& dist) {
  if (dist.kind() == "block_cyclic") return absl::StrFormat("block_cyclic(%d)", dist.block_size());
  if (dist.kind() == "block_cyclic_2d") {
    return absl::StrFormat("block_cyclic_2d(%dx%d, blocks %dx%d, grid %dx%d)", dist.rows(),
                           dist.cols(), dist.mb(), dist.nb(), dist.nprow(), dist.npcol());
  }
  return dist.kind().empty() ? "-" : dist.kind();
}

const char* ReasonName(rssv1::CheckpointReason reason) {
  switch (reason) {
    case rssv1::REASON_STOP:
      return "stop";
    case rssv1::REASON_PERIODIC:
      return "periodic";
    default:
      return "requested";
  }
}

}  // namespace srs::tools
