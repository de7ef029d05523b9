#include "tools/slurm.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace srs::tools {
namespace {

constexpr size_t kMaxOutput = 1 << 20;  // a host list of a huge allocation still fits

// Runs argv (looked up on PATH), returns its stdout; UNAVAILABLE with its output on failure.
absl::StatusOr<std::string> Capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::UnavailableError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> cargv;
  for (const std::string& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kMaxOutput) out.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int wstatus = 0;
  while (pid > 0 && waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (pid < 0 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::UnavailableError(
        absl::StrCat(argv[0], " failed: ", absl::StripAsciiWhitespace(out)));
  }
  return out;
}

}  // namespace

absl::StatusOr<SlurmAllocation> DetectSlurm() {
  SlurmAllocation slurm;
  const char* job_id = std::getenv("SLURM_JOB_ID");
  if (job_id == nullptr || *job_id == '\0') return slurm;
  slurm.inside = true;
  slurm.job_id = job_id;
  const char* restarts = std::getenv("SLURM_RESTART_COUNT");
  if (restarts != nullptr && !absl::SimpleAtoi(restarts, &slurm.restart_count)) {
    slurm.restart_count = 0;
  }
  const char* nodelist = std::getenv("SLURM_JOB_NODELIST");
  if (nodelist == nullptr || *nodelist == '\0') return slurm;
  absl::StatusOr<std::string> hosts = Capture({"scontrol", "show", "hostnames", nodelist});
  if (!hosts.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot expand SLURM_JOB_NODELIST=", nodelist, " (",
                                               hosts.status().message(), "); give --hosts"));
  }
  for (absl::string_view line : absl::StrSplit(*hosts, '\n', absl::SkipWhitespace())) {
    slurm.hosts.emplace_back(absl::StripAsciiWhitespace(line));
  }
  return slurm;
}

}  // namespace srs::tools
