// `srs run [-n N] [--hosts H1,H2|--hostfile F] [--resume] [--epoch E] [--force] -- PROG ARGS`:
// the embedded default (DESIGN.md §6). Without a configured RSS it brings up the directory's
// private srs-rss and srs-depot (state in ./.srs/), launches the job with MPICH's mpiexec, says
// how the job ended, and stops the daemons it started (their state stays).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/daemons.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/site.h"

namespace srs::tools {
namespace {

volatile sig_atomic_t g_launcher_pid = 0;
volatile sig_atomic_t g_interrupted = 0;

// Passes a Ctrl-C or a SIGTERM on to mpiexec, which takes the ranks down; `srs run` itself stays
// to stop its daemons. Only async-signal-safe calls here.
void ForwardSignal(int sig) {
  g_interrupted = 1;
  if (g_launcher_pid > 0)
    kill(static_cast<pid_t>(g_launcher_pid), sig == SIGINT ? SIGINT : SIGTERM);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ShellQuote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_./=:,+@%") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// MPICH's launcher, never Open MPI's: $SRS_MPIEXEC, mpiexec.mpich, mpiexec.hydra.
absl::StatusOr<std::string> FindLauncher() {
  const char* configured = std::getenv("SRS_MPIEXEC");
  if (configured != nullptr && *configured != '\0') return std::string(configured);
  for (const char* name : {"mpiexec.mpich", "mpiexec.hydra"}) {
    absl::StatusOr<std::string> found = FindExecutable(name);
    if (found.ok()) return found;
  }
  return absl::NotFoundError(
      "cannot find MPICH's mpiexec.mpich on PATH (install mpich, or set "
      "SRS_MPIEXEC to MPICH's mpiexec)");
}

struct RunRequest {
  int64_t nprocs = 1;
  std::string hosts;
  std::string hostfile;
  bool resume = false;
  int64_t epoch = 0;
  bool force = false;
  std::vector<std::string> command;
  std::string job;
};

absl::Status CheckResumable(const Site& site, const RunRequest& run) {
  absl::StatusOr<RssAdmin> connected = ConnectAdmin(site);
  // Without an admin token the tool cannot look; the library's RegisterRun still refuses.
  if (absl::IsFailedPrecondition(connected.status())) return absl::OkStatus();
  SRS_RETURN_IF_ERROR(connected.status());
  RssAdmin& admin = *connected;
  absl::StatusOr<rssv1::GetJobResponse> info = admin.GetJob(run.job);
  if (absl::IsNotFound(info.status())) {
    return absl::NotFoundError(absl::StrCat("nothing to resume: the RSS ", site.rss,
                                            " knows no job '", run.job,
                                            "' (run it without --resume first)"));
  }
  SRS_RETURN_IF_ERROR(info.status());
  if (CommittedCheckpoint(*info, run.epoch) == nullptr) {
    return absl::NotFoundError(
        run.epoch == 0
            ? absl::StrCat("nothing to resume: job '", run.job,
                           "' has no committed checkpoint (srs ls ", run.job, ")")
            : absl::StrCat("nothing to resume: job '", run.job, "' has no committed epoch ",
                           run.epoch, " (srs ls ", run.job, " lists them)"));
  }
  return absl::OkStatus();
}

void ExportJobEnvironment(const Site& site, const RunRequest& run) {
  if (!site.config_path.empty()) setenv("SRS_CONFIG", site.config_path.c_str(), 1);
  setenv("SRS_APP", run.job.c_str(), 1);
  setenv("SRS_RESUME", run.resume ? "yes" : "no", 1);
  if (run.epoch > 0) setenv("SRS_EPOCH", std::to_string(run.epoch).c_str(), 1);
  if (run.force) setenv("SRS_FORCE", "yes", 1);
  if (!site.token_file.empty()) setenv("SRS_TOKEN_FILE", site.token_file.c_str(), 1);
}

// Runs mpiexec in this process group (a terminal Ctrl-C reaches it directly) and returns its
// exit status (128 + signal if it was killed).
absl::StatusOr<int> Launch(const std::string& launcher, const RunRequest& run) {
  std::vector<std::string> argv = {launcher, "-n", std::to_string(run.nprocs)};
  if (!run.hosts.empty()) argv.insert(argv.end(), {"-hosts", run.hosts});
  if (!run.hostfile.empty()) argv.insert(argv.end(), {"-f", run.hostfile});
  argv.insert(argv.end(), run.command.begin(), run.command.end());
  std::vector<char*> cargv;
  for (std::string& arg : argv) cargv.push_back(arg.data());
  cargv.push_back(nullptr);

  struct sigaction action {};
  action.sa_handler = ForwardSignal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  if (pid < 0) return absl::InternalError("fork failed");
  g_launcher_pid = pid;
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  g_launcher_pid = 0;
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  return 128 + WTERMSIG(wstatus);
}

std::string ResumeCommand(const RunRequest& run) {
  std::vector<std::string> words = {"srs", "run", "--resume", "-n", std::to_string(run.nprocs)};
  if (!run.hosts.empty()) words.insert(words.end(), {"--hosts", run.hosts});
  if (!run.hostfile.empty()) words.insert(words.end(), {"--hostfile", run.hostfile});
  words.push_back("--");
  words.insert(words.end(), run.command.begin(), run.command.end());
  std::vector<std::string> quoted;
  for (const std::string& word : words) quoted.push_back(ShellQuote(word));
  std::string prefix =
      std::getenv("SRS_APP") != nullptr ? "SRS_APP=" + ShellQuote(run.job) + " " : "";
  return prefix + absl::StrJoin(quoted, " ");
}

// The newest run the RSS knows of the job ("" if none), so that the run this launch registers
// can be told apart from earlier ones without comparing clocks.
std::string NewestRunId(const Site& site, const std::string& job) {
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site);
  if (!admin.ok()) return "";
  absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
  if (!info.ok() || NewestRun(*info) == nullptr) return "";
  return NewestRun(*info)->run_id();
}

// Says how the job ended, from what the RSS recorded for the run this launch registered.
int ReportOutcome(const Site& site, const RunRequest& run, const std::string& previous_run_id,
                  int exit_code) {
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site);
  if (absl::IsFailedPrecondition(admin.status())) {
    std::fprintf(stderr,
                 "srs run: %s exited with status %d (%s, so srs cannot ask the RSS how "
                 "the run ended)\n",
                 run.job.c_str(), exit_code, std::string(admin.status().message()).c_str());
    return exit_code;
  }
  absl::StatusOr<rssv1::GetJobResponse> info =
      admin.ok() ? admin->GetJob(run.job) : absl::StatusOr<rssv1::GetJobResponse>(admin.status());
  const rssv1::Configuration* newest = info.ok() ? NewestRun(*info) : nullptr;
  if (newest == nullptr || newest->run_id() == previous_run_id) {
    std::fprintf(stderr, "srs run: %s exited with status %d before registering with the RSS%s\n",
                 run.job.c_str(), exit_code,
                 info.ok() ? "" : absl::StrCat(" (", info.status().message(), ")").c_str());
    return exit_code != 0 ? exit_code : 1;
  }
  const rssv1::CheckpointSummary* stop = StopCheckpointOf(*info, newest->run_id());
  if (newest->state() == "finished") {
    std::printf("srs run: %s finished (%d ranks, run %s)\n", run.job.c_str(), newest->nprocs(),
                newest->run_id().c_str());
    return exit_code;
  }
  if (newest->state() == "stopped" && stop != nullptr) {
    std::printf(
        "srs run: %s stopped with checkpoint epoch %lld committed (%s, %d ranks)\n"
        "srs run: resume on any number of ranks with: %s\n",
        run.job.c_str(), static_cast<long long>(stop->epoch()),
        HumanBytes(stop->timings().bytes()).c_str(), newest->nprocs(), ResumeCommand(run).c_str());
    return exit_code;
  }
  std::fprintf(stderr, "srs run: %s exited with status %d while its run was '%s'%s\n",
               run.job.c_str(), exit_code, newest->state().c_str(),
               CommittedCheckpoint(*info, 0) != nullptr
                   ? "; its last committed checkpoint is kept (srs ls shows it)"
                   : "");
  return exit_code != 0 ? exit_code : 1;
}

absl::StatusOr<RunRequest> ParseRun(const ArgParser& args, const Site& site) {
  RunRequest run;
  SRS_ASSIGN_OR_RETURN(run.nprocs, args.GetInt("np", 1, 1));
  SRS_ASSIGN_OR_RETURN(run.epoch, args.GetInt("epoch", 0, 1));
  run.hosts = args.Get("hosts");
  run.hostfile = args.Get("hostfile");
  if (!run.hosts.empty() && !run.hostfile.empty()) {
    return absl::InvalidArgumentError("give --hosts or --hostfile, not both");
  }
  run.resume = args.Has("resume");
  if (run.epoch > 0 && !run.resume) {
    return absl::InvalidArgumentError("--epoch only makes sense with --resume");
  }
  run.force = args.Has("force");
  run.command = args.command();
  run.job = site.config.GetString("app", BaseName(run.command[0]));
  return run;
}

int RunJob(const ArgParser& args) {
  absl::StatusOr<Site> site = LoadSite();
  if (!site.ok()) return Fail("run", site.status());
  absl::StatusOr<RunRequest> run = ParseRun(args, *site);
  if (!run.ok()) return Fail("run", run.status());
  absl::StatusOr<std::string> launcher = FindLauncher();
  if (!launcher.ok()) return Fail("run", launcher.status());
  std::unique_ptr<PrivateDaemons> daemons;
  if (site->embedded) {
    absl::StatusOr<std::unique_ptr<PrivateDaemons>> started =
        EnsurePrivateDaemons(&*site, /*need_depot=*/true, /*create=*/true, Starter::kRun);
    if (!started.ok()) return Fail("run", started.status());
    daemons = std::move(*started);
  } else if (!Reachable(site->rss, absl::Seconds(5))) {
    return Fail("run", absl::UnavailableError(absl::StrCat("no RSS reachable at ", site->rss,
                                                           " (from ", site->config.Origin("rss"),
                                                           "); start srs-rss or fix the address")));
  }
  if (run->resume) {
    absl::Status resumable = CheckResumable(*site, *run);
    if (!resumable.ok()) return Fail("run", resumable);
  }
  std::string previous_run_id = NewestRunId(*site, run->job);
  ExportJobEnvironment(*site, *run);
  absl::StatusOr<int> exit_code = Launch(*launcher, *run);
  if (!exit_code.ok()) return Fail("run", exit_code.status());
  if (*exit_code == 127) {
    std::fprintf(stderr, "srs run: could not start %s (or %s)\n", launcher->c_str(),
                 run->command[0].c_str());
  }
  int code = ReportOutcome(*site, *run, previous_run_id, *exit_code);
  if (daemons != nullptr) daemons->StopAll();
  if (g_interrupted) {
    std::fprintf(stderr, "srs run: interrupted; the private daemons are stopped, state kept\n");
    return code != 0 ? code : 130;
  }
  return code;
}

}  // namespace

