#include "tools/daemons.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace srs::tools {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// Runs in the forked child only: async-signal-safe calls until exec.
[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  setpgid(0, 0);
  // A batch system's SIGTERM reaches every process of the job at once (Slurm signals the whole
  // step); the daemons must outlive it to take the job's last checkpoint. Ignored dispositions
  // survive exec, and the daemons shut down as gracefully on SIGINT, which srs sends them.
  signal(SIGTERM, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGINT);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

std::string ListeningAddress(const std::string& out_path) {
  std::ifstream in(out_path);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find("listening on ");
    if (at != std::string::npos) {
      return std::string(absl::StripAsciiWhitespace(line.substr(at + 13)));
    }
  }
  return "";
}

}  // namespace

std::string SelfDirectory() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return ".";
  std::string path(buffer, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

absl::StatusOr<std::string> FindExecutable(const std::string& name) {
  std::string beside = SelfDirectory() + "/" + name;
  if (IsExecutableFile(beside)) return beside;
  const char* path_env = std::getenv("PATH");
  std::string path_list = path_env != nullptr ? path_env : "";
  for (absl::string_view dir : absl::StrSplit(path_list, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("cannot find ", name, " next to srs (", SelfDirectory(),
                                          ") or on PATH; build it or add it to PATH"));
}

std::string FileTail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) all.push_back(line);
  }
  size_t first = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + first, all.end(), " | ");
}

absl::StatusOr<StartedDaemon> StartDaemon(const std::vector<std::string>& argv,
                                          const std::string& out_path, const std::string& err_path,
                                          absl::Duration timeout) {
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", out_path, ": ", std::strerror(errno)));
  }
  pid_t pid = fork();
  if (pid == 0) ExecChild(argv, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::string address = ListeningAddress(out_path);
    if (!address.empty()) return StartedDaemon{pid, address};
    int wstatus = 0;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      return absl::UnavailableError(
          absl::StrCat(argv[0], " exited before serving: ", FileTail(err_path, 3)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  StopProcess(pid, absl::Seconds(2));
  return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not report its address within ",
                                                  absl::FormatDuration(timeout), ": ",
                                                  FileTail(err_path, 3)));
}

void StopProcess(pid_t pid, absl::Duration grace) {
  if (pid <= 0) return;
  kill(pid, SIGINT);  // not SIGTERM: the private daemons ignore it (see ExecChild)
  absl::Time deadline = absl::Now() + grace;
  while (absl::Now() < deadline) {
    pid_t done = waitpid(pid, nullptr, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace srs::tools
