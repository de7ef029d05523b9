#include "bench/depot/network_figures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace srs {
namespace {

double SecondsOf(const std::function<absl::Status()>& body, absl::Status* status) {
  auto start = std::chrono::steady_clock::now();
  *status = body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A loopback TCP connection: bytes sent on `tx` arrive on `rx`.
struct Loopback {
  int tx = -1, rx = -1;
  ~Loopback() {
    if (tx >= 0) close(tx);
    if (rx >= 0) close(rx);
  }
};

absl::Status Connect(Loopback* link) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = listener >= 0 && bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            listen(listener, 1) == 0 &&
            getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (ok) {
    link->tx = socket(AF_INET, SOCK_STREAM, 0);
    ok = connect(link->tx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  if (ok) link->rx = accept(listener, nullptr, nullptr);
  if (listener >= 0) close(listener);
  if (!ok || link->rx < 0) return absl::InternalError("raw TCP baseline: loopback connect failed");
  return absl::OkStatus();
}

absl::Status Stream(const Loopback& link, const char* src, char* dst, size_t bytes) {
  std::thread sender([&] {
    for (size_t done = 0; done < bytes;) {
      ssize_t n = send(link.tx, src + done, bytes - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  });
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = recv(link.rx, dst + got, bytes - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  sender.join();
  return got == bytes ? absl::OkStatus() : absl::DataLossError("raw TCP baseline: short stream");
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, double>>> MeasureNetworkFigures(
    DepotClient& depot, const std::string& read_cap, const std::vector<double>& expected,
    int rounds) {
  const int64_t n = static_cast<int64_t>(expected.size());
  const size_t bytes = expected.size() * sizeof(double);
  std::vector<double> out(expected.size());
  Loopback link;
  SRS_RETURN_IF_ERROR(Connect(&link));
  SRS_ASSIGN_OR_RETURN(std::string file, depot.GetAll(read_cap));  // warm: page cache, verified
  std::vector<char> tcp_dst(std::max(bytes, file.size()));
  auto range = [&](bool channel) {  // `out` is reset and compared outside the clock
    depot.UseDataChannel(channel);
    return depot.ReadRange(read_cap, "x", ElementType::kDouble, {{0, 1, n, 1}}, out.data(), bytes);
  };
  std::string got;  // compared after the clock stops (GetAll itself checks the XXH3)
  auto get = [&](bool channel) -> absl::Status {
    depot.UseDataChannel(channel);
    SRS_ASSIGN_OR_RETURN(got, depot.GetAll(read_cap));
    return absl::OkStatus();
  };
  const std::vector<std::pair<std::string, std::function<absl::Status()>>> steps = {
      {"tcp_range", [&] { return Stream(link, file.data(), tcp_dst.data(), bytes); }},
      {"range_channel", [&] { return range(true); }},
      {"range_grpc", [&] { return range(false); }},
      {"tcp_get", [&] { return Stream(link, file.data(), tcp_dst.data(), file.size()); }},
      {"get_channel", [&] { return get(true); }},
      {"get_grpc", [&] { return get(false); }},
  };
  std::map<std::string, std::vector<double>> seconds;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& [name, body] : steps) {
      absl::Status status;
      std::fill(out.begin(), out.end(), -1.0);
      seconds[name].push_back(SecondsOf(body, &status));
      if (status.ok() && absl::StartsWith(name, "get_") && got != file) {
        status = absl::DataLossError("GetAll: wrong bytes");
      }
      if (status.ok() && absl::StartsWith(name, "range_") && out != expected) {
        status = absl::DataLossError("ReadRange: wrong values");
      }
      SRS_RETURN_IF_ERROR(Annotate(status, name));
    }
  }
  depot.UseDataChannel(true);
  std::vector<std::pair<std::string, double>> figures;
  for (const char* what : {"range_channel", "range_grpc", "get_channel", "get_grpc"}) {
    const std::string base = absl::StartsWith(what, "range") ? "tcp_range" : "tcp_get";
    std::vector<double> ratios;
    for (int r = 0; r < rounds; ++r) ratios.push_back(seconds[what][r] / seconds[base][r]);
    figures.emplace_back(absl::StrCat(what, "_over_tcp"), Median(ratios));
    figures.emplace_back(absl::StrCat(what, "_over_tcp_min"),
                         *std::min_element(ratios.begin(), ratios.end()));
    figures.emplace_back(absl::StrCat(what, "_over_tcp_max"),
                         *std::max_element(ratios.begin(), ratios.end()));
    figures.emplace_back(absl::StrCat(what, "_s"), Median(seconds[what]));
  }
  figures.emplace_back("tcp_range_s", Median(seconds["tcp_range"]));
  figures.emplace_back("tcp_get_s", Median(seconds["tcp_get"]));
  figures.emplace_back("network_rounds", rounds);
  return figures;
}

}  // namespace srs
