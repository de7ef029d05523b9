#include "bench/suite/launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace srs::bench {
namespace {

[[noreturn]] void Exec(const WorkerJob& job, int out_fd, const std::string& err_path) {
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err < 0) _exit(127);
  dup2(out_fd, 1);
  dup2(err, 2);
  unsetenv("SRS_CONFIG");
  for (const auto& [k, v] : job.env) setenv(k.c_str(), v.c_str(), 1);
  if (!job.cwd.empty() && chdir(job.cwd.c_str()) != 0) _exit(127);
  std::vector<std::string> argv;
  if (!job.mpiexec.empty()) argv = {job.mpiexec, "-n", std::to_string(job.nprocs)};
  argv.insert(argv.end(), job.args.begin(), job.args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  execv(cargv[0], cargv.data());
  _exit(127);
}

void ParseFigures(const std::string& text, std::map<std::string, double>* figures) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string tag, name;
    double value;
    if (words >> tag >> name >> value && tag == "SRSBENCH") (*figures)[name] = value;
  }
}

struct Running {
  pid_t pid = -1;
  int out_fd = -1;
};

Running Start(const WorkerJob& job) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Exec(job, fds[1], job.log_prefix + ".err");
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return {};
  }
  return {pid, fds[0]};
}

bool Finish(const WorkerJob& job, Running r, std::map<std::string, double>* figures) {
  if (r.pid < 0) return false;
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(r.out_fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(r.out_fd);
  int status = 0;
  waitpid(r.pid, &status, 0);
  std::map<std::string, double> got;
  ParseFigures(out, &got);
  for (const auto& [k, v] : got) (*figures)[k] = v;
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !got.empty();
  if (!ok) {
    std::ifstream err(job.log_prefix + ".err");
    std::stringstream ss;
    ss << err.rdbuf();
    fprintf(stderr,
            "srs-bench-suite: '%s' on %d process(es) failed (wait status %d); stdout:\n%s\n"
            "stderr:\n%s\n",
            job.log_prefix.c_str(), job.nprocs, status, out.c_str(), ss.str().c_str());
  }
  return ok;
}

}  // namespace

bool RunWorker(const WorkerJob& job, std::map<std::string, double>* figures) {
  return Finish(job, Start(job), figures);
}

bool RunConcurrently(const std::vector<WorkerJob>& jobs,
                     std::vector<std::map<std::string, double>>* figures) {
  std::vector<Running> running;
  for (const auto& job : jobs) running.push_back(Start(job));
  figures->assign(jobs.size(), {});
  bool ok = true;
  for (size_t i = 0; i < jobs.size(); ++i) ok = Finish(jobs[i], running[i], &(*figures)[i]) && ok;
  return ok;
}

}  // namespace srs::bench
