// srs-depot: the storage depot daemon (DESIGN.md §4, docs/architecture.md "Daemon command
// lines"). Flags only; everything else is DepotServer.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "common/log.h"
#include "common/tls.h"
#include "depot/depot_server.h"

namespace {

constexpr char kUsage[] =
    "usage: srs-depot --listen HOST:PORT --dir DIR [--capacity BYTES] [--rss HOST:PORT]\n"
    "                 [--host NAME] [--failure-domain NAME] [--heartbeat SECONDS]\n"
    "                 [--lease SECONDS] [--enroll-secret-file FILE]\n"
    "                 [--enroll-secret-env VAR] [--ignore-sigterm]\n"
    "                 [--grant-key FILE] [--tls-cert PEM --tls-key PEM [--tls-ca PEM]] "
    "[--insecure]\n"
    "  --listen    address to serve on; port 0 picks a free port (default 127.0.0.1:0)\n"
    "  --dir       directory holding the pieces (created if missing)\n"
    "  --capacity  bytes the depot may store; 0 = unlimited (default)\n"
    "  --rss       register with this RSS (re-registered every --heartbeat seconds)\n"
    "  --host      host name to register (default: gethostname())\n"
    "  --failure-domain  what a redundant copy must not share with this depot (a rack, a\n"
    "              power feed...); default: the host\n"
    "  --heartbeat seconds between registrations (1..3600, default 5); the RSS marks the depot\n"
    "              down after about three missed ones\n"
    "  --lease     default lease of unpinned pieces, seconds (default 3600, at most 366 days)\n"
    "  --enroll-secret-file  file with the enrollment secret sent to the RSS (its admin.token\n"
    "              or the site secret given to srs-rss --enroll-secret-file); the RSS answers\n"
    "              with the key that write grants are checked with\n"
    "  --enroll-secret-env  read the enrollment secret from environment variable VAR instead\n"
    "              (no shared file needed: `srs run --hosts` starts depots through mpiexec so)\n"
    "  --grant-key file with the write-grant key (64 hex chars, mode 0600) for a depot without\n"
    "              an RSS; without a key (from here or the RSS) every write is refused\n"
    "  --tls-cert, --tls-key  serve TLS with this certificate and key (PEM)\n"
    "  --tls-ca    require client certificates signed by this CA (mutual TLS); also the CA the\n"
    "              RSS's certificate must chain to\n"
    "  --insecure  allow plain text on a non-loopback --listen address (refused otherwise)\n"
    "  --ignore-sigterm  ignore SIGTERM (a batch system's signal to every process of a job);\n"
    "              SIGINT still stops the depot\n"
    "  --version   print the version and exit\n"
    "Prints 'srs-depot listening on HOST:PORT' once serving; SIGTERM/SIGINT drain and exit 0.\n"
    "Exit status: 2 for a usage error (a bad flag or TLS file), 1 when it cannot start (the\n"
    "address is taken, the directory is not usable, the RSS refuses it).\n"
    "Logs go to stderr; SRS_LOG=debug|info|warning|error sets the level (default info).\n";

int Fail(const std::string& message) {
  std::cerr << "srs-depot: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  srs::SetLogComponent("depot");
  srs::SetLogLevel(
      srs::ParseLogLevel(getenv("SRS_LOG") ? getenv("SRS_LOG") : "info", srs::LogLevel::kInfo));
  srs::depot::DepotServerOptions options;
  int64_t lease = 3600;
  bool ignore_sigterm = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return std::cout << kUsage, 0;
    if (flag == "--version") return std::cout << "srs-depot " SRS_PROJECT_VERSION "\n", 0;
    if (flag == "--insecure") {
      options.insecure = true;
      continue;
    }
    if (flag == "--ignore-sigterm") {
      ignore_sigterm = true;
      continue;
    }
    if (i + 1 >= argc) return Fail("missing value for " + flag);
    std::string value = argv[++i];
    if (flag == "--listen") {
      options.listen = value;
    } else if (flag == "--dir") {
      options.dir = value;
    } else if (flag == "--rss") {
      options.rss = value;
    } else if (flag == "--host") {
      options.host = value;
    } else if (flag == "--enroll-secret-file") {
      options.enroll_secret_file = value;
    } else if (flag == "--enroll-secret-env") {
      const char* secret = getenv(value.c_str());
      if (secret == nullptr || *secret == '\0') {
        return Fail("--enroll-secret-env: environment variable " + value + " is not set");
      }
      options.enroll_secret = secret;
      unsetenv(value.c_str());  // not inherited by anything this process starts
    } else if (flag == "--grant-key") {
      options.grant_key_file = value;
    } else if (flag == "--tls-cert") {
      options.tls.cert = value;
    } else if (flag == "--tls-key") {
      options.tls.key = value;
    } else if (flag == "--tls-ca") {
      options.tls.ca = value;
    } else if (flag == "--capacity") {
      if (!absl::SimpleAtoi(value, &options.capacity_bytes) || options.capacity_bytes < 0) {
        return Fail("--capacity must be a byte count >= 0");
      }
    } else if (flag == "--failure-domain") {
      options.failure_domain = value;
    } else if (flag == "--heartbeat") {
      int seconds = 0;
      if (!absl::SimpleAtoi(value, &seconds) || seconds < 1 || seconds > 3600) {
        return Fail("--heartbeat must be a whole number of seconds in 1..3600");
      }
      options.register_interval = absl::Seconds(seconds);
    } else if (flag == "--lease") {
      if (!absl::SimpleAtoi(value, &lease) || lease <= 0 || lease > srs::depot::kMaxLeaseSeconds) {
        return Fail("--lease must be > 0 and at most 366 days");
      }
    } else {
      return Fail("unknown option " + flag);
    }
  }
  if (options.dir.empty()) return Fail("--dir is required");
  // Bad TLS files are a usage error like a bad flag (exit 2, as srs-rss), found before anything
  // starts: gRPC would otherwise only say that it cannot listen.
  if (auto credentials = srs::tls::MakeServerCredentials(options.tls); !credentials.ok()) {
    std::cerr << "srs-depot: " << credentials.status().message() << "\n";
    return 2;
  }
  options.default_lease = absl::Seconds(lease);

  // Block the signals before any thread starts, so only sigwait below receives them: no gRPC
  // call ever runs in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  // --ignore-sigterm: a batch system signals every process of a job at once, and a depot
  // started for the job must live on to serve its last checkpoint; SIGINT still stops it.
  if (ignore_sigterm) {
    signal(SIGTERM, SIG_IGN);
  } else {
    sigaddset(&signals, SIGTERM);
  }
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a vanished stdout reader (test harness) must not kill the depot

  auto server = srs::depot::DepotServer::Start(options);
  if (!server.ok()) {
    // A run-time failure (address taken, directory not usable, RSS refusing the enrollment),
    // not a usage error: exit 1 with the reason and no usage text, as srs-rss does.
    std::cerr << "srs-depot: cannot start: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "srs-depot listening on " << (*server)->address() << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  SRS_LOG(INFO) << "signal " << signal_number << " received";
  (*server)->Shutdown(absl::Seconds(10));
  (*server)->Wait();
  SRS_LOG(INFO) << "depot stopped";
  return 0;
}
