#include "tools/site.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/owner_file.h"
#include "common/random.h"
#include "common/secret_file.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "tools/daemons.h"

namespace srs::tools {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);

std::string CurrentDirectory() {
  char buffer[4096];
  if (getcwd(buffer, sizeof(buffer)) == nullptr) return ".";
  return buffer;
}

std::string LocalHostName() {
  char buffer[256] = {0};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "localhost";
  return buffer;
}

// A loopback port nobody uses right now (the daemon then binds it explicitly).
int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

struct Ports {
  int rss = 0;
  int depot = 0;
  std::string host = "127.0.0.1";  // what the RSS listens on
};

Ports ReadPorts(const std::string& path) {
  Ports ports;
  std::ifstream in(path);
  std::string key;
  std::string value;
  while (in >> key >> value) {
    if (key == "rss") (void)absl::SimpleAtoi(value, &ports.rss);
    if (key == "depot") (void)absl::SimpleAtoi(value, &ports.depot);
    if (key == "host") ports.host = value;
  }
  return ports;
}

std::string RssListenArg(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                             : absl::StrCat(host, ":", port);
}

// Whether the private daemons serve TLS: off loopback, with tls_cert and tls_key configured.
bool ServesTls(const Site& site) {
  return !tls::IsLoopbackListen(RssListenArg(site.listen_host, 0)) &&
         !site.config.GetString("tls_cert", "").empty() &&
         !site.config.GetString("tls_key", "").empty();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot rename ", tmp, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Serializes concurrent tools in one directory while they inspect and start the daemons, so two
// never start two RSSes on the same state. Released when the returned fd is closed.
absl::StatusOr<int> LockStateDir(const std::string& state_dir) {
  std::string path = state_dir + "/lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    if (fd >= 0) close(fd);
    return absl::PermissionDeniedError(
        absl::StrCat("cannot lock ", path, ": ", std::strerror(errno)));
  }
  return fd;
}

int PortOf(const std::string& address) {
  int port = 0;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) return 0;
  return port;
}

// Starts a private daemon on `port` (0 = any). If the remembered port is taken, falls back to a
// free one and says what that means.
absl::StatusOr<StartedDaemon> StartOnPort(const std::string& name, std::vector<std::string> argv,
                                          const Site& site, int port) {
  const std::string& state_dir = site.state_dir;
  std::string out = absl::StrCat(state_dir, "/", name, ".out");
  std::string err = absl::StrCat(state_dir, "/", name, ".log");
  argv.insert(argv.begin() + 1, {"--listen", RssListenArg(site.listen_host, port)});
  std::vector<std::string> network = NetworkFlags(site);
  argv.insert(argv.end(), network.begin(), network.end());
  absl::StatusOr<StartedDaemon> started = StartDaemon(argv, out, err, kStartTimeout);
  if (started.ok() || port == 0) return started;
  std::fprintf(stderr, "srs: %s could not use its port %d (%s); using a new port\n", name.c_str(),
               port, std::string(started.status().message()).c_str());
  argv[2] = RssListenArg(site.listen_host, 0);
  return StartDaemon(argv, out, err, kStartTimeout);
}

