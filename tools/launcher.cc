#include "tools/launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace srs::tools {
namespace {

// `name` resolved like execvp would: a path as it is, a bare name through PATH only (not next
// to `srs`: that is where srs-rss lives, not the user's tools).
absl::StatusOr<std::string> ResolveOnPath(const std::string& name, const std::string& what) {
  if (name.find('/') != std::string::npos) {
    struct stat st;
    if (stat(name.c_str(), &st) != 0) {
      return absl::NotFoundError(
          absl::StrCat(what, " ", name, " cannot be started: ", std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode) || access(name.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", name, " cannot be started: not an executable file"));
    }
    return name;
  }
  const char* path_env = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path_env != nullptr ? path_env : "", ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(
      absl::StrCat(what, " ", name, " cannot be started: not found on PATH"));
}

// Runs in the forked child only: async-signal-safe calls until exec. Reports an exec failure's
// errno through `error_fd` (close-on-exec, so a successful exec closes it silently).
[[noreturn]] void ExecLauncher(const std::vector<char*>& argv, bool die_with_parent, int error_fd,
                               int stdout_fd) {
  setpgid(0, 0);
  if (stdout_fd >= 0) dup2(stdout_fd, STDOUT_FILENO);
  if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGINT);
  if (isatty(STDIN_FILENO)) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execv(argv[0], argv.data());
  int err = errno;
  ssize_t ignored = write(error_fd, &err, sizeof(err));
  (void)ignored;
  _exit(127);
}

}  // namespace

// The launcher's stdout (its own and the ranks'), passed on to ours by a thread of its own as it
// comes, which notes the signal Hydra names when it reports a rank that was killed (Hydra writes
// that report to stdout).
struct LaunchedJob::OutputWatch {
  int fd = -1;                      // read end of the launcher's stdout
  std::atomic<int> rank_signal{0};  // N of Hydra's "EXIT STRING: ... (signal N)", 0 = none
  std::atomic<bool> done{false};    // the launcher's stdout reached end of file

  static void Forward(std::shared_ptr<OutputWatch> watch) {
    char buf[4096];
    std::string line;
    for (;;) {
      ssize_t n = read(watch->fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t wrote = write(STDOUT_FILENO, buf + off, n - off);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) break;  // our stdout is gone: keep reading, or the launcher blocks
        off += wrote;
      }
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] != '\n') {
          if (line.size() < 512) line += buf[i];
          continue;
        }
        int sig = RankSignalIn(line);
        if (sig != 0) watch->rank_signal = sig;
        line.clear();
      }
    }
    close(watch->fd);
    watch->done = true;
  }
};

int RankSignalIn(absl::string_view line) {
  // Hydra (MPICH 3.x-4.x): "YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)".
  if (!absl::StrContains(line, "EXIT STRING:")) return 0;
  size_t at = line.rfind("(signal ");
  if (at == absl::string_view::npos) return 0;
  int sig = 0;
  for (size_t i = at + 8; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    sig = sig * 10 + (line[i] - '0');
    if (sig > 64) return 0;
  }
  return sig;
}

absl::StatusOr<std::string> FindLauncher(const std::string& requested) {
  const char* env = std::getenv("SRS_MPIEXEC");
  std::string configured = !requested.empty() ? requested : (env != nullptr ? env : "");
  if (!configured.empty()) {
    return ResolveOnPath(
        configured,
        absl::StrCat("the MPI launcher (", requested.empty() ? "SRS_MPIEXEC" : "--mpiexec", ")"));
  }
  for (const char* name : {"mpiexec.mpich", "mpiexec.hydra"}) {
    absl::StatusOr<std::string> found = ResolveOnPath(name, "the MPI launcher");
    if (found.ok()) return found;
  }
  return absl::NotFoundError(
      "the MPI launcher cannot be started: no mpiexec.mpich or mpiexec.hydra on PATH (install "
      "mpich, or give MPICH's mpiexec with --mpiexec or SRS_MPIEXEC)");
}

absl::Status CheckProgram(const std::string& program) {
  absl::StatusOr<std::string> found = ResolveOnPath(program, "the program");
  if (found.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(found.status().message());
}

std::vector<std::string> LauncherArgv(const std::string& launcher, const LaunchOptions& options) {
  std::vector<std::string> argv = {launcher};
  if (options.fork_launcher) argv.insert(argv.end(), {"-launcher", "fork"});
  argv.insert(argv.end(), {"-n", std::to_string(options.nprocs)});
  if (!options.hosts.empty()) argv.insert(argv.end(), {"-hosts", options.hosts});
  if (!options.hostfile.empty()) argv.insert(argv.end(), {"-f", options.hostfile});
  argv.insert(argv.end(), options.command.begin(), options.command.end());
  return argv;
}

absl::StatusOr<LaunchedJob> LaunchedJob::Start(const std::vector<std::string>& argv,
                                               bool die_with_parent) {
  std::vector<char*> cargv;
  for (const std::string& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  int out_fds[2];
  if (pipe2(out_fds, O_CLOEXEC) != 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) ExecLauncher(cargv, die_with_parent, fds[1], out_fds[1]);
  close(fds[1]);
  close(out_fds[1]);
  auto watch = std::make_shared<OutputWatch>();
  watch->fd = out_fds[0];
  std::thread(OutputWatch::Forward, watch).detach();
  if (pid < 0) {
    close(fds[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  int err = 0;
  ssize_t n;
  do {
    n = read(fds[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == static_cast<ssize_t>(sizeof(err))) {
    waitpid(pid, nullptr, 0);
    return absl::FailedPreconditionError(
        absl::StrCat("could not start the launcher ", argv[0], ": ", std::strerror(err)));
  }
  return LaunchedJob(pid, std::move(watch));
}

std::optional<int> LaunchedJob::Poll() {
  if (status_.has_value()) return status_;
  int wstatus = 0;
  pid_t done = waitpid(pid_, &wstatus, WNOHANG);
  if (done != pid_) return std::nullopt;
  status_ = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  // Hydra exits with the bare signal number N when a rank was killed (9 for SIGKILL), which a job
  // exiting 9 by itself also gives; its report on stdout tells them apart. The report comes
  // before its exit; the end of its stdout is waited for briefly (a rank that outlived it may
  // still hold the pipe).
  for (int i = 0; i < 100 && watch_ != nullptr && !watch_->done; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  int sig = watch_ != nullptr ? watch_->rank_signal.load() : 0;
  if (sig != 0 && *status_ == sig) status_ = 128 + sig;
  return status_;
}

std::vector<pid_t> Descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;  // parent -> child
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return {};
  while (dirent* entry = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
    std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // Fields after the command name, which may itself hold spaces and parentheses.
    size_t close_paren = text.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(text.substr(close_paren + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    children.emplace(ppid, pid);
  }
  closedir(proc);
  std::vector<pid_t> out;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    pid_t parent = todo.back();
    todo.pop_back();
    auto range = children.equal_range(parent);
    for (auto it = range.first; it != range.second; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

void LaunchedJob::KillTree() {
  if (status_.has_value()) return;
  // Collected first, killed together: a rank whose proxy died first would be re-parented and
  // escape a walk made after the kill.
  std::vector<pid_t> tree = Descendants(pid_);
  kill(pid_, SIGKILL);
  for (pid_t pid : tree) kill(pid, SIGKILL);
}

}  // namespace srs::tools
