#include "rss/run_ranks.h"

namespace srs {

namespace v1 = rss::v1;

void PackRanks(RunRow* row) {
  row->ranks_wire.clear();
  row->hosts.clear();
  row->hosts_complete = true;
  std::unordered_set<std::string> seen;
  v1::Configuration scratch;
  for (const v1::RankPlacement& rank : row->config.ranks()) {
    NoteHost(rank.host(), &seen, row);
    AppendPackedRank(rank, rank.depot(), &scratch, &row->ranks_wire);
  }
  row->config.clear_ranks();
  row->ranks_wire.shrink_to_fit();
}

void AppendPackedRank(const v1::RankPlacement& rank, const std::string& depot,
                      v1::Configuration* scratch, std::string* wire) {
  scratch->clear_ranks();
  v1::RankPlacement* one = scratch->add_ranks();
  *one = rank;
  one->set_depot(depot);
  scratch->AppendToString(wire);
}

void NoteHost(const std::string& host, std::unordered_set<std::string>* seen, RunRow* row) {
  if (!row->hosts_complete || seen->count(host) != 0) return;
  if (row->hosts.size() >= kMaxCachedHosts) {
    row->hosts_complete = false;
    row->hosts.clear();
    row->hosts.shrink_to_fit();
    return;
  }
  seen->insert(host);
  row->hosts.push_back(host);
}

std::vector<std::string> HostsOf(const RunRow& row) {
  if (row.hosts_complete) return row.hosts;
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  v1::Configuration config = FullConfig(row);
  for (const v1::RankPlacement& rank : config.ranks()) {
    if (seen.insert(rank.host()).second) out.push_back(rank.host());
  }
  return out;
}

v1::Configuration FullConfig(const RunRow& row) {
  v1::Configuration config = row.config;
  // The bytes were serialized by this process (or read back from its database): they parse.
  config.MergeFromString(row.ranks_wire);
  return config;
}

}  // namespace srs
