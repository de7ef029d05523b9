// Where the tools find the RSS. Either one is configured (`rss` in srs.config or SRS_RSS), or the
// directory has its own private srs-rss and srs-depot ("embedded" mode), whose state lives under
// ./.srs/ and is kept between runs:
//
//   .srs/srs.config      the config jobs get (rss address, depot = auto, token_file, owner_file)
//   .srs/owners          the owner secrets of the jobs started here (mode 0600)
//   .srs/ports           the ports the daemons use and the RSS's listen host; kept so that
//                        checkpoint records (which name the depot by address) stay valid
//   .srs/rss/enroll.secret  what depots on other hosts enroll with (`srs run --hosts`)
//   .srs/rss/            the RSS's durable state, including admin.token
//   .srs/depot/          the depot's pieces
//   .srs/*.log           the daemons' stderr
#ifndef SRS_TOOLS_SITE_H_
#define SRS_TOOLS_SITE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "tools/rss_admin.h"

namespace srs::tools {

struct Site {
  Config config;
  bool embedded = false;
  std::string state_dir;    // absolute path of ./.srs (embedded mode)
  std::string rss;          // host:port
  std::string token_file;   // admin token
  std::string owner_file;   // owner secrets of my jobs (common/owner_file.h)
  std::string config_path;  // what jobs get as SRS_CONFIG ("" = none)
  std::string host;         // this node's name (host key or gethostname)
  absl::Duration rpc_timeout = absl::Seconds(30);
  // Embedded mode: the address the private RSS listens on. Loopback, except under `srs run
  // --hosts` with other hosts, where their depots and ranks must reach it (remote_depots.h).
  std::string listen_host = "127.0.0.1";
  // Embedded mode: the depots run on the job's hosts (remote_depots.h), not here.
  bool remote_depots = false;
};

// Loads srs.config / SRS_* and decides between a configured RSS and embedded mode.
absl::StatusOr<Site> LoadSite();

// The daemons a tool started for embedded mode; stopping them (SIGINT, wait, SIGKILL) when
// this object dies. Their state stays.
class PrivateDaemons {
 public:
  PrivateDaemons() = default;
  ~PrivateDaemons();
  PrivateDaemons(const PrivateDaemons&) = delete;
  PrivateDaemons& operator=(const PrivateDaemons&) = delete;

  // `name` is "rss" or "depot".
  void Adopt(const std::string& name, pid_t pid) { children_.push_back({name, pid}); }
  // Keeps the state directory's lock until the daemons are stopped (see EnsurePrivateDaemons).
  void HoldLock(int fd) { lock_fd_ = fd; }
  bool started_any() const { return !children_.empty(); }
  // The names of the adopted daemons that have exited since the last call (reaped, forgotten),
  // with how each ended ("killed by signal 9", "exited with status 0").
  std::vector<std::pair<std::string, std::string>> ReapDead();
  // Stops them now (idempotent); used on the way out and from the signal path of `srs run`.
  void StopAll();

 private:
  struct Child {
    std::string name;
    pid_t pid;
  };
  std::vector<Child> children_;
  int lock_fd_ = -1;
};

// Who brings the private daemons up: `srs run` keeps them for the whole job; the other tools
// only for their own short lifetime.
enum class Starter { kRun, kTool };

// Embedded mode: makes sure the private RSS (and, if `need_depot`, the depot) of this directory
// answer, starting from their state what is not running. `create` allows making ./.srs; without
// it a directory that never ran `srs run` is FAILED_PRECONDITION. Fills site->rss.
//
// The daemons die with whoever started them, so sharing must not outlive the owner: a tool that
// starts daemons holds .srs/lock until it has stopped them (so a `srs run` arriving meanwhile
// waits, then starts its own), and `srs run` refuses (FAILED_PRECONDITION) to borrow daemons
// another `srs run` owns, since they would vanish when that job ends.
absl::StatusOr<std::unique_ptr<PrivateDaemons>> EnsurePrivateDaemons(Site* site, bool need_depot,
                                                                     bool create, Starter starter);

// Embedded mode, for the `srs run` that owns the daemons: starts the private daemon `name`
// ("rss" or "depot") again from its state, on the port it had (the job's config names it), and
// adopts it. UNAVAILABLE if it cannot (e.g. the port is taken meanwhile).
absl::Status RestartPrivateDaemon(Site* site, const std::string& name, PrivateDaemons* daemons);

// Embedded mode: the daemon flags that go with listening on site.listen_host: none on loopback;
// else TLS (--tls-cert/--tls-key/--tls-ca from tls_cert/tls_key/tls_ca) when configured, or
// --insecure (plain text on the network; a one-line warning says so once).
std::vector<std::string> NetworkFlags(const Site& site);

// The enrollment secret of the private RSS (.srs/rss/enroll.secret, created 0600 on first use):
// depots on other hosts enroll with it instead of the admin token.
absl::StatusOr<std::string> PrivateEnrollSecret(const Site& site);

// Connects with the admin token (from token_file); without token_file, with the owner secrets of
// owner_file (per-job calls only). One-line errors when the RSS or the token file is missing.
absl::StatusOr<RssAdmin> ConnectAdmin(const Site& site);

// For the tools other than `run`: the site, with the private daemons up in embedded mode.
struct OpenedSite {
  Site site;
  std::unique_ptr<PrivateDaemons> daemons;
};
absl::StatusOr<OpenedSite> OpenSite(bool need_depot);

}  // namespace srs::tools

#endif  // SRS_TOOLS_SITE_H_
