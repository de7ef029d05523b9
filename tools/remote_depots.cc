#include "tools/remote_depots.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "rss/client/piece_copies.h"
#include "tools/daemons.h"
#include "tools/job_view.h"
#include "tools/launcher.h"

extern char** environ;

namespace srs::tools {
namespace {

// The environment variable the depots read their enrollment secret from (--enroll-secret-env).
constexpr char kSecretVariable[] = "SRS_ENROLL_SECRET";
constexpr absl::Duration kRegisterTimeout = absl::Seconds(60);
// How long depots on the checkpoint's other hosts may still take once every job host has one: a
// launch into a host that is gone does not end (Hydra reports the failed ssh, then waits), and
// a healthy depot registers within a second or two.
constexpr absl::Duration kExtraGrace = absl::Seconds(5);
constexpr absl::Duration kStopGrace = absl::Seconds(15);

int PortOf(const std::string& address) {
  int port = 0;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) return 0;
  return port;
}

// The one port every host's depot listens on, chosen once per directory (a port free here; the
// hosts are other machines, where it is most likely free too) and kept, so that a depot started
// again serves the address the checkpoint records name.
int HostDepotPort(const std::string& state_dir) {
  std::string path = state_dir + "/host-depot-port";
  std::ifstream in(path);
  int port = 0;
  if (in >> port && port > 0) return port;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  socklen_t len = sizeof(addr);
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) close(fd);
  std::ofstream(path, std::ios::trunc) << port << "\n";
  return port;
}

// Runs in the forked child only: async-signal-safe calls until exec.
[[noreturn]] void ExecLauncher(const std::vector<char*>& argv, const std::vector<char*>& envp,
                               int log_fd) {
  setpgid(0, 0);                    // a terminal's Ctrl-C reaches `srs run`, not the depots
  prctl(PR_SET_PDEATHSIG, SIGINT);  // they never outlive `srs run`
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

// Why a depot's launcher failed, from its log: the depot's own one-line error ("srs-depot: ...",
// printed before its usage text) if there is one, else the log's last lines (Hydra's).
std::string LaunchFailure(const std::string& log) {
  std::ifstream in(log);
  std::string line, reason;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "srs-depot: ")) reason = line;
  }
  return !reason.empty() ? reason : FileTail(log, 3);
}

// Creates `path` and its missing parents (mode 0700), like mkdir -p.
absl::Status MakeDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create the depots' directory ", prefix, ": ", std::strerror(errno)));
    }
    if (slash == std::string::npos) return absl::OkStatus();
  }
}

// Reaps `pid` if it has exited (an already reaped pid counts as exited).
bool Exited(pid_t pid) {
  int wstatus = 0;
  pid_t done = waitpid(pid, &wstatus, WNOHANG);
  return done == pid || (done < 0 && errno == ECHILD);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> LaunchHosts(const std::string& hosts,
                                                     const std::string& hostfile) {
  std::vector<std::string> out;
  if (!hostfile.empty()) {
    std::ifstream in(hostfile);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read the hostfile ", hostfile));
    std::string line;
    while (std::getline(in, line)) {
      std::string text(absl::StripAsciiWhitespace(line.substr(0, line.find('#'))));
      if (text.empty()) continue;
      out.push_back(text.substr(0, text.find_first_of(": \t")));
    }
    return out;
  }
  if (hosts.empty()) return out;
  for (absl::string_view host : absl::StrSplit(hosts, ',')) {
    std::string name(absl::StripAsciiWhitespace(host));
    // Hydra's "host:slots" form names the same host.
    name = name.substr(0, name.find(':'));
    if (name.empty())
      return absl::InvalidArgumentError(absl::StrCat("--hosts '", hosts, "' names an empty host"));
    out.push_back(name);
  }
  return out;
}

bool AnyRemoteHost(const std::vector<std::string>& hosts, const std::string& local_host) {
  for (const std::string& host : hosts) {
    if (host != local_host && host != "localhost" && !absl::StartsWith(host, "127.")) return true;
  }
  return false;
}

absl::StatusOr<std::string> LocalAddressToward(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), "9", &hints, &found);
  if (rc != 0 || found == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot resolve host '", host,
                                               "' to find the address it reaches this one by: ",
                                               gai_strerror(rc), " (give --rss-listen ADDR)"));
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  // connect() on a UDP socket only picks the route and the source address: nothing is sent.
  bool ok = fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0;
  int err = errno;
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  if (!ok) {
    return absl::UnavailableError(absl::StrCat(
        "no route to host '", host, "': ", std::strerror(err), " (give --rss-listen ADDR)"));
  }
  char text[INET_ADDRSTRLEN] = {0};
  inet_ntop(AF_INET, &local.sin_addr, text, sizeof(text));
  return std::string(text);
}

