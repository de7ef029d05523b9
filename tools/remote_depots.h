// `srs run --hosts H1,H2 ...` with no RSS configured: a depot on every host, started through the
// MPI launcher itself, so a multi-node job needs no daemon started by hand (docs/multinode.md).
//
// The private RSS then listens on the local address the kernel routes to the first host
// (LocalAddressToward; `--rss-listen` overrides), and each host gets one `srs-depot` through its
// own `mpiexec -hosts H -n 1 srs-depot --listen 0.0.0.0:P --dir DIR/H ...`: one launcher per
// host, so that a host that is gone (a lost node still named by a checkpoint) fails alone
// instead of aborting every depot. The launcher options come from the environment as for the job
// (HYDRA_LAUNCHER, HYDRA_LAUNCHER_EXEC, ...). P is one port for every host, kept in
// .srs/host-depot-port: a depot comes back on the address the checkpoint records name. The depot
// registers under its host's own name (gethostname(), what the ranks' `depot = auto` compares)
// and advertises NAME:P, so host names must resolve between the nodes, as MPI needs anyway.
//
// The enrollment secret (.srs/rss/enroll.secret, not the admin token) reaches the depots in the
// environment variable SRS_ENROLL_SECRET, which Hydra forwards over its own control connection:
// it is on no command line; /proc/PID/environ of mpiexec, the proxies and the depots shows it
// to their owner and root only.
#ifndef SRS_TOOLS_REMOTE_DEPOTS_H_
#define SRS_TOOLS_REMOTE_DEPOTS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/site.h"

namespace srs::tools {

// The hosts of a launch: --hosts split on ',' or the host names of a hostfile ("host[:n]" lines,
// '#' comments). INVALID_ARGUMENT for an empty name; NOT_FOUND for an unreadable hostfile.
absl::StatusOr<std::vector<std::string>> LaunchHosts(const std::string& hosts,
                                                     const std::string& hostfile);

// Whether any of `hosts` is another machine than this one (`local_host` is this host's name;
// "localhost" and loopback addresses are this one).
bool AnyRemoteHost(const std::vector<std::string>& hosts, const std::string& local_host);

// The local IP address the kernel would use to reach `host` (resolved with getaddrinfo; a UDP
// socket "connected" to it, no packet sent, then getsockname). UNAVAILABLE when `host` does not
// resolve or is unreachable.
absl::StatusOr<std::string> LocalAddressToward(const std::string& host);

// The hosts of the depots that hold copies of the checkpoint a resume of `job` would read
// (epoch 0: the newest committed), from the RSS's records and ListDepots; none if the job has
// no committed checkpoint.
std::vector<std::string> CheckpointHosts(const Site& site, const std::string& job, int64_t epoch);

struct RemoteDepotPlan {
  std::string launcher;                  // MPICH's mpiexec (FindLauncher)
  std::vector<std::string> hosts;        // the job's hosts: each must get a registered depot
  std::vector<std::string> extra_hosts;  // checkpoint hosts outside `hosts`: best effort
  std::string dir;                       // each host's depot keeps its pieces in DIR/HOST
};

// The depots started for one `srs run`; stopped (SIGINT to their mpiexec, which forwards it;
// SIGKILL of the launcher's tree after 15 s) when this object dies or by Stop(). The depots
// ignore SIGTERM (--ignore-sigterm), which a batch system sends to every process of a job.
class RemoteDepots {
 public:
  // Starts one depot per host of `plan` and waits (up to 60 s) until each of plan.hosts has one
  // registered with the RSS. A depot on an extra host that cannot start only earns a warning on
  // stderr. UNAVAILABLE names the host whose depot did not come, with its launcher's log tail.
  static absl::StatusOr<std::unique_ptr<RemoteDepots>> Start(const Site& site,
                                                             const RemoteDepotPlan& plan);
  ~RemoteDepots();
  RemoteDepots(const RemoteDepots&) = delete;
  RemoteDepots& operator=(const RemoteDepots&) = delete;

  void Stop();

 private:
  struct Launched {
    std::string host;
    pid_t pid = -1;
    std::string log;  // the launcher's stdout and stderr
    bool required = true;
  };
  RemoteDepots() = default;
  absl::Status Launch(const Site& site, const RemoteDepotPlan& plan, const std::string& host,
                      bool required, int port);
  absl::Status WaitRegistered(const Site& site, int port, int64_t since_unix_ms);

  std::vector<Launched> launched_;
};

}  // namespace srs::tools

#endif  // SRS_TOOLS_REMOTE_DEPOTS_H_
