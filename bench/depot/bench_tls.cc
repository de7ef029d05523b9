// srs-bench-tls: what TLS costs a checkpoint and a restart through gRPC, with and without TLS
// in the same run (issue 12). One in-process depot per mode, on 127.0.0.1; the TLS one requires
// client certificates (mutual TLS, as a site would deploy it) made here by the `openssl`
// command. Checkpoint = PutBytes of a piece image (built once, outside the timing); restart =
// ReadRange of the whole dataset. Modes alternate over the rounds so load drifts hit both; the
// best round of each counts.
//
//   srs-bench-tls [--size 256M] [--rounds 3] [--dir /tmp] [--json]
//
// Output: `name: value` lines (or one JSON object with --json): MB/s per mode and
// tls_{checkpoint,restart}_ratio = TLS throughput / plain throughput (1 = free).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/piece_format.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "depot/client/depot_client.h"
#include "depot/depot_server.h"

namespace srs {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "srs-bench-tls: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`.
bool MakeCertificates(const std::string& dir) {
  const std::string q = "'" + dir + "'";
  const std::string script =
      "cd " + q +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca"
      " -keyout ca.key -out ca.pem"
      " && for n in server client; do"
      " openssl req -newkey rsa:2048 -nodes -subj /CN=$n -keyout $n.key -out $n.csr &&"
      " printf 'subjectAltName=IP:127.0.0.1\\n' > $n.ext &&"
      " openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1"
      " -extfile $n.ext -out $n.pem || exit 1; done";
  return std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0;
}

struct Mode {
  std::string name;
  tls::TlsFiles server, client;
  std::unique_ptr<depot::DepotServer> depot;
  std::unique_ptr<DepotClient> client_conn;
  double best_put_s = 1e300, best_read_s = 1e300;
};

absl::Status StartMode(Mode& mode, const std::string& dir, const GrantKey& key) {
  depot::DepotServerOptions options;
  options.dir = dir;
  options.grant_key = key;
  options.tls = mode.server;
  auto server = depot::DepotServer::Start(options);
  if (!server.ok()) return server.status();
  mode.depot = std::move(*server);
  return absl::OkStatus();
}

// One round of one mode: a fresh channel with the mode's credentials, put, read back, check.
absl::Status Round(Mode& mode, int round, const std::string& image, const GrantKey& key, int64_t n,
                   std::vector<double>& out, const std::vector<double>& data) {
  SRS_RETURN_IF_ERROR(tls::SetClientTls(mode.client));
  SRS_ASSIGN_OR_RETURN(std::unique_ptr<DepotClient> client,
                       DepotClient::Connect(mode.depot->address(), absl::Seconds(600)));
  depot::v1::PieceKey piece;
  piece.set_job("bench-tls");
  piece.set_epoch(round + 1);
  auto grant = key.Mint({"bench-tls", round + 1, 0, "", absl::Now() + absl::Hours(1)});
  SRS_RETURN_IF_ERROR(client->Info().status());  // connect (and handshake) outside the timing
  auto start = std::chrono::steady_clock::now();
  SRS_ASSIGN_OR_RETURN(depot::v1::PutResponse put, client->PutBytes(piece, image, 0, grant));
  mode.best_put_s = std::min(mode.best_put_s, Seconds(start));
  std::fill(out.begin(), out.end(), 0.0);
  start = std::chrono::steady_clock::now();
  SRS_RETURN_IF_ERROR(client->ReadRange(put.caps().read(), "x", ElementType::kDouble,
                                        {{0, 1, n, 1}}, out.data(), n * sizeof(double)));
  mode.best_read_s = std::min(mode.best_read_s, Seconds(start));
  for (int64_t i = 0; i < n; i += 1 + n / 97) {
    if (out[i] != data[i]) return absl::DataLossError("restart read wrong values");
  }
  return client->Delete(put.caps().manage());
}

int Run(int64_t bytes, int rounds, const std::string& parent, bool json) {
  std::string tmpl = parent + "/srs-bench-tls.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Fail("mkdtemp", absl::InternalError(tmpl));
  const std::string work = tmpl;
  if (!MakeCertificates(work)) {
    return Fail("openssl", absl::FailedPreconditionError("cannot make test certificates"));
  }
  const int64_t n = bytes / 8;
  std::vector<double> data(n), out(n);
  for (int64_t i = 0; i < n; ++i) data[i] = i * 0.25;
  piece::DatasetWrite ds{"x", ElementType::kDouble, data.data(), n, n, "none", {}};
  auto image = piece::WritePieceImage(piece::PieceHeader{"bench-tls", 1, 0, 1, ""}, {ds});
  if (!image.ok()) return Fail("WritePieceImage", image.status());

  GrantKey key = GrantKey::Generate();
  std::vector<Mode> modes(2);
  modes[0].name = "plain";
  modes[1].name = "tls";
  modes[1].server = {work + "/ca.pem", work + "/server.pem", work + "/server.key"};
  modes[1].client = {work + "/ca.pem", work + "/client.pem", work + "/client.key"};
  for (Mode& mode : modes) {
    absl::Status started = StartMode(mode, work + "/depot-" + mode.name, key);
    if (!started.ok()) return Fail("start depot " + mode.name, started);
  }
  for (int r = 0; r < rounds; ++r) {
    for (Mode& mode : modes) {
      absl::Status done = Round(mode, r, *image, key, n, out, data);
      if (!done.ok()) return Fail(mode.name + " round", done);
    }
  }
  const double mb = static_cast<double>(image->size()) / 1e6;
  std::vector<std::pair<std::string, double>> lines = {
      {"size_bytes", static_cast<double>(image->size())},
      {"checkpoint_plain_MBps", mb / modes[0].best_put_s},
      {"checkpoint_tls_MBps", mb / modes[1].best_put_s},
      {"tls_checkpoint_ratio", modes[0].best_put_s / modes[1].best_put_s},
      {"restart_plain_MBps", mb / modes[0].best_read_s},
      {"restart_tls_MBps", mb / modes[1].best_read_s},
      {"tls_restart_ratio", modes[0].best_read_s / modes[1].best_read_s},
  };
  if (json) std::printf("{");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (json) {
      std::printf("%s\"%s\": %.4g", i ? ", " : "", lines[i].first.c_str(), lines[i].second);
    } else {
      std::printf("%s: %.4g\n", lines[i].first.c_str(), lines[i].second);
    }
  }
  if (json) std::printf("}\n");
  for (Mode& mode : modes) mode.depot->Shutdown(absl::Seconds(5));
  std::system(("rm -rf '" + work + "'").c_str());
  return 0;
}

}  // namespace
}  // namespace srs

int main(int argc, char** argv) {
  int64_t size = int64_t{256} << 20;
  int rounds = 3;
  std::string dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--size" && i + 1 < argc) {
      char* end = nullptr;
      double value = std::strtod(argv[++i], &end);
      std::string unit = end ? end : "";
      if (unit == "K" || unit == "k") value *= 1 << 10;
      if (unit == "M" || unit == "m") value *= 1 << 20;
      if (unit == "G" || unit == "g") value *= 1 << 30;
      size = static_cast<int64_t>(value);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: srs-bench-tls [--size BYTES[K|M|G]] [--rounds N] [--dir DIR] [--json]\n"
                   "  checkpoint (put) and restart (ranged read) through gRPC to a depot, plain\n"
                   "  and with mutual TLS, in the same run; ratios = TLS / plain throughput\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (size < (1 << 20)) size = 1 << 20;
  srs::SetLogLevel(srs::LogLevel::kWarning);
  return srs::Run(size, rounds, dir, json);
}
