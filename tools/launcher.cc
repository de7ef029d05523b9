#include "tools/launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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
[[noreturn]] void ExecLauncher(const std::vector<char*>& argv, bool die_with_parent, int error_fd) {
  setpgid(0, 0);
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
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) ExecLauncher(cargv, die_with_parent, fds[1]);
  close(fds[1]);
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
  return LaunchedJob(pid);
}

std::optional<int> LaunchedJob::Poll() {
  if (status_.has_value()) return status_;
  int wstatus = 0;
  pid_t done = waitpid(pid_, &wstatus, WNOHANG);
  if (done != pid_) return std::nullopt;
  status_ = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
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
