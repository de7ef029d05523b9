#include "bench/suite/daemons.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/suite/bench_paths.h"

namespace srs::bench {
namespace {

// Pids a signal handler must stop; written only from the main thread before signals matter.
constexpr int kMaxPids = 8;
std::atomic<pid_t> g_pids[kMaxPids];

void KillAllOnSignal(int sig) {
  for (auto& p : g_pids) {
    pid_t pid = p.load();
    if (pid > 0) kill(pid, SIGTERM);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void Remember(pid_t pid) {
  for (auto& p : g_pids) {
    pid_t expected = 0;
    if (p.compare_exchange_strong(expected, pid)) return;
  }
}

void Forget(pid_t pid) {
  for (auto& p : g_pids) {
    pid_t expected = pid;
    p.compare_exchange_strong(expected, 0);
  }
}

bool IsExecutable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string SelfDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::string Pick(const std::string& override_path, const char* name, const char* built) {
  if (!override_path.empty()) return IsExecutable(override_path) ? override_path : "";
  std::string next_to_me = SelfDir() + "/" + name;
  if (IsExecutable(next_to_me)) return next_to_me;
  return IsExecutable(built) ? built : "";
}

// Waits up to `seconds` for pid to exit; true if it did (and was reaped).
bool WaitExit(pid_t pid, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

DaemonPaths FindDaemons(const std::string& rss_override, const std::string& depot_override) {
  return DaemonPaths{Pick(rss_override, "srs-rss", SRS_BENCH_RSS_BIN),
                     Pick(depot_override, "srs-depot", SRS_BENCH_DEPOT_BIN)};
}

Daemons::~Daemons() { Stop(); }

bool Daemons::Spawn(const std::vector<std::string>& argv, const std::string& log,
                    std::string* address) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("srs-bench-suite: fork");
    return false;
  }
  if (pid == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open((log + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) _exit(127);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  pids_.push_back(pid);
  Remember(pid);
  for (int i = 0; i < 600; ++i) {  // up to 30 s on a busy machine
    std::string text = ReadFile(log);
    size_t at = text.find("listening on ");
    size_t eol = at == std::string::npos ? at : text.find('\n', at);
    if (eol != std::string::npos) {
      *address = text.substr(at + 13, eol - at - 13);
      return true;
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      Forget(pid);
      pids_.pop_back();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fprintf(stderr, "srs-bench-suite: %s did not start; its stderr:\n%s\n", argv[0].c_str(),
          ReadFile(log + ".err").c_str());
  return false;
}

bool Daemons::Start(const DaemonPaths& paths, const std::string& workdir) {
  if (paths.rss_bin.empty() || paths.depot_bin.empty()) {
    fprintf(stderr,
            "srs-bench-suite: srs-rss or srs-depot not found (use --rss-bin/--depot-bin)\n");
    return false;
  }
  workdir_ = workdir;
  signal(SIGINT, KillAllOnSignal);
  signal(SIGTERM, KillAllOnSignal);
  if (!Spawn({paths.rss_bin, "--listen", "127.0.0.1:0", "--state", workdir + "/rss"},
             workdir + "/rss.out", &rss_address_))
    return false;
  if (!Spawn({paths.depot_bin, "--listen", "127.0.0.1:0", "--dir", depot_dir(), "--rss",
              rss_address_, "--enroll-secret-file", token_file()},
             workdir + "/depot.out", &depot_address_))
    return false;
  // The depot registers itself with the RSS asynchronously, and the token file appears once the
  // RSS serves; give both a moment.
  for (int i = 0; i < 100 && access(token_file().c_str(), R_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return true;
}

void Daemons::Stop() {
  for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) kill(*it, SIGTERM);
  for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) {
    if (!WaitExit(*it, 10.0)) {
      kill(*it, SIGKILL);
      WaitExit(*it, 5.0);
    }
    Forget(*it);
  }
  pids_.clear();
}

}  // namespace srs::bench
