// `srs run [-n N] [--hosts H1,H2|--hostfile F] [--resume [--epoch E]|--fresh] [--force]
//          [--grace S] [--mpiexec M] [--rss-listen ADDR] [--depot-dir DIR] -- PROG ARGS`: the
//          embedded default (DESIGN.md §6).
// Without a configured RSS it brings up the directory's private srs-rss and srs-depot (state in
// ./.srs/), decides how the job starts (run_resume.h), launches it with MPICH's mpiexec
// (launcher.h), supervises it (supervisor.h: preemption signals, daemons that die), ends at the
// RSS a run it saw die, says how the job ended, and stops the daemons it started (state stays).
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/daemons.h"
#include "tools/failure_view.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/launcher.h"
#include "tools/preemption.h"
#include "tools/remote_depots.h"
#include "tools/run_resume.h"
#include "tools/site.h"
#include "tools/slurm.h"
#include "tools/supervisor.h"

namespace srs::tools {
namespace {

// The signals the ranks ignore under `srs run` (the library honours SRS_IGNORE_SIGNALS in
// SRS_Init): a batch system sends them to every process of the job, and `srs run` turns them into
// a checkpoint-and-stop the ranks must live to carry out.
constexpr char kRankIgnoredSignals[] = "TERM,USR1";

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

struct RunRequest {
  LaunchOptions launch;
  ResumeChoice resume = ResumeChoice::kAuto;
  int64_t epoch = 0;
  bool force = false;
  std::optional<absl::Duration> grace;
  std::string mpiexec;
  std::string job;
  SlurmAllocation slurm;
  std::string rss_listen;  // --rss-listen: the private RSS's address for other hosts
  std::string depot_dir;   // --depot-dir: where each host's depot keeps pieces (DIR/HOST)
};

void ExportJobEnvironment(const Site& site, const RunRequest& run, bool quiet) {
  if (!site.config_path.empty()) setenv("SRS_CONFIG", site.config_path.c_str(), 1);
  setenv("SRS_APP", run.job.c_str(), 1);
  setenv("SRS_RESUME", ResumeEnvValue(run.resume), 1);
  if (run.epoch > 0) setenv("SRS_EPOCH", std::to_string(run.epoch).c_str(), 1);
  if (run.force) setenv("SRS_FORCE", "yes", 1);
  if (!site.token_file.empty()) setenv("SRS_TOKEN_FILE", site.token_file.c_str(), 1);
  setenv("SRS_IGNORE_SIGNALS", kRankIgnoredSignals, 1);
  // Rank 0 shows a resume's read progress on this terminal (libsrs/src/restore_progress.h): the
  // ranks' stderr is mpiexec's pipe, so only we can tell that a person is watching. Otherwise
  // unset, so a log never gets the line whatever the caller's environment said.
  if (!quiet && isatty(STDERR_FILENO) == 1) {
    setenv("SRS_PROGRESS", "1", 1);
  } else {
    unsetenv("SRS_PROGRESS");
  }
}

// The line that continues the job (a plain `srs run` would too; --resume also refuses to start
// over if the checkpoint were gone).
std::string ResumeCommand(const RunRequest& run) {
  std::vector<std::string> words = {"srs", "run", "--resume", "-n",
                                    std::to_string(run.launch.nprocs)};
  if (!run.launch.hosts.empty() && !run.slurm.inside) {
    words.insert(words.end(), {"--hosts", run.launch.hosts});
  }
  if (!run.launch.hostfile.empty()) words.insert(words.end(), {"--hostfile", run.launch.hostfile});
  words.push_back("--");
  words.insert(words.end(), run.launch.command.begin(), run.launch.command.end());
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

// The launcher exited while its run was still "running" at the RSS: nobody else will end it
// before its lease runs out, so end it now (it becomes "lost", committed checkpoints kept).
void EndDeadRun(RssAdmin* admin, const RunRequest& run, const rssv1::Configuration& newest,
                int exit_code) {
  std::string reason =
      absl::StrCat("the launcher exited with status ", exit_code, " while the run was running");
  absl::StatusOr<std::string> state = admin->EndRun(run.job, newest.run_id(), reason);
  if (!state.ok()) {
    std::fprintf(stderr,
                 "srs run: could not end run %s at the RSS (%s); a resume waits for its lease\n",
                 newest.run_id().c_str(), std::string(state.status().message()).c_str());
    return;
  }
  std::fprintf(stderr, "srs run: ended run %s at the RSS (%s); resume at once with: %s\n",
               newest.run_id().c_str(), state->c_str(), ResumeCommand(run).c_str());
}

// Says how the job ended, from what the RSS recorded for the run this launch registered, ends
// the run if it died, and returns the exit status (see tools/README.md, "Exit status").
int ReportOutcome(const Site& site, const RunRequest& run, const std::string& previous_run_id,
                  const SupervisionResult& supervised) {
  int exit_code = supervised.launcher_status;
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
    if (supervised.stop_recorded && exit_code == 0) return kExitStoppedBySignal;
    return exit_code;
  }
  std::fprintf(stderr, "srs run: %s exited with status %d while its run was '%s'%s\n",
               run.job.c_str(), exit_code, newest->state().c_str(),
               CommittedCheckpoint(*info, 0) != nullptr
                   ? "; its last committed checkpoint is kept (srs ls shows it)"
                   : "");
  // The reason a rank reported before the job died (the launcher may have dropped its output).
  if (newest->has_failure()) {
    std::fprintf(stderr, "srs run: %s failed: %s\n", run.job.c_str(),
                 FailureText(newest->failure()).c_str());
  }
  if (newest->state() == "running") EndDeadRun(&*admin, run, *newest, exit_code);
  return exit_code != 0 ? exit_code : 1;
}

// "Terminated", or "Terminated, then Interrupt" when a second signal came.
std::string SignalsReceived(const Preemption& preemption) {
  std::string text = strsignal(preemption.first_signal());
  if (preemption.second_signal() != 0) {
    absl::StrAppend(&text, ", then ", strsignal(preemption.second_signal()));
  }
  return text;
}

// A preemption signal before anything was launched: nothing ran, so nothing was lost, and the
// job is to run again as it is. Exit 75 like a signal after launching that ended in a committed
// checkpoint, so that a batch system requeues it (Slurm's RequeueExit=75); the private daemons
// are stopped by the caller's unwinding.
int PreemptedBeforeLaunch(const RunRequest& run, const Preemption& preemption) {
  std::fprintf(stderr,
               "srs run: %s before launching %s; nothing was started or lost; exit status %d "
               "(run the same command again to start it)\n",
               SignalsReceived(preemption).c_str(), run.job.c_str(), kExitStoppedBySignal);
  return kExitStoppedBySignal;
}

absl::Status ApplySlurm(RunRequest* run) {
  SRS_ASSIGN_OR_RETURN(run->slurm, DetectSlurm());
  if (!run->slurm.inside) return absl::OkStatus();
  bool hosts_given = !run->launch.hosts.empty() || !run->launch.hostfile.empty();
  if (!hosts_given && !run->slurm.hosts.empty()) {
    run->launch.hosts = absl::StrJoin(run->slurm.hosts, ",");
    // One node: fork the ranks, so they stay in the batch step with `srs run` (srun would make
    // them a step of their own, which Slurm kills on its own schedule).
    run->launch.fork_launcher = run->slurm.hosts.size() == 1;
  }
  std::printf("srs run: inside Slurm job %s (restart count %d) on %s\n", run->slurm.job_id.c_str(),
              run->slurm.restart_count,
              run->launch.hosts.empty() ? "the given hosts" : run->launch.hosts.c_str());
  return absl::OkStatus();
}

absl::StatusOr<RunRequest> ParseRun(const ArgParser& args, const Site& site) {
  RunRequest run;
  SRS_ASSIGN_OR_RETURN(run.launch.nprocs, args.GetInt("np", 1, 1));
  SRS_ASSIGN_OR_RETURN(run.epoch, args.GetInt("epoch", 0, 1));
  run.launch.hosts = args.Get("hosts");
  run.launch.hostfile = args.Get("hostfile");
  if (!run.launch.hosts.empty() && !run.launch.hostfile.empty()) {
    return absl::InvalidArgumentError("give --hosts or --hostfile, not both");
  }
  if (args.Has("resume") && args.Has("fresh")) {
    return absl::InvalidArgumentError("give --resume or --fresh, not both");
  }
  run.resume = args.Has("resume")  ? ResumeChoice::kYes
               : args.Has("fresh") ? ResumeChoice::kFresh
                                   : ResumeChoice::kAuto;
  if (run.epoch > 0 && run.resume != ResumeChoice::kYes) {
    return absl::InvalidArgumentError("--epoch only makes sense with --resume");
  }
  if (args.Has("grace")) {
    SRS_ASSIGN_OR_RETURN(int64_t grace, args.GetInt("grace", 0, 0));
    run.grace = absl::Seconds(grace);
  }
  run.force = args.Has("force");
  run.mpiexec = args.Get("mpiexec");
  run.rss_listen = args.Get("rss-listen");
  run.depot_dir = args.Get("depot-dir");
  run.launch.command = args.command();
  run.job = site.config.GetString("app", BaseName(run.launch.command[0]));
  SRS_RETURN_IF_ERROR(ApplySlurm(&run));
  return run;
}

// Embedded mode on other hosts: the private RSS listens where they reach it, and their depots
// are started through the launcher (remote_depots.h) instead of one here.
absl::Status PlanHosts(const RunRequest& run, Site* site) {
  if (!site->embedded) {
    if (!run.rss_listen.empty() || !run.depot_dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--rss-listen and --depot-dir are for the private daemons; an RSS is configured (",
          site->config.Origin("rss"), ")"));
    }
    return absl::OkStatus();
  }
  SRS_ASSIGN_OR_RETURN(std::vector<std::string> hosts,
                       LaunchHosts(run.launch.hosts, run.launch.hostfile));
  if (!AnyRemoteHost(hosts, site->host)) {
    if (!run.rss_listen.empty() || !run.depot_dir.empty()) {
      return absl::InvalidArgumentError(
          "--rss-listen and --depot-dir need --hosts (or --hostfile) naming other hosts");
    }
    return absl::OkStatus();
  }
  site->remote_depots = true;
  if (!run.rss_listen.empty()) {
    site->listen_host = run.rss_listen;
    return absl::OkStatus();
  }
  SRS_ASSIGN_OR_RETURN(site->listen_host, LocalAddressToward(hosts[0]));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RemoteDepots>> StartHostDepots(const Site& site,
                                                              const RunRequest& run,
                                                              const std::string& launcher) {
  if (!site.remote_depots) return std::unique_ptr<RemoteDepots>();
  RemoteDepotPlan plan;
  plan.launcher = launcher;
  SRS_ASSIGN_OR_RETURN(plan.hosts, LaunchHosts(run.launch.hosts, run.launch.hostfile));
  plan.dir = !run.depot_dir.empty() ? run.depot_dir : site.state_dir + "/hosts";
  if (run.resume != ResumeChoice::kFresh) {
    for (const std::string& host : CheckpointHosts(site, run.job, run.epoch)) {
      if (std::find(plan.hosts.begin(), plan.hosts.end(), host) == plan.hosts.end()) {
        plan.extra_hosts.push_back(host);
      }
    }
  }
  std::printf("srs run: starting a depot on %s%s (RSS at %s)\n",
              absl::StrJoin(plan.hosts, ",").c_str(),
              plan.extra_hosts.empty() ? ""
                                       : absl::StrCat(" and, for the checkpoint's copies, on ",
                                                      absl::StrJoin(plan.extra_hosts, ","))
                                             .c_str(),
              site.rss.c_str());
  return RemoteDepots::Start(site, plan);
}

// Brings up (embedded) or checks (configured) the RSS the job will use.
absl::StatusOr<std::unique_ptr<PrivateDaemons>> ReadySite(Site* site) {
  if (site->embedded) {
    return EnsurePrivateDaemons(site, /*need_depot=*/true, /*create=*/true, Starter::kRun);
  }
  if (!Reachable(site->rss, absl::Seconds(5))) {
    return absl::UnavailableError(absl::StrCat("no RSS reachable at ", site->rss, " (from ",
                                               site->config.Origin("rss"),
                                               "); start srs-rss or fix the address"));
  }
  return std::unique_ptr<PrivateDaemons>();
}

int RunJob(const ArgParser& args) {
  // Line by line even into a file: the job's, the launcher's and our lines interleave in order.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  absl::StatusOr<Site> site = LoadSite();
  if (!site.ok()) return Fail("run", site.status());
  absl::StatusOr<RunRequest> run = ParseRun(args, *site);
  if (!run.ok()) return Fail("run", run.status());
  absl::StatusOr<std::string> launcher = FindLauncher(run->mpiexec);
  if (!launcher.ok()) return Fail("run", launcher.status());
  // Remote hosts may have the program where this one does not: check only a local launch.
  if (run->launch.hosts.empty() && run->launch.hostfile.empty()) {
    absl::Status program = CheckProgram(run->launch.command[0]);
    if (!program.ok()) return Fail("run", program);
  }
  absl::Status hosts = PlanHosts(*run, &*site);
  if (!hosts.ok()) return Fail("run", hosts);
  // Before the daemons: a signal while they start must not kill `srs run` (and strand them).
  Preemption preemption(run->grace);
  absl::StatusOr<std::unique_ptr<PrivateDaemons>> daemons = ReadySite(&*site);
  if (!daemons.ok()) return Fail("run", daemons.status());
  ResumeRequest resume{run->job, run->resume, run->epoch, run->force, run->launch.nprocs};
  resume.interrupted = [&preemption] { return preemption.signalled(); };
  absl::Status prepared = PrepareResume(*site, resume);
  if (!prepared.ok() && !preemption.signalled()) return Fail("run", prepared);
  absl::StatusOr<std::unique_ptr<RemoteDepots>> host_depots =
      preemption.signalled() ? std::unique_ptr<RemoteDepots>()
                             : StartHostDepots(*site, *run, *launcher);
  if (!host_depots.ok()) return Fail("run", host_depots.status());
  if (preemption.signalled()) return PreemptedBeforeLaunch(*run, preemption);
  std::string previous_run_id = NewestRunId(*site, run->job);
  ExportJobEnvironment(*site, *run, args.quiet());
  absl::StatusOr<LaunchedJob> launched =
      LaunchedJob::Start(LauncherArgv(*launcher, run->launch), /*die_with_parent=*/site->embedded);
  if (!launched.ok()) return Fail("run", launched.status());
  SupervisionResult supervised =
      Supervise({&*site, run->job, &*launched, &preemption, daemons->get()});
  int code = ReportOutcome(*site, *run, previous_run_id, supervised);
  if (*host_depots != nullptr) (*host_depots)->Stop();
  if (*daemons != nullptr) {
    (*daemons)->StopAll();
    unlink((site->state_dir + "/owner").c_str());
  }
  if (preemption.signalled()) {
    std::fprintf(stderr, "srs run: interrupted (%s)%s; exit status %d\n",
                 SignalsReceived(preemption).c_str(),
                 *daemons != nullptr ? "; the private daemons are stopped, state kept" : "", code);
    if (code == 0) return 128 + preemption.first_signal();
  }
  return code;
}

}  // namespace

int RunCommand(const Args& argv) {
  ArgParser args(
      "srs run [-n N] [--hosts H1,H2|--hostfile F] [--resume [--epoch E]|--fresh] [--force]\n"
      "        [--grace SECONDS] [--mpiexec M] [--rss-listen ADDR] [--depot-dir DIR] -- PROG ARGS",
      "Runs PROG on N ranks with MPICH's mpiexec. Without an RSS configured (rss in srs.config\n"
      "or SRS_RSS) it starts a private srs-rss and srs-depot for this directory (state in\n"
      "./.srs/, kept between runs), restarts them if they die, and stops them when the job\n"
      "ends. The job's name is $SRS_APP or PROG's base name. A plain run resumes from the job's\n"
      "newest committed checkpoint (on any N) and says so, or starts fresh if there is none;\n"
      "--fresh starts over (the old checkpoints are deleted once the new run commits one);\n"
      "--resume insists on resuming. SIGTERM, SIGINT, SIGUSR1 or SIGHUP make the job checkpoint\n"
      "and stop (exit status 75); a second signal, or --grace after the first, stops it at\n"
      "once. Inside Slurm the allocation's hosts are used unless --hosts/--hostfile is given.\n"
      "With no RSS configured and hosts other than this one, the private RSS listens on the\n"
      "network and every host gets a depot through mpiexec (docs/multinode.md).");
  args.AddValue("np", 'n', "N", "number of ranks (default 1)");
  args.AddValue("hosts", 0, "H1,H2", "comma-separated hosts for mpiexec");
  args.AddValue("hostfile", 0, "FILE", "mpiexec host file");
  args.AddFlag("resume", 'r', "must restart from the job's last committed checkpoint");
  args.AddFlag("fresh", 0, "start over, ignoring the job's checkpoints");
  args.AddValue("epoch", 0, "E", "with --resume: restart from committed checkpoint E");
  args.AddFlag("force", 'f', "take over from a run that still holds its lease");
  args.AddValue("grace", 0, "SECONDS",
                "after a stop signal, stop at once if the job has not left within this long");
  args.AddValue("mpiexec", 0, "M", "MPICH's mpiexec: a path or a name on PATH ($SRS_MPIEXEC)");
  args.AddValue("rss-listen", 0, "ADDR",
                "with --hosts naming other hosts and no RSS configured: the address the private "
                "RSS listens on (default: this host's address toward the first host)");
  args.AddValue("depot-dir", 0, "DIR",
                "with --hosts naming other hosts: each host's depot keeps its pieces in DIR/HOST "
                "(default ./.srs/hosts)");
  args.TakeCommandAfterOptions("the MPI program and its arguments");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("run", parsed);
  if (args.help()) return args.PrintHelp();
  return RunJob(args);
}

}  // namespace srs::tools
