// The rank placements of a run, kept packed (issue 12). A run's Configuration holds one
// RankPlacement per rank; parsed, each costs ~200 B of heap (a message and two strings), so a
// run of 2^20 ranks held ~200 MiB of the RSS for as long as the RSS ran. The RSS keeps them as
// their wire bytes instead (~35 B a rank, what the database holds anyway) and parses them only
// to answer a caller that asks for them (GetJob, a restart's previous configuration).
//
// Protobuf wire format concatenates: a Configuration serialized without its ranks followed by
// RunRow::ranks_wire parses as the whole Configuration, so the database blob is unchanged.
#ifndef SRS_RSS_RUN_RANKS_H_
#define SRS_RSS_RUN_RANKS_H_

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "rss/sqlite_store.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {

// Moves row->config's ranks into row->ranks_wire and row->hosts (distinct hosts in rank order).
void PackRanks(RunRow* row);

// Appends one placement to `wire` as field `ranks` of a Configuration, with `depot` for its
// depot; `scratch` is reused between calls so no per-rank message stays allocated.
void AppendPackedRank(const rss::v1::RankPlacement& rank, const std::string& depot,
                      rss::v1::Configuration* scratch, std::string* wire);

// A run's distinct hosts are cached (job summaries list them) up to this many; a run with more
// has them recomputed from its ranks when asked.
inline constexpr size_t kMaxCachedHosts = 4096;

// Notes `host` (of the next rank in rank order) in row->hosts; `seen` is the caller's scratch.
void NoteHost(const std::string& host, std::unordered_set<std::string>* seen, RunRow* row);

// The distinct hosts of the run's ranks, in rank order of first appearance.
std::vector<std::string> HostsOf(const RunRow& row);

// The run's whole Configuration, ranks included (parses ranks_wire).
rss::v1::Configuration FullConfig(const RunRow& row);

}  // namespace srs

#endif  // SRS_RSS_RUN_RANKS_H_
