// srs-bench-depot: put and ranged-get throughput of one depot, local fast path and loopback
// gRPC, each as a ratio against raw write+fsync / read of the same bytes measured in the same
// run (issue 3). The depot runs in-process (DepotServer on 127.0.0.1:0, a real gRPC server
// over a real directory); every read is measured with the file evicted from the page cache
// (posix_fadvise DONTNEED after fsync), raw baseline included.
//
//   srs-bench-depot [--size 1G] [--dir /tmp] [--rounds 3] [--json]
//
// Then the wire-speed figures (network_figures.h): ranged reads and gets over the data channel
// and over gRPC against a raw loopback TCP stream, interleaved over --rounds rounds.
//
// Output: `name: value` lines (or one JSON object with --json).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bench/depot/network_figures.h"
#include "common/log.h"
#include "common/piece_format.h"
#include "depot/client/depot_client.h"
#include "depot/depot_server.h"

namespace srs {
namespace {

int64_t ParseSize(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit = end != nullptr ? end : "";
  if (unit == "K" || unit == "k") value *= 1 << 10;
  if (unit == "M" || unit == "m") value *= 1 << 20;
  if (unit == "G" || unit == "g") value *= 1 << 30;
  return static_cast<int64_t>(value);
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Evicts a file from the page cache so the next read comes from the device.
void Evict(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

class Report {
 public:
  explicit Report(bool json) : json_(json) {}
  void Add(const std::string& name, double value) { lines_.emplace_back(name, value); }
  void Print() const {
    if (json_) std::printf("{");
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (json_) {
        std::printf("%s\"%s\": %.4g", i ? ", " : "", lines_[i].first.c_str(), lines_[i].second);
      } else {
        std::printf("%s: %.4g\n", lines_[i].first.c_str(), lines_[i].second);
      }
    }
    if (json_) std::printf("}\n");
  }

 private:
  bool json_;
  std::vector<std::pair<std::string, double>> lines_;
};

// Raw baseline: write + fsync, then a cold read, of the same bytes.
bool RawBaseline(const std::string& path, const char* data, int64_t bytes, char* out,
                 double* write_s, double* read_s) {
  auto start = std::chrono::steady_clock::now();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  for (int64_t at = 0; fd >= 0 && at < bytes;) {
    ssize_t n = write(fd, data + at, std::min<int64_t>(bytes - at, 8 << 20));
    if (n <= 0) return false;
    at += n;
  }
  if (fd < 0 || fsync(fd) != 0) return false;
  close(fd);
  *write_s = Seconds(start);
  Evict(path);
  start = std::chrono::steady_clock::now();
  fd = open(path.c_str(), O_RDONLY);
  for (int64_t at = 0; fd >= 0 && at < bytes;) {
    ssize_t n = read(fd, out + at, std::min<int64_t>(bytes - at, 8 << 20));
    if (n <= 0) return false;
    at += n;
  }
  close(fd);
  *read_s = Seconds(start);
  unlink(path.c_str());
  return std::memcmp(data, out, bytes) == 0;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "srs-bench-depot: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Run(int64_t bytes, const std::string& parent, bool json, int rounds) {
  const int64_t n = bytes / 8;
  bytes = n * 8;
  std::string tmpl = parent + "/srs-bench-depot.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Fail("mkdtemp " + tmpl, absl::InternalError(""));
  const std::string work = tmpl;
  std::vector<double> data(n), out(n);
  for (int64_t i = 0; i < n; ++i) data[i] = i * 0.5;
  std::memset(out.data(), 0, bytes);  // touch the pages before any timing

  Report report(json);
  report.Add("size_bytes", static_cast<double>(bytes));
  double raw_w = 0, raw_r = 0;
  if (!RawBaseline(work + "/raw.bin", reinterpret_cast<const char*>(data.data()), bytes,
                   reinterpret_cast<char*>(out.data()), &raw_w, &raw_r)) {
    return Fail("raw baseline", absl::InternalError("I/O error or mismatch"));
  }
  const double mb = bytes / 1e6;
  report.Add("raw_write_fsync_MBps", mb / raw_w);
  report.Add("raw_read_MBps", mb / raw_r);

  depot::DepotServerOptions options;
  options.dir = work + "/depot";
  options.grant_key = GrantKey::Generate();  // the bench plays the RSS that issues grants
  auto grant_for = [&](const depot::v1::PieceKey& k) {
    return options.grant_key->Mint(
        {k.job(), k.epoch(), k.rank(), "", absl::Now() + absl::Hours(1)});
  };
  auto server = depot::DepotServer::Start(options);
  if (!server.ok()) return Fail("start depot", server.status());
  auto client = DepotClient::Connect((*server)->address(), absl::Seconds(600));
  if (!client.ok()) return Fail("connect", client.status());
  DepotClient& depot = **client;
  piece::PieceHeader header{"bench", 1, 0, 1, ""};
  piece::DatasetWrite ds{"x", ElementType::kDouble, data.data(), n, n, "none", {}};
  depot::v1::PieceKey key;
  key.set_job("bench");
  key.set_epoch(1);

  // Put, local fast path: the HDF5 file is written straight into the depot's spool.
  // The writer's part (HDF5 write + fsync) is timed apart from the depot's commit (verify,
  // publish), which is what the depot itself adds.
  double write_s = 0;
  auto start = std::chrono::steady_clock::now();
  auto local = depot.PutLocal(
      key, bytes, 0,
      [&](const std::string& path) {
        auto write_start = std::chrono::steady_clock::now();
        absl::Status written = piece::WritePieceFile(path, header, {ds});
        write_s = Seconds(write_start);
        return written;
      },
      grant_for(key));
  if (!local.ok()) return Fail("PutLocal", local.status());
  const double put_local = Seconds(start);

  // Put over loopback gRPC: build the HDF5 image in memory, stream it.
  key.set_rank(1);
  start = std::chrono::steady_clock::now();
  auto image = piece::WritePieceImage(header, {ds});
  if (!image.ok()) return Fail("WritePieceImage", image.status());
  const double image_s = Seconds(start);
  auto remote = depot.PutBytes(key, *image, 0, grant_for(key));
  if (!remote.ok()) return Fail("PutBytes", remote.status());
  const double put_grpc = Seconds(start);
  image->clear();
  image->shrink_to_fit();

  auto piece_path = [&](const depot::v1::PutResponse& put) {
    return options.dir + "/pieces/" + put.info().piece_id() + ".h5";
  };
  auto check = [&](int64_t count) {  // a benchmark that returns garbage measures nothing
    for (int64_t i = 0; i < count; i += 1 + count / 97) {
      if (out[i] != data[i]) return false;
    }
    return true;
  };

  // Ranged get of the whole dataset, local: OpenLocal (verifies) + HDF5 read of the file.
  Evict(piece_path(*local));
  std::memset(out.data(), 0, bytes);
  start = std::chrono::steady_clock::now();
  auto path = depot.OpenLocal(local->caps().read());
  if (!path.ok()) return Fail("OpenLocal", path.status());
  absl::Status read =
      piece::ReadSelection(*path, "x", ElementType::kDouble, {{0, 1, n, 1}}, out.data(), bytes);
  if (!read.ok()) return Fail("local read", read);
  const double get_local = Seconds(start);
  if (!check(n)) return Fail("local read", absl::DataLossError("wrong values"));

  // Ranged get over loopback gRPC (ReadRange streams <= 1 MiB chunks); the data channel is
  // measured apart (network_figures.h).
  depot.UseDataChannel(false);
  Evict(piece_path(*remote));
  std::memset(out.data(), 0, bytes);
  start = std::chrono::steady_clock::now();
  read = depot.ReadRange(remote->caps().read(), "x", ElementType::kDouble, {{0, 1, n, 1}},
                         out.data(), bytes);
  if (!read.ok()) return Fail("ReadRange", read);
  const double get_grpc = Seconds(start);
  if (!check(n)) return Fail("ReadRange", absl::DataLossError("wrong values"));

  // A strided ranged get (every other 64 KiB block: half the bytes), verified piece cached.
  const int64_t block = 8192, blocks = n / (2 * block);
  start = std::chrono::steady_clock::now();
  read = depot.ReadRange(remote->caps().read(), "x", ElementType::kDouble,
                         {{0, 2 * block, blocks, block}}, out.data(), bytes);
  if (!read.ok()) return Fail("strided ReadRange", read);
  const double get_strided = Seconds(start);
  const double strided_mb = blocks * block * 8 / 1e6;
  if (blocks > 0 && out[block] != data[2 * block]) {
    return Fail("strided ReadRange", absl::DataLossError("wrong values"));
  }

  report.Add("put_local_MBps", mb / put_local);
  report.Add("put_local_ratio", raw_w / put_local);
  report.Add("put_local_write_s", write_s);
  report.Add("put_local_commit_s", put_local - write_s);
  report.Add("raw_write_fsync_s", raw_w);
  report.Add("put_grpc_MBps", mb / put_grpc);
  report.Add("put_grpc_ratio", raw_w / put_grpc);
  report.Add("put_grpc_image_build_s", image_s);
  report.Add("get_local_MBps", mb / get_local);
  report.Add("get_local_ratio", raw_r / get_local);
  report.Add("get_grpc_MBps", mb / get_grpc);
  report.Add("get_grpc_ratio", raw_r / get_grpc);
  report.Add("get_grpc_strided_half_MBps", strided_mb / get_strided);
  report.Add("local_over_grpc_put_speedup", put_grpc / put_local);
  report.Add("local_over_grpc_get_speedup", get_grpc / get_local);
  auto network = MeasureNetworkFigures(depot, remote->caps().read(), data, rounds);
  if (!network.ok()) return Fail("network figures", network.status());
  for (const auto& [name, value] : *network) report.Add(name, value);
  report.Print();
  (*server)->Shutdown(absl::Seconds(5));
  std::system(("rm -rf '" + work + "'").c_str());
  return 0;
}

}  // namespace
}  // namespace srs

int main(int argc, char** argv) {
  int64_t size = int64_t{1} << 30;
  std::string dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  bool json = false;
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--size" && i + 1 < argc) {
      size = srs::ParseSize(argv[++i]);
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(
          stderr,
          "usage: srs-bench-depot [--size BYTES[K|M|G]] [--dir DIR] [--rounds R] [--json]\n"
          "  put / ranged-get throughput of a depot (local fast path and loopback gRPC)\n"
          "  as ratios against raw write+fsync / read of the same bytes\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (size < 8) size = 8;
  srs::SetLogLevel(srs::LogLevel::kWarning);
  return srs::Run(size, dir, json, rounds);
}
