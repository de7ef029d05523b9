// Unit tests of the pieces of `srs run` that need no daemons: the launcher's command line and
// lookup (launcher.h), the hosts of a launch and the RSS address toward them (remote_depots.h),
// the launched process tree, the preemption state machine (preemption.h),
// and the ranks' SRS_IGNORE_SIGNALS (libsrs/src/launcher_signals.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "libsrs/src/launcher_signals.h"
#include "tools/launcher.h"
#include "tools/preemption.h"
#include "tools/remote_depots.h"

namespace srs::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A temporary directory holding an executable shell script named `name`.
class ScriptDir {
 public:
  explicit ScriptDir(const std::string& name) {
    char templ[] = "/tmp/srs-run-unit.XXXXXX";
    dir_ = mkdtemp(templ);
    path_ = dir_ + "/" + name;
    std::ofstream(path_) << "#!/bin/sh\nexit 0\n";
    chmod(path_.c_str(), 0755);
  }
  ~ScriptDir() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& dir() const { return dir_; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST(LauncherArgv, PutsForkLauncherHostsAndCommandInOrder) {
  LaunchOptions options;
  options.nprocs = 3;
  options.hosts = "a,b";
  options.fork_launcher = true;
  options.command = {"./solver", "--steps", "5"};
  EXPECT_THAT(LauncherArgv("/usr/bin/mpiexec.mpich", options),
              ElementsAre("/usr/bin/mpiexec.mpich", "-launcher", "fork", "-n", "3", "-hosts", "a,b",
                          "./solver", "--steps", "5"));
  options.hosts.clear();
  options.hostfile = "hosts.txt";
  options.fork_launcher = false;
  EXPECT_THAT(LauncherArgv("m", options),
              ElementsAre("m", "-n", "3", "-f", "hosts.txt", "./solver", "--steps", "5"));
}

TEST(FindLauncher, LooksABareNameUpOnPathAndSaysItIsTheLauncher) {
  ScriptDir bin("my-mpiexec");
  std::string old_path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  setenv("PATH", (bin.dir() + ":" + old_path).c_str(), 1);
  unsetenv("SRS_MPIEXEC");
  absl::StatusOr<std::string> found = FindLauncher("my-mpiexec");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, bin.path());
  setenv("SRS_MPIEXEC", "my-mpiexec", 1);
  found = FindLauncher("");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, bin.path());
  setenv("SRS_MPIEXEC", "no-such-launcher-xyz", 1);
  found = FindLauncher("");
  EXPECT_TRUE(absl::IsNotFound(found.status()));
  EXPECT_THAT(std::string(found.status().message()),
              HasSubstr("MPI launcher (SRS_MPIEXEC) no-such-launcher-xyz cannot be started"));
  found = FindLauncher(bin.dir());  // a directory is no launcher
  EXPECT_THAT(std::string(found.status().message()), HasSubstr("not an executable file"));
  unsetenv("SRS_MPIEXEC");
  setenv("PATH", old_path.c_str(), 1);
}

TEST(CheckProgram, NamesTheProgram) {
  ScriptDir bin("solver");
  EXPECT_TRUE(CheckProgram(bin.path()).ok());
  absl::Status missing = CheckProgram(bin.dir() + "/nope");
  EXPECT_TRUE(absl::IsFailedPrecondition(missing));
  EXPECT_THAT(std::string(missing.message()), HasSubstr("the program " + bin.dir() + "/nope"));
}

TEST(LaunchHosts, SplitsHostsDropsSlotsAndReadsHostfiles) {
  absl::StatusOr<std::vector<std::string>> hosts = LaunchHosts("node1, node2:4,node3", "");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_THAT(*hosts, ElementsAre("node1", "node2", "node3"));
  EXPECT_THAT(LaunchHosts("node1,,node2", "").status().message(), HasSubstr("empty host"));
  ScriptDir dir("hosts.txt");
  std::string path = dir.dir() + "/hosts.txt";
  std::ofstream(path) << "# the nodes\nnodeA:2\n\nnodeB  # spare\n";
  hosts = LaunchHosts("", path);
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_THAT(*hosts, ElementsAre("nodeA", "nodeB"));
  EXPECT_TRUE(absl::IsNotFound(LaunchHosts("", dir.dir() + "/missing").status()));
}

TEST(AnyRemoteHost, OnlyOtherMachinesCount) {
  EXPECT_FALSE(AnyRemoteHost({}, "me"));
  EXPECT_FALSE(AnyRemoteHost({"me", "localhost", "127.0.0.1"}, "me"));
  EXPECT_TRUE(AnyRemoteHost({"me", "node2"}, "me"));
}

