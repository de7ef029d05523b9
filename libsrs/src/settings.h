// The library's view of srs.config (DESIGN.md §3): every key parsed and checked once, at
// SRS_Init, so a typo fails the run at start instead of turning a feature off silently.
#ifndef SRS_LIBSRS_SRC_SETTINGS_H_
#define SRS_LIBSRS_SRC_SETTINGS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "common/tls.h"

namespace srs {
namespace libsrs {

enum class ResumeMode { kAuto, kYes, kNo };
enum class Transport { kAuto, kGrpc };
// How periodic and requested checkpoints run (DESIGN.md §3 checkpoint_mode).
enum class CheckpointMode { kAsync, kSync };

// Default staging_limit: bytes per process async checkpoints may copy into.
inline constexpr int64_t kDefaultStagingLimit = int64_t{1} << 30;

struct Settings {
  std::string rss;                 // host:port of the RSS, or a list h1:p1,h2:p2 (required)
  std::string app;                 // job name (required)
  std::string depot = "auto";      // "auto" or host:port
  double checkpoint_interval = 0;  // seconds; 0 = no periodic checkpoints
  int keep = 1;
  std::string host;  // this node's name (default: gethostname)
  ResumeMode resume = ResumeMode::kAuto;
  int64_t epoch = 0;  // resume from this epoch; 0 = newest
  bool force = false;
  std::string token_file;
  // Owner secrets of my jobs; "" = DefaultOwnerFile() (common/owner_file.h).
  std::string owner_file;
  absl::Duration rpc_timeout = absl::Seconds(30);
  Transport transport = Transport::kAuto;
  std::string log;  // "" = leave the level as SRS_LOG set it
  // Copies of each piece a checkpoint needs before it commits: 1 = `none`, 2 = `partner`,
  // K = `replicas:K` (DESIGN.md §3).
  int redundancy_copies = 1;
  std::string redundancy = "none";  // as sent to the RSS: "none", "partner" or "replicas:K"
  // async: a periodic/requested checkpoint copies the arrays to staging memory and returns; a
  // background thread writes the piece (docs/architecture.md "Asynchronous checkpoints").
  CheckpointMode checkpoint_mode = CheckpointMode::kAsync;
  // Bytes of staging memory per process (0..2^50); a checkpoint that needs more on any rank runs
  // synchronously. Accepts K/M/G/T suffixes (powers of 1024).
  int64_t staging_limit = kDefaultStagingLimit;
  // A job out of contact with every RSS for this long fails at its next SRS_Check_Stop
  // (DESIGN.md §3 rss_lost_timeout); zero = never.
  absl::Duration rss_lost_timeout = absl::Seconds(600);
  // tls_ca, tls_cert, tls_key: TLS for every channel to the RSS and the depots (common/tls.h).
  tls::TlsFiles tls;
};

// Parses a loaded Config; INVALID_ARGUMENT names the key and where its value came from.
absl::StatusOr<Settings> SettingsFromConfig(const Config& config);

// Loads the config (path, else $SRS_CONFIG, else ./srs.config, else environment alone), parses
// it, and makes its TLS keys this process's client TLS (tls::SetClientTls), so every channel
// the library opens uses them; an unreadable certificate is an error here, at SRS_Init.
absl::StatusOr<Settings> LoadSettings(const std::string& path);

// The host name this process reports: `host` if set, else gethostname().
std::string ResolveHost(const Settings& settings);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_SETTINGS_H_