std::vector<std::string> CheckpointHosts(const Site& site, const std::string& job, int64_t epoch) {
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site);
  if (!admin.ok()) return {};
  absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
  if (!info.ok()) return {};
  const rssv1::CheckpointSummary* checkpoint = CommittedCheckpoint(*info, epoch);
  if (checkpoint == nullptr) return {};
  absl::StatusOr<rssv1::ListDepotsResponse> depots = admin->ListDepots();
  if (!depots.ok()) return {};
  std::map<std::string, std::string> host_of;  // depot id or address -> host
  for (const rssv1::DepotRecord& depot : depots->depots()) {
    host_of[depot.depot_id()] = depot.host();
    host_of[depot.address()] = depot.host();
  }
  std::set<std::string> seen;
  std::vector<std::string> hosts;
  for (const rssv1::PieceRecord& piece : checkpoint->pieces()) {
    for (const rssv1::PieceCopy& copy : CopiesOf(piece)) {
      auto it = host_of.find(copy.depot_id());
      if (it == host_of.end() || copy.depot_id().empty()) it = host_of.find(copy.depot_address());
      if (it != host_of.end() && seen.insert(it->second).second) hosts.push_back(it->second);
    }
  }
  return hosts;
}

absl::StatusOr<std::unique_ptr<RemoteDepots>> RemoteDepots::Start(const Site& site,
                                                                  const RemoteDepotPlan& plan) {
  std::unique_ptr<RemoteDepots> depots(new RemoteDepots());
  int port = HostDepotPort(site.state_dir);
  if (port <= 0) return absl::InternalError("cannot pick a port for the hosts' depots");
  // The hosts' directories DIR/H are made by each depot; DIR itself here (on the file system
  // the hosts share, like the working directory, or the depot would report it missing).
  SRS_RETURN_IF_ERROR(MakeDirs(plan.dir));
  int64_t since = absl::ToUnixMillis(absl::Now()) - 1000;
  for (const std::string& host : plan.hosts) {
    SRS_RETURN_IF_ERROR(depots->Launch(site, plan, host, /*required=*/true, port));
  }
  for (const std::string& host : plan.extra_hosts) {
    SRS_RETURN_IF_ERROR(depots->Launch(site, plan, host, /*required=*/false, port));
  }
  SRS_RETURN_IF_ERROR(depots->WaitRegistered(site, port, since));
  return depots;
}

absl::Status RemoteDepots::Launch(const Site& site, const RemoteDepotPlan& plan,
                                  const std::string& host, bool required, int port) {
  SRS_ASSIGN_OR_RETURN(std::string depot_bin, FindExecutable("srs-depot"));
  SRS_ASSIGN_OR_RETURN(std::string secret, PrivateEnrollSecret(site));
  std::vector<std::string> argv = {plan.launcher,
                                   "-hosts",
                                   host,
                                   "-n",
                                   "1",
                                   depot_bin,
                                   "--listen",
                                   absl::StrCat("0.0.0.0:", port),
                                   "--dir",
                                   absl::StrCat(plan.dir, "/", host),
                                   "--rss",
                                   site.rss,
                                   "--enroll-secret-env",
                                   kSecretVariable,
                                   "--ignore-sigterm"};
  std::vector<std::string> network = NetworkFlags(site);
  argv.insert(argv.end(), network.begin(), network.end());
  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!absl::StartsWith(*entry, absl::StrCat(kSecretVariable, "=")))
      env_storage.push_back(*entry);
  }
  env_storage.push_back(absl::StrCat(kSecretVariable, "=", secret));
  std::vector<char*> cargv, cenv;
  for (std::string& arg : argv) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  for (std::string& entry : env_storage) cenv.push_back(entry.data());
  cenv.push_back(nullptr);

  Launched launched{host, -1, absl::StrCat(site.state_dir, "/depot-", host, ".log"), required};
  int log_fd = open(launched.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", launched.log, ": ", std::strerror(errno)));
  }
  std::fflush(nullptr);
  launched.pid = fork();
  if (launched.pid == 0) ExecLauncher(cargv, cenv, log_fd);
  close(log_fd);
  if (launched.pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  launched_.push_back(launched);
  return absl::OkStatus();
}