TEST(LocalAddressToward, LoopbackReachesLoopbackAndUnknownHostsAreNamed) {
  absl::StatusOr<std::string> address = LocalAddressToward("127.0.0.1");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(*address, "127.0.0.1");
  absl::Status unknown = LocalAddressToward("no-such-host.invalid").status();
  EXPECT_TRUE(absl::IsUnavailable(unknown));
  EXPECT_THAT(unknown.message(), HasSubstr("no-such-host.invalid"));
  EXPECT_THAT(unknown.message(), HasSubstr("--rss-listen"));
}

TEST(LaunchedJob, ExecFailureIsTheLaunchersAndExitStatusIsReported) {
  ScriptDir bin("x");
  chmod(bin.path().c_str(), 0644);  // exists, not executable: exec fails in the child
  absl::StatusOr<LaunchedJob> failed = LaunchedJob::Start({bin.path()}, false);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()),
              HasSubstr("could not start the launcher " + bin.path()));
  absl::StatusOr<LaunchedJob> job = LaunchedJob::Start({"/bin/sh", "-c", "exit 7"}, false);
  ASSERT_TRUE(job.ok()) << job.status();
  std::optional<int> status;
  for (int i = 0; i < 500 && !status.has_value(); ++i) {
    status = job->Poll();
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(status, 7);
}

TEST(LaunchedJob, KillTreeReachesGrandchildrenInTheirOwnSessions) {
  // The shell starts a grandchild in a session of its own, as Hydra's proxy does with ranks.
  absl::StatusOr<LaunchedJob> job =
      LaunchedJob::Start({"/bin/sh", "-c", "setsid sleep 300 & wait"}, false);
  ASSERT_TRUE(job.ok()) << job.status();
  std::vector<pid_t> below;
  for (int i = 0; i < 500 && below.empty(); ++i) {
    below = Descendants(job->pid());
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE(below.empty());
  job->KillTree();
  std::optional<int> status;
  for (int i = 0; i < 500 && !status.has_value(); ++i) {
    status = job->Poll();
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(status, 128 + SIGKILL);
  for (pid_t pid : below) {
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
      std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      gone = text.empty() || text.find(") Z") != std::string::npos;  // gone or a zombie
      if (!gone) absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_TRUE(gone) << "pid " << pid << " survived KillTree";
  }
}

TEST(Preemption, FirstSignalAsksForACheckpointSecondOrGraceStopsAtOnce) {
  Preemption preemption(absl::Seconds(30));
  absl::Time t0 = absl::Now();
  EXPECT_EQ(preemption.Poll(t0), Preemption::Action::kNone);
  EXPECT_FALSE(preemption.signalled());
  raise(SIGUSR1);
  EXPECT_EQ(preemption.first_signal(), SIGUSR1);
  EXPECT_EQ(preemption.Poll(t0), Preemption::Action::kCheckpointAndStop);
  EXPECT_EQ(preemption.Poll(t0 + absl::Seconds(29)), Preemption::Action::kNone);
  EXPECT_EQ(preemption.Poll(t0 + absl::Seconds(30)), Preemption::Action::kStopNow);
  EXPECT_EQ(preemption.Poll(t0 + absl::Seconds(31)), Preemption::Action::kNone);
  raise(SIGTERM);  // handled, not fatal; already stopping
  EXPECT_EQ(preemption.Poll(t0 + absl::Seconds(32)), Preemption::Action::kNone);
  EXPECT_EQ(preemption.first_signal(), SIGUSR1);
}

TEST(Preemption, ASecondSignalStopsAtOnceWithoutGrace) {
  // Process-wide counters: this test sees the two signals of the previous one, if it ran.
  Preemption preemption(std::nullopt);
  raise(SIGINT);
  raise(SIGINT);
  absl::Time now = absl::Now();
  Preemption::Action first = preemption.Poll(now);
  if (first == Preemption::Action::kCheckpointAndStop) first = preemption.Poll(now);
  EXPECT_EQ(first, Preemption::Action::kStopNow);
}

TEST(IgnoreSignals, IgnoresTheNamedSignalsAndRefusesUnknownNames) {
  absl::Status bad = libsrs::IgnoreSignals("TERM,BOGUS");
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_THAT(std::string(bad.message()), HasSubstr("BOGUS"));
  struct sigaction now {};
  sigaction(SIGUSR2, nullptr, &now);
  EXPECT_NE(now.sa_handler, SIG_IGN);  // nothing changed by the refused list
  ASSERT_TRUE(libsrs::IgnoreSignals(" sigusr2 , HUP").ok());
  sigaction(SIGUSR2, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  sigaction(SIGHUP, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  signal(SIGUSR2, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  unsetenv("SRS_IGNORE_SIGNALS");
  EXPECT_TRUE(libsrs::IgnoreLauncherSignals().ok());
}

}  // namespace
}  // namespace srs::tools
