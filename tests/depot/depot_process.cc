#include "tests/depot/depot_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace srs {
namespace testing {

absl::StatusOr<std::unique_ptr<DepotProcess>> DepotProcess::Start(const std::string& binary,
                                                                  std::vector<std::string> args,
                                                                  const std::string& log_path,
                                                                  const std::string& ready_prefix) {
  bool has_listen = false;
  for (const std::string& a : args) has_listen |= a == "--listen";
  if (!has_listen) args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    dup2(out[1], 1);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log >= 0) dup2(log, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  std::unique_ptr<DepotProcess> process(new DepotProcess());
  process->pid_ = pid;
  process->log_path_ = log_path;
  std::string line;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  char c;
  while (absl::Now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    if (read(out[0], &c, 1) != 1) break;  // EOF: the daemon died
    if (c == '\n') break;
    line += c;
  }
  close(out[0]);  // later stdout writes hit a closed pipe; the daemon prints only this line
  const std::string& prefix = ready_prefix;
  if (!absl::StartsWith(line, prefix)) {
    return absl::UnavailableError(
        absl::StrCat(binary, " did not start (stdout '", line, "'); log:\n", process->ReadLog()));
  }
  process->address_ = line.substr(prefix.size());
  return process;
}

std::string DepotProcess::ReadLog() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<int> DepotProcess::Stop(int signal, absl::Duration timeout) {
  if (pid_ < 0) return absl::FailedPreconditionError("not running");
  kill(pid_, signal);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return absl::DeadlineExceededError("srs-depot did not exit in time: killed");
}

DepotProcess::~DepotProcess() {
  if (pid_ > 0) Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
}

}  // namespace testing
}  // namespace srs