absl::Status WaitDepotRegistered(const Site& site, const std::string& depot_address) {
  SRS_ASSIGN_OR_RETURN(RssAdmin admin, ConnectAdmin(site));
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    absl::StatusOr<rssv1::ListDepotsResponse> depots = admin.ListDepots();
    if (depots.ok()) {
      for (const rssv1::DepotRecord& depot : depots->depots()) {
        if (PortOf(depot.address()) == PortOf(depot_address)) return absl::OkStatus();
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("the private depot at ", depot_address,
                                                  " did not register with the RSS at ", site.rss,
                                                  "; see ", site.state_dir, "/depot.log"));
}

absl::Status WriteJobConfig(const Site& site, int rss_port, int depot_port) {
  SRS_RETURN_IF_ERROR(WriteFileAtomically(
      site.state_dir + "/ports",
      absl::StrCat("rss ", rss_port, "\ndepot ", depot_port, "\nhost ", site.listen_host, "\n")));
  std::string text =
      absl::StrCat("# Written by srs for the private srs-rss and srs-depot of ", CurrentDirectory(),
                   ".\n", "rss = ", site.rss, "\n", "depot = auto\n",
                   "token_file = ", site.token_file, "\n", "owner_file = ", site.owner_file, "\n");
  // The jobs read this file, not ./srs.config: they need the TLS of the channels they open
  // when the private daemons serve TLS (off loopback with tls_* configured, see NetworkFlags).
  for (const char* key : {"tls_ca", "tls_cert", "tls_key"}) {
    std::string value = site.config.GetString(key, "");
    if (ServesTls(site) && !value.empty()) absl::StrAppend(&text, key, " = ", value, "\n");
  }
  return WriteFileAtomically(site.config_path, text);
}

// The private depot of this host always listens on loopback (only local ranks use it).
Site LoopbackOnly(const Site& site) {
  Site local = site;
  local.listen_host = "127.0.0.1";
  return local;
}

absl::StatusOr<std::vector<std::string>> RssArgv(const Site& site) {
  SRS_ASSIGN_OR_RETURN(std::string rss_bin, FindExecutable("srs-rss"));
  std::vector<std::string> argv = {rss_bin, "--state", site.state_dir + "/rss"};
  if (site.remote_depots) {
    SRS_RETURN_IF_ERROR(PrivateEnrollSecret(site).status());
    argv.insert(argv.end(), {"--enroll-secret-file", site.state_dir + "/rss/enroll.secret"});
  }
  return argv;
}

absl::Status StartMissing(Site* site, bool need_depot, PrivateDaemons* daemons) {
  Ports ports = ReadPorts(site->state_dir + "/ports");
  std::string rss_address =
      ports.rss > 0 && ports.host == site->listen_host ? RssListenArg(ports.host, ports.rss) : "";
  if (!Listening(rss_address, absl::Milliseconds(500))) {
    SRS_ASSIGN_OR_RETURN(std::vector<std::string> rss_argv, RssArgv(*site));
    SRS_ASSIGN_OR_RETURN(
        StartedDaemon rss,
        StartOnPort("rss", rss_argv, *site, ports.rss > 0 ? ports.rss : PickFreePort()));
    daemons->Adopt("rss", rss.pid);
    rss_address = rss.address;
  }
  site->rss = rss_address;
  ports.rss = PortOf(rss_address);
  std::string depot_address = ports.depot > 0 ? absl::StrCat("127.0.0.1:", ports.depot) : "";
  if (need_depot && !site->remote_depots && !Listening(depot_address, absl::Milliseconds(500))) {
    SRS_ASSIGN_OR_RETURN(std::string depot_bin, FindExecutable("srs-depot"));
    SRS_ASSIGN_OR_RETURN(
        StartedDaemon depot,
        StartOnPort("depot",
                    {depot_bin, "--dir", site->state_dir + "/depot", "--rss", site->rss, "--host",
                     site->host, "--enroll-secret-file", site->state_dir + "/rss/admin.token"},
                    LoopbackOnly(*site), ports.depot > 0 ? ports.depot : PickFreePort()));
    daemons->Adopt("depot", depot.pid);
    ports.depot = PortOf(depot.address);
    SRS_RETURN_IF_ERROR(WaitDepotRegistered(*site, depot.address));
  }
  return WriteJobConfig(*site, ports.rss, ports.depot);
}

}  // namespace

absl::StatusOr<Site> LoadSite() {
  SRS_ASSIGN_OR_RETURN(Config config, Config::Load("", ProcessEnvironment()));
  Site site;
  site.config = config;
  site.host = config.GetString("host", "");
  if (site.host.empty()) site.host = LocalHostName();
  SRS_ASSIGN_OR_RETURN(double timeout, config.GetDouble("rpc_timeout", 30));
  site.rpc_timeout = absl::Seconds(timeout > 0 ? timeout : 30);
  site.rss = config.GetString("rss", "");
  site.embedded = site.rss.empty();
  // TLS of every channel the tool opens (the same keys as the jobs' config).
  absl::Status tls =
      tls::SetClientTls({config.GetString("tls_ca", ""), config.GetString("tls_cert", ""),
                         config.GetString("tls_key", "")});
  if (!tls.ok()) return Annotate(tls, "config keys tls_ca/tls_cert/tls_key");
  if (site.embedded) {
    site.state_dir = CurrentDirectory() + "/.srs";
    site.config_path = site.state_dir + "/srs.config";
    site.token_file = config.GetString("token_file", site.state_dir + "/rss/admin.token");
    site.owner_file = config.GetString("owner_file", site.state_dir + "/owners");
  } else {
    site.config_path = config.source();
    site.token_file = config.GetString("token_file", "");
    site.owner_file = config.GetString("owner_file", DefaultOwnerFile());
  }
  return site;
}

PrivateDaemons::~PrivateDaemons() { StopAll(); }

void PrivateDaemons::StopAll() {
  // The depot first: it may still be telling the RSS about itself.
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    StopProcess(it->pid, absl::Seconds(10));
  }
  children_.clear();
  if (lock_fd_ >= 0) close(lock_fd_);
  lock_fd_ = -1;
}

