#include "rss/testing/rss_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace srs {

namespace {

// Waits for `pid` to exit until `deadline`; returns its wait status or -1 on timeout.
int WaitUntil(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (got < 0 && errno != EINTR) return 0;  // already reaped
    if (absl::Now() >= deadline) return -1;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RssProcess>> RssProcess::Start(const Options& options) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::string lease = absl::StrCat(options.lease_seconds);
  std::vector<std::string> args = {options.binary,    "--listen", options.listen, "--state",
                                   options.state_dir, "--lease",  lease};
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed: ", std::strerror(errno)));
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::unique_ptr<RssProcess> process(new RssProcess());
  process->pid_ = pid;
  process->stdout_fd_ = fds[0];
  std::string output;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!absl::StrContains(output, "\n") && absl::Now() < deadline) {
    pollfd pfd{fds[0], POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;  // exited before printing
    output.append(buf, n);
  }
  std::string first_line = output.substr(0, output.find('\n'));
  absl::string_view line = first_line;
  if (!absl::ConsumePrefix(&line, "srs-rss listening on ")) {
    return absl::UnavailableError(
        absl::StrCat(options.binary, " did not start (stdout: '", output, "'); see its stderr"));
  }
  process->address_ = std::string(line);
  return process;
}

void RssProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  WaitUntil(pid_, absl::InfiniteFuture());
  pid_ = -1;
}

int RssProcess::Terminate(absl::Duration grace) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = WaitUntil(pid_, absl::Now() + grace);
  if (status == -1) {
    kill(pid_, SIGKILL);
    status = WaitUntil(pid_, absl::InfiniteFuture());
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

RssProcess::~RssProcess() {
  Terminate(absl::Seconds(5));
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

absl::StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  if (!in) return absl::NotFoundError(absl::StrCat("no /proc/", pid, "/status"));
  ProcessMemory memory;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view view = line;
    long* field = nullptr;
    if (absl::ConsumePrefix(&view, "VmHWM:")) field = &memory.vm_hwm_kib;
    if (absl::ConsumePrefix(&view, "VmRSS:")) field = &memory.vm_rss_kib;
    if (field == nullptr) continue;
    absl::ConsumeSuffix(&view, "kB");
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(view), field)) {
      return absl::InternalError("unparsable " + line);
    }
  }
  return memory;
}

}  // namespace srs