absl::Status RemoteDepots::WaitRegistered(const Site& site, int port, int64_t since_unix_ms) {
  SRS_ASSIGN_OR_RETURN(RssAdmin admin, ConnectAdmin(site));
  absl::Time deadline = absl::Now() + kRegisterTimeout;
  std::set<std::string> registered;  // host names the fresh depots registered under
  std::set<std::string> job_hosts;
  for (const Launched& depot : launched_) {
    if (depot.required) job_hosts.insert(depot.host);
  }
  for (;;) {
    size_t required = 0, waiting = 0;
    for (Launched& depot : launched_) {
      if (depot.pid > 0 && Exited(depot.pid)) {
        if (depot.required) {
          return absl::UnavailableError(
              absl::StrCat("the depot for host ", depot.host,
                           " could not be started: ", FileTail(depot.log, 3)));
        }
        std::fprintf(stderr,
                     "srs run: warning: no depot could be started on %s, which holds copies of "
                     "the checkpoint (%s)\n",
                     depot.host.c_str(), LaunchFailure(depot.log).c_str());
        depot.pid = -1;
      }
      if (depot.pid > 0) ++waiting;
      if (depot.required) ++required;
    }
    absl::StatusOr<rssv1::ListDepotsResponse> depots = admin.ListDepots();
    if (depots.ok()) {
      for (const rssv1::DepotRecord& depot : depots->depots()) {
        if (PortOf(depot.address()) == port && depot.last_seen_unix_ms() >= since_unix_ms) {
          registered.insert(depot.host());
        }
      }
    }
    if (registered.size() >= waiting) return absl::OkStatus();
    // Every job host registered (by name, when the names given are the hosts' own): the
    // checkpoint's other hosts get a short grace only.
    bool job_hosts_in =
        std::includes(registered.begin(), registered.end(), job_hosts.begin(), job_hosts.end());
    if (job_hosts_in && deadline - absl::Now() > kExtraGrace) {
      deadline = absl::Now() + kExtraGrace;
    }
    if (absl::Now() >= deadline) {
      if (registered.size() >= required) {
        for (const Launched& depot : launched_) {
          if (depot.required || depot.pid <= 0 || registered.count(depot.host) > 0) continue;
          std::fprintf(stderr,
                       "srs run: warning: no depot could be started on %s, which holds copies of "
                       "the checkpoint (none registered in time; %s)\n",
                       depot.host.c_str(), LaunchFailure(depot.log).c_str());
        }
        return absl::OkStatus();
      }
      std::vector<std::string> wanted;
      for (const Launched& depot : launched_) wanted.push_back(depot.host);
      return absl::UnavailableError(
          absl::StrCat("the depots of the hosts did not register with the RSS at ", site.rss,
                       " within ", absl::FormatDuration(kRegisterTimeout), ": registered ",
                       registered.empty() ? "none" : absl::StrJoin(registered, ","), " of ",
                       absl::StrJoin(wanted, ","), "; see ", site.state_dir, "/depot-HOST.log"));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

RemoteDepots::~RemoteDepots() { Stop(); }

void RemoteDepots::Stop() {
  // SIGINT to each launcher: Hydra forwards it to the depots, which drain and exit. (They ignore
  // SIGTERM, --ignore-sigterm, like the private daemons: a batch system sends it to every
  // process of the job, and the depots must outlive it to take the job's last checkpoint.)
  for (const Launched& depot : launched_) {
    if (depot.pid > 0) kill(depot.pid, SIGINT);
  }
  absl::Time deadline = absl::Now() + kStopGrace;
  for (Launched& depot : launched_) {
    while (depot.pid > 0 && !Exited(depot.pid)) {
      if (absl::Now() >= deadline) {
        std::vector<pid_t> tree = Descendants(depot.pid);
        kill(depot.pid, SIGKILL);
        for (pid_t pid : tree) kill(pid, SIGKILL);
        waitpid(depot.pid, nullptr, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    depot.pid = -1;
  }
}

}  // namespace srs::tools