std::vector<std::pair<std::string, std::string>> PrivateDaemons::ReapDead() {
  std::vector<std::pair<std::string, std::string>> dead;
  for (auto it = children_.begin(); it != children_.end();) {
    int wstatus = 0;
    pid_t done = waitpid(it->pid, &wstatus, WNOHANG);
    if (done != it->pid) {
      ++it;
      continue;
    }
    dead.emplace_back(it->name, WIFSIGNALED(wstatus)
                                    ? absl::StrCat("killed by signal ", WTERMSIG(wstatus))
                                    : absl::StrCat("exited with status ", WEXITSTATUS(wstatus)));
    it = children_.erase(it);
  }
  return dead;
}

absl::Status RestartPrivateDaemon(Site* site, const std::string& name, PrivateDaemons* daemons) {
  Ports ports = ReadPorts(site->state_dir + "/ports");
  int port = name == "rss" ? ports.rss : ports.depot;
  if (port <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no port recorded for the private ", name, " in ", site->state_dir));
  }
  std::vector<std::string> argv;
  std::string listen_host = name == "rss" ? site->listen_host : "127.0.0.1";
  if (name == "rss") {
    SRS_ASSIGN_OR_RETURN(argv, RssArgv(*site));
    std::vector<std::string> network = NetworkFlags(*site);
    argv.insert(argv.end(), network.begin(), network.end());
  } else {
    SRS_ASSIGN_OR_RETURN(std::string depot_bin, FindExecutable("srs-depot"));
    argv = {depot_bin,
            "--dir",
            site->state_dir + "/depot",
            "--rss",
            site->rss,
            "--host",
            site->host,
            "--enroll-secret-file",
            site->state_dir + "/rss/admin.token"};
  }
  argv.insert(argv.begin() + 1, {"--listen", RssListenArg(listen_host, port)});
  // The same port or none: the job's config and the checkpoint records name this address.
  SRS_ASSIGN_OR_RETURN(
      StartedDaemon started,
      StartDaemon(argv, absl::StrCat(site->state_dir, "/", name, ".out"),
                  absl::StrCat(site->state_dir, "/", name, ".log"), kStartTimeout));
  daemons->Adopt(name, started.pid);
  return absl::OkStatus();
}

