// The wire-speed figures of srs-bench-depot (issue 15): one piece read whole by a ranged read
// (ReadRange) and as a file (GetAll) over the depot's data channel and over gRPC, against a raw
// loopback TCP stream of the same bytes (a sender thread and a receiver connected through
// 127.0.0.1), all from the page cache, interleaved A B C ... over `rounds` rounds; medians.
//
//   range_channel_over_tcp   ReadRange on the data channel ÷ raw TCP (1 = wire speed)
//   range_grpc_over_tcp      ReadRange over gRPC ÷ raw TCP
//   get_channel_over_tcp     GetAll on the data channel ÷ raw TCP of the file's bytes
//   get_grpc_over_tcp        GetAll over gRPC ÷ raw TCP
// plus the medians in seconds and each ratio's min and max over the rounds.
#ifndef SRS_BENCH_DEPOT_NETWORK_FIGURES_H_
#define SRS_BENCH_DEPOT_NETWORK_FIGURES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "depot/client/depot_client.h"

namespace srs {

// `read_cap`: a piece with dataset "x" of `n` doubles; `expected`: its values (checked).
absl::StatusOr<std::vector<std::pair<std::string, double>>> MeasureNetworkFigures(
    DepotClient& depot, const std::string& read_cap, const std::vector<double>& expected,
    int rounds);

}  // namespace srs

#endif  // SRS_BENCH_DEPOT_NETWORK_FIGURES_H_
