// srs-rss: the Runtime Support Service daemon. Flags, signals, and the RssServer; nothing else.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "common/log.h"
#include "common/tls.h"
#include "rss/rss_server.h"

namespace {

constexpr const char* kUsage =
    "usage: srs-rss --listen HOST:PORT --state DIR [--lease SECONDS] [--depot-timeout SECONDS]\n"
    "               [--enroll-secret-file FILE]\n"
    "               [--tls-cert PEM --tls-key PEM [--tls-ca PEM]] [--insecure] [--auto-repair]\n"
    "               [--request-budget-mib N] [--max-jobs N] [--new-jobs-per-minute N]\n"
    "\n"
    "The SRS Runtime Support Service: remembers every run of every job, the stop flag and the\n"
    "committed checkpoints, durably (SQLite in DIR/rss.db; kill -9 loses nothing committed).\n"
    "\n"
    "  --listen HOST:PORT  address to serve srs.rss.v1 on; port 0 picks a free port\n"
    "                      (default 127.0.0.1:0); prints 'srs-rss listening on HOST:PORT'\n"
    "  --state DIR         state directory (created; holds rss.db and admin.token, mode 0600)\n"
    "  --lease SECONDS     a running job whose watch stream is gone this long is marked lost\n"
    "                      (default 10, at most 86400)\n"
    "  --depot-timeout SECONDS  a depot that has not re-registered (its heartbeat) for this long,\n"
    "                      or for three of its heartbeats + 2 s if longer, is \"down\": no new\n"
    "                      pieces go there and restarts read other copies (default 15, "
    "0.1..86400)\n"
    "  --enroll-secret-file FILE  site secret depots may enroll with (besides the admin\n"
    "                      token); RegisterDepot without either is refused\n"
    "  --tls-cert PEM, --tls-key PEM  serve TLS with this certificate and key\n"
    "  --tls-ca PEM        require client certificates signed by this CA (mutual TLS); also\n"
    "                      the CA the depots' certificates must chain to (RSS -> depot calls)\n"
    "  --insecure          allow plain text on a non-loopback --listen (refused otherwise)\n"
    "  --auto-repair       every minute, re-create the missing copies of every job's committed\n"
    "                      checkpoints (as `srs repair` does) once a depot has been down for\n"
    "                      5 minutes; off by default\n"
    "  --request-budget-mib N  large requests (RegisterRun, BeginCheckpoint, ReportPieces)\n"
    "                      processed at once may total N MiB on the wire (default 64); a call\n"
    "                      that does not fit within 5 s (or finds N MiB already waiting) is\n"
    "                      refused with RESOURCE_EXHAUSTED\n"
    "                      ('try again'); 0 = unbounded\n"
    "  --max-jobs N        at most N jobs (default 100000); a registration that would create\n"
    "                      one more is refused with RESOURCE_EXHAUSTED; 0 = no cap\n"
    "  --new-jobs-per-minute N  jobs created without the admin token: at most N a minute after\n"
    "                      a burst of max(200, N) (default 600); 0 = no limit\n"
    "  --help              this text\n"
    "  --version           print the version and exit\n"
    "\n"
    "Requests are limited to 64 MiB and validated; a job's later registrations need its owner\n"
    "secret or the admin token (docs/security.md).\n"
    "\n"
    "Logs go to stderr (SRS_LOG=debug|info|warning|error, default info). SIGTERM/SIGINT shut\n"
    "down gracefully and exit 0.\n";

int Usage(const std::string& error) {
  std::cerr << "srs-rss: " << error << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  srs::RssServerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "srs-rss " SRS_PROJECT_VERSION "\n";
      return 0;
    }
    if (arg == "--insecure") {
      options.insecure = true;
      continue;
    }
    if (arg == "--auto-repair") {
      options.auto_repair_interval = absl::Minutes(1);
      continue;
    }
    if (i + 1 >= argc) return Usage("missing value for " + arg);
    std::string value = argv[++i];
    if (arg == "--listen") {
      options.listen = value;
    } else if (arg == "--state") {
      options.state_dir = value;
    } else if (arg == "--enroll-secret-file") {
      options.enroll_secret_file = value;
    } else if (arg == "--tls-cert") {
      options.tls.cert = value;
    } else if (arg == "--tls-key") {
      options.tls.key = value;
    } else if (arg == "--tls-ca") {
      options.tls.ca = value;
    } else if (arg == "--request-budget-mib") {
      int64_t mib = 0;
      if (!absl::SimpleAtoi(value, &mib) || mib < 0 || mib > (int64_t{1} << 30)) {
        return Usage("--request-budget-mib needs a number of MiB >= 0, got '" + value + "'");
      }
      options.request_budget_bytes = mib << 20;
    } else if (arg == "--max-jobs") {
      if (!absl::SimpleAtoi(value, &options.max_jobs) || options.max_jobs < 0) {
        return Usage("--max-jobs needs a count >= 0, got '" + value + "'");
      }
    } else if (arg == "--new-jobs-per-minute") {
      if (!absl::SimpleAtoi(value, &options.new_jobs_per_minute) ||
          options.new_jobs_per_minute < 0) {
        return Usage("--new-jobs-per-minute needs a count >= 0, got '" + value + "'");
      }
    } else if (arg == "--lease") {
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || !(seconds >= 0.1 && seconds <= 86400)) {
        return Usage("--lease needs a number of seconds in 0.1..86400, got '" + value + "'");
      }
      options.lease = absl::Seconds(seconds);
    } else if (arg == "--depot-timeout") {
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || !(seconds >= 0.1 && seconds <= 86400)) {
        return Usage("--depot-timeout needs a number of seconds in 0.1..86400, got '" + value +
                     "'");
      }
      options.depot_down_timeout = absl::Seconds(seconds);
    } else {
      return Usage("unknown option " + arg);
    }
  }
  if (options.state_dir.empty()) return Usage("--state DIR is required");
  // Bad TLS files are a usage error like a bad flag (exit 2, as srs-depot), found before anything
  // starts: gRPC would otherwise only say that it cannot listen.
  if (auto credentials = srs::tls::MakeServerCredentials(options.tls); !credentials.ok()) {
    std::cerr << "srs-rss: " << credentials.status().message() << "\n";
    return 2;
  }

  srs::SetLogComponent("rss");
  const char* level = std::getenv("SRS_LOG");
  srs::SetLogLevel(srs::ParseLogLevel(level ? level : "", srs::LogLevel::kInfo));

  // Block the signals before any thread exists, so only the sigwait thread receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The RSS's own calls to depots (pin, delete) use the same certificate and CA.
  if (absl::Status tls = srs::tls::SetClientTls(options.tls); !tls.ok()) {
    std::cerr << "srs-rss: " << tls.message() << "\n";
    return 2;  // the same files as above: a usage error
  }
  absl::StatusOr<std::unique_ptr<srs::RssServer>> server = srs::RssServer::Start(options);
  if (!server.ok()) {
    std::cerr << "srs-rss: " << server.status().message() << "\n";
    return 1;
  }
  std::printf("srs-rss listening on %s\n", (*server)->address().c_str());
  std::fflush(stdout);

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    SRS_LOG(INFO) << "signal " << strsignal(sig) << ": draining";
    (*server)->Shutdown(absl::Now() + absl::Seconds(5));
  });
  (*server)->Wait();
  signal_thread.join();
  server->reset();  // closes the database
  return 0;
}