absl::Status MakeStateDir(const std::string& state_dir, bool create) {
  struct stat st;
  if (stat(state_dir.c_str(), &st) == 0) return absl::OkStatus();
  if (!create) {
    return absl::FailedPreconditionError(
        absl::StrCat("no RSS configured (rss in srs.config or SRS_RSS) and no private one in ",
                     state_dir, "; start a job here with `srs run` first"));
  }
  if (mkdir(state_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", state_dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string OwnerOf(const std::string& state_dir) {
  std::ifstream in(state_dir + "/owner");
  std::string pid;
  in >> pid;
  return pid.empty() ? "?" : pid;
}

// The pid of the `srs run` that owns the private daemons, if it is still alive (0 if not). The
// command name guards against a recycled pid.
pid_t LiveOwner(const std::string& state_dir) {
  int pid = 0;
  if (!absl::SimpleAtoi(OwnerOf(state_dir), &pid) || pid <= 0 || kill(pid, 0) != 0) return 0;
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string name;
  std::getline(comm, name);
  return name == "srs" ? pid : 0;
}

// A tool found the private RSS down while the `srs run` owning it lives: that srs run restarts
// it (it supervises its daemons). Starting a second one here would race it for the port, and
// would die with this tool; so wait for the owner's.
absl::Status WaitForOwnerRestart(const std::string& state_dir, const std::string& address) {
  pid_t owner = LiveOwner(state_dir);
  std::fprintf(stderr,
               "srs: the private RSS at %s is down; srs run (pid %d) restarts it, waiting\n",
               address.c_str(), static_cast<int>(owner));
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (Reachable(address, absl::Milliseconds(500))) return absl::OkStatus();
    if (LiveOwner(state_dir) == 0) return absl::OkStatus();  // it left: start our own
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::UnavailableError(absl::StrCat("the private RSS at ", address,
                                             " did not come back within 60s although srs run "
                                             "(pid ",
                                             owner, ") is alive; see ", state_dir, "/rss.log"));
}

absl::StatusOr<std::unique_ptr<PrivateDaemons>> EnsurePrivateDaemons(Site* site, bool need_depot,
                                                                     bool create, Starter starter) {
  SRS_RETURN_IF_ERROR(MakeStateDir(site->state_dir, create));
  SRS_ASSIGN_OR_RETURN(int lock_fd, LockStateDir(site->state_dir));
  if (starter == Starter::kRun) {
    Ports ports = ReadPorts(site->state_dir + "/ports");
    // Listening(): a refused port means no other srs run serves it, unless its owner lives
    // (then its supervisor may be restarting the RSS, which a short wait can still see).
    std::string address = RssListenArg(ports.host, ports.rss);
    bool owned = LiveOwner(site->state_dir) != 0;
    if (ports.rss > 0 &&
        (owned ? Reachable(address, absl::Seconds(1)) : Listening(address, absl::Seconds(1)))) {
      close(lock_fd);
      return absl::FailedPreconditionError(absl::StrCat(
          "another srs run (pid ", OwnerOf(site->state_dir), ") is using the private daemons of ",
          site->state_dir, "; wait for it, run in another directory, or configure a shared rss"));
    }
  }
  if (starter == Starter::kTool) {
    // A running `srs run --hosts` has its RSS on a network address: the tools use that one.
    Ports ports = ReadPorts(site->state_dir + "/ports");
    if (ports.rss > 0 && Listening(RssListenArg(ports.host, ports.rss), absl::Seconds(1))) {
      site->listen_host = ports.host;
    }
  }
  if (starter == Starter::kTool && LiveOwner(site->state_dir) != 0) {
    Ports ports = ReadPorts(site->state_dir + "/ports");
    std::string address = RssListenArg(ports.host, ports.rss);
    if (ports.rss > 0 && !Reachable(address, absl::Seconds(1))) {
      close(lock_fd);  // the owner does not take it to restart, but keep waits lock-free
      SRS_RETURN_IF_ERROR(WaitForOwnerRestart(site->state_dir, address));
      SRS_ASSIGN_OR_RETURN(lock_fd, LockStateDir(site->state_dir));
    }
  }
  auto daemons = std::make_unique<PrivateDaemons>();
  absl::Status status = StartMissing(site, need_depot, daemons.get());
  if (status.ok() && starter == Starter::kRun) {
    status = WriteFileAtomically(site->state_dir + "/owner", absl::StrCat(getpid(), "\n"));
  }
  if (status.ok() && starter == Starter::kTool && daemons->started_any()) {
    daemons->HoldLock(lock_fd);
  } else {
    close(lock_fd);
  }
  if (!status.ok()) return status;
  return daemons;
}

std::vector<std::string> NetworkFlags(const Site& site) {
  if (tls::IsLoopbackListen(RssListenArg(site.listen_host, 0))) return {};
  if (ServesTls(site)) {
    std::vector<std::string> flags = {"--tls-cert", site.config.GetString("tls_cert", ""),
                                      "--tls-key", site.config.GetString("tls_key", "")};
    std::string ca = site.config.GetString("tls_ca", "");
    if (!ca.empty()) flags.insert(flags.end(), {"--tls-ca", ca});
    return flags;
  }
  static bool warned = false;
  if (!warned) {
    std::fprintf(stderr,
                 "srs: warning: the private daemons serve plain text on %s (no tls_cert/tls_key "
                 "configured; docs/multinode.md)\n",
                 site.listen_host.c_str());
    warned = true;
  }
  return {"--insecure"};
}

absl::StatusOr<std::string> PrivateEnrollSecret(const Site& site) {
  std::string path = site.state_dir + "/rss/enroll.secret";
  absl::StatusOr<std::string> secret = ReadSecretFile(path);
  if (secret.ok() && !absl::StripAsciiWhitespace(*secret).empty()) {
    return std::string(absl::StripAsciiWhitespace(*secret));
  }
  if (!secret.ok() && !absl::IsNotFound(secret.status())) return secret.status();
  mkdir((site.state_dir + "/rss").c_str(), 0700);
  std::string fresh = RandomHex(32);
  SRS_RETURN_IF_ERROR(WriteSecretFile(path, fresh + "\n"));
  return fresh;
}

absl::StatusOr<RssAdmin> ConnectAdmin(const Site& site) {
  // Reachability first: a dead RSS is the more useful thing to report than a token problem.
  if (!Reachable(site.rss, absl::Seconds(5))) {
    return absl::UnavailableError(absl::StrCat(
        "no RSS reachable at ", site.rss, " (is srs-rss running? check rss in ",
        site.embedded ? site.config_path : "srs.config or SRS_RSS", tls::ConnectHint(), ")"));
  }
  std::string token;  // none: the per-job calls use the job's owner secret
  if (!site.token_file.empty()) {
    SRS_ASSIGN_OR_RETURN(token, ReadTokenFile(site.token_file));
  }
  SRS_ASSIGN_OR_RETURN(RssAdmin admin,
                       RssAdmin::Connect(site.rss, token, absl::Seconds(5), site.rpc_timeout));
  admin.set_owner_file(site.owner_file);
  return admin;
}

absl::StatusOr<OpenedSite> OpenSite(bool need_depot) {
  OpenedSite opened;
  SRS_ASSIGN_OR_RETURN(opened.site, LoadSite());
  if (opened.site.embedded) {
    SRS_ASSIGN_OR_RETURN(opened.daemons, EnsurePrivateDaemons(&opened.site, need_depot,
                                                              /*create=*/false, Starter::kTool));
  }
  return opened;
}

}  // namespace srs::tools
