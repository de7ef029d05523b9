#include "rss/replica_placement.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace srs {

absl::StatusOr<int> CopiesForRedundancy(absl::string_view redundancy) {
  if (redundancy.empty() || redundancy == "none") return 1;
  if (redundancy == "partner") return 2;
  // Exactly "replicas:" and one digit 1..8 (SimpleAtoi would also take spaces and signs).
  constexpr absl::string_view kPrefix = "replicas:";
  if (absl::StartsWith(redundancy, kPrefix) && redundancy.size() == kPrefix.size() + 1) {
    const char digit = redundancy.back();
    if (digit >= '1' && digit <= '0' + kMaxCopies) return digit - '0';
  }
  return absl::InvalidArgumentError(absl::StrCat("redundancy '", redundancy.substr(0, 64),
                                                 "' is not none, partner or ",
                                                 "replicas:K with 1 <= K <= ", kMaxCopies));
}

std::string NormalizeRedundancy(absl::string_view redundancy) {
  absl::StatusOr<int> copies = CopiesForRedundancy(redundancy);
  if (!copies.ok() || *copies == 1) return "none";
  if (redundancy == "partner") return "partner";
  return absl::StrCat("replicas:", *copies);
}

absl::StatusOr<std::vector<std::vector<PlacementDepot>>> PlaceReplicas(
    const std::vector<PlacementDepot>& rank_depots, const std::vector<PlacementDepot>& live,
    int copies) {
  if (copies < 1 || copies > kMaxCopies) {
    return absl::InvalidArgumentError(
        absl::StrCat("copies must be in 1..", kMaxCopies, ", got ", copies));
  }
  std::vector<std::vector<PlacementDepot>> out(rank_depots.size());
  if (copies == 1) return out;
  // Live depots by domain, each domain's sorted by id (deterministic spreading).
  std::map<std::string, std::vector<PlacementDepot>> by_domain;
  for (const PlacementDepot& depot : live) by_domain[depot.failure_domain].push_back(depot);
  for (auto& [domain, depots] : by_domain) {
    std::sort(depots.begin(), depots.end(),
              [](const PlacementDepot& a, const PlacementDepot& b) { return a.id < b.id; });
  }
  // Two rings, like SCR's PARTNER set: first the job's own failure domains (the hosts its ranks
  // write on, sorted), so a two-host job pairs its hosts with each other and copies stay on the
  // job's allocation; then, only when the job spans too few domains, the other domains with a
  // live depot (sorted, entered at a point that depends on the rank's domain, to spread).
  std::set<std::string> job_set;
  for (const PlacementDepot& own : rank_depots) job_set.insert(own.failure_domain);
  const std::vector<std::string> job_ring(job_set.begin(), job_set.end());
  std::vector<std::string> others;
  for (const auto& [domain, depots] : by_domain) {
    if (job_set.count(domain) == 0) others.push_back(domain);
  }
  std::map<std::string, size_t> used;  // copies placed per domain so far (round robin)
  for (size_t r = 0; r < rank_depots.size(); ++r) {
    const std::string& mine = rank_depots[r].failure_domain;
    const size_t start =
        std::lower_bound(job_ring.begin(), job_ring.end(), mine) - job_ring.begin();
    std::vector<std::string> order;
    for (size_t step = 1; step < job_ring.size(); ++step) {
      order.push_back(job_ring[(start + step) % job_ring.size()]);
    }
    for (size_t k = 0; k < others.size(); ++k) order.push_back(others[(start + k) % others.size()]);
    for (const std::string& domain : order) {
      if (out[r].size() + 1 >= static_cast<size_t>(copies)) break;
      auto depots = by_domain.find(domain);
      if (depots == by_domain.end()) continue;  // no live depot there now
      out[r].push_back(depots->second[used[domain]++ % depots->second.size()]);
    }
    if (out[r].size() + 1 < static_cast<size_t>(copies)) {
      std::vector<std::string> live_domains;
      for (const auto& [domain, depots] : by_domain) {
        std::vector<std::string> names;
        for (const PlacementDepot& d : depots) names.push_back(d.id);
        live_domains.push_back(absl::StrCat(domain, " (", absl::StrJoin(names, ", "), ")"));
      }
      return absl::FailedPreconditionError(
          absl::StrCat(copies, " copies of every piece need ", copies,
                       " different failure domains with a live depot, but rank ", r, "'s depot ",
                       rank_depots[r].id, " is in '", mine, "' and only ", out[r].size(),
                       " other domain(s) have one; live failure domains: ",
                       live_domains.empty() ? "none" : absl::StrJoin(live_domains, "; "),
                       ". Start depots on more hosts (srs-depot --host) or lower `redundancy`"));
    }
  }
  return out;
}

}  // namespace srs