int RunCommand(const Args& argv) {
  ArgParser args(
      "srs run [-n N] [--hosts H1,H2|--hostfile F] [--resume [--epoch E]] [--force] -- PROG ARGS",
      "Runs PROG on N ranks with MPICH's mpiexec. Without an RSS configured (rss in srs.config\n"
      "or SRS_RSS) it starts a private srs-rss and srs-depot for this directory (state in\n"
      "./.srs/, kept between runs) and stops them when the job ends. The job's name is $SRS_APP\n"
      "or PROG's base name. A plain run starts fresh (earlier checkpoints of the job are\n"
      "dropped); --resume restarts from the last committed checkpoint, on any N.");
  args.AddValue("np", 'n', "N", "number of ranks (default 1)");
  args.AddValue("hosts", 0, "H1,H2", "comma-separated hosts for mpiexec");
  args.AddValue("hostfile", 0, "FILE", "mpiexec host file");
  args.AddFlag("resume", 'r', "restart from the job's last committed checkpoint");
  args.AddValue("epoch", 0, "E", "with --resume: restart from committed checkpoint E");
  args.AddFlag("force", 'f', "take over from a run that still holds its lease");
  args.TakeCommandAfterOptions("the MPI program and its arguments");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("run", parsed);
  if (args.help()) return args.PrintHelp();
  return RunJob(args);
}

}  // namespace srs::tools
