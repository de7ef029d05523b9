#include "libsrs/src/settings.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace srs {
namespace libsrs {
namespace {

absl::Status BadValue(const Config& config, absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("config key '", key, "' (", config.Origin(key), "): ", why));
}

absl::StatusOr<ResumeMode> ParseResume(const Config& config) {
  std::string value = absl::AsciiStrToLower(config.GetString("resume", "auto"));
  if (value == "auto") return ResumeMode::kAuto;
  if (value == "yes" || value == "true" || value == "1" || value == "on") return ResumeMode::kYes;
  if (value == "no" || value == "false" || value == "0" || value == "off") return ResumeMode::kNo;
  return BadValue(config, "resume", absl::StrCat("'", value, "' is not auto, yes or no"));
}

absl::StatusOr<Transport> ParseTransport(const Config& config) {
  std::string value = absl::AsciiStrToLower(config.GetString("transport", "auto"));
  if (value == "auto") return Transport::kAuto;
  if (value == "grpc") return Transport::kGrpc;
  return BadValue(config, "transport", absl::StrCat("'", value, "' is not auto or grpc"));
}

// `none`, `partner` or `replicas:K` (K copies in all, on depots of K different failure
// domains, 1 <= K <= 8): the copies, and the value as the RSS takes it.
absl::Status ParseRedundancy(const Config& config, Settings* s) {
  std::string value = absl::AsciiStrToLower(config.GetString("redundancy", "none"));
  int copies = 0;
  if (value == "none") {
    copies = 1;
  } else if (value == "partner") {
    copies = 2;
  } else if (absl::StartsWith(value, "replicas:") &&
             absl::SimpleAtoi(value.substr(sizeof("replicas:") - 1), &copies) && copies >= 1 &&
             copies <= 8) {
    if (copies == 1) value = "none";
  } else {
    return BadValue(config, "redundancy",
                    absl::StrCat("'", value, "' is not none, partner or replicas:K (1 <= K <= 8)"));
  }
  s->redundancy_copies = copies;
  s->redundancy = value;
  return absl::OkStatus();
}

absl::StatusOr<CheckpointMode> ParseCheckpointMode(const Config& config) {
  std::string value = absl::AsciiStrToLower(config.GetString("checkpoint_mode", "async"));
  if (value == "async") return CheckpointMode::kAsync;
  if (value == "sync") return CheckpointMode::kSync;
  return BadValue(config, "checkpoint_mode", absl::StrCat("'", value, "' is not async or sync"));
}

// A byte count: digits with an optional K, M, G or T suffix (powers of 1024, "KiB" too).
absl::StatusOr<int64_t> ParseStagingLimit(const Config& config) {
  std::string value = absl::AsciiStrToLower(config.GetString("staging_limit", ""));
  if (value.empty()) return kDefaultStagingLimit;
  std::string digits = value;
  int shift = 0;
  for (const auto& [suffix, bits] :
       {std::pair<const char*, int>{"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}}) {
    for (const char* tail : {"", "b", "ib"}) {
      std::string full = absl::StrCat(suffix, tail);
      if (absl::EndsWith(value, full) && value.size() > full.size()) {
        digits = value.substr(0, value.size() - full.size());
        shift = bits;
      }
    }
  }
  int64_t number = 0;
  constexpr int64_t kMax = int64_t{1} << 50;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(digits), &number) || number < 0 ||
      number > (kMax >> shift)) {
    return BadValue(config, "staging_limit",
                    absl::StrCat("'", value,
                                 "' is not a byte count between 0 and 1P (suffixes K, "
                                 "M, G, T)"));
  }
  return number << shift;
}

absl::Status ParseNumbers(const Config& config, Settings* s) {
  SRS_ASSIGN_OR_RETURN(s->checkpoint_interval, config.GetDouble("checkpoint_interval", 0));
  if (s->checkpoint_interval < 0) return BadValue(config, "checkpoint_interval", "negative");
  SRS_ASSIGN_OR_RETURN(int64_t keep, config.GetInt("keep", 1));
  if (keep < 1 || keep > 1000) return BadValue(config, "keep", "must be between 1 and 1000");
  s->keep = static_cast<int>(keep);
  SRS_ASSIGN_OR_RETURN(s->epoch, config.GetInt("epoch", 0));
  if (s->epoch < 0) return BadValue(config, "epoch", "negative");
  SRS_ASSIGN_OR_RETURN(s->force, config.GetBool("force", false));
  SRS_ASSIGN_OR_RETURN(double timeout, config.GetDouble("rpc_timeout", 30));
  if (timeout <= 0) return BadValue(config, "rpc_timeout", "must be positive");
  s->rpc_timeout = absl::Seconds(timeout);
  SRS_ASSIGN_OR_RETURN(double lost, config.GetDouble("rss_lost_timeout", 600));
  if (lost < 0) return BadValue(config, "rss_lost_timeout", "negative (0 = never)");
  s->rss_lost_timeout = absl::Seconds(lost);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Settings> SettingsFromConfig(const Config& config) {
  Settings s;
  s.rss = config.GetString("rss", "");
  if (s.rss.empty()) {
    return absl::InvalidArgumentError(
        "no RSS configured: set 'rss = host:port' in srs.config or SRS_RSS");
  }
  s.app = config.GetString("app", "");
  if (s.app.empty()) {
    return absl::InvalidArgumentError(
        "no job name configured: set 'app = NAME' in srs.config or SRS_APP");
  }
  s.depot = config.GetString("depot", "auto");
  if (s.depot.empty()) return BadValue(config, "depot", "empty (use auto or host:port)");
  s.host = config.GetString("host", "");
  s.token_file = config.GetString("token_file", "");
  s.owner_file = config.GetString("owner_file", "");
  s.log = config.GetString("log", "");
  SRS_RETURN_IF_ERROR(ParseNumbers(config, &s));
  SRS_ASSIGN_OR_RETURN(s.resume, ParseResume(config));
  SRS_ASSIGN_OR_RETURN(s.transport, ParseTransport(config));
  SRS_RETURN_IF_ERROR(ParseRedundancy(config, &s));
  SRS_ASSIGN_OR_RETURN(s.checkpoint_mode, ParseCheckpointMode(config));
  SRS_ASSIGN_OR_RETURN(s.staging_limit, ParseStagingLimit(config));
  s.tls = {config.GetString("tls_ca", ""), config.GetString("tls_cert", ""),
           config.GetString("tls_key", "")};
  if (s.resume == ResumeMode::kNo && config.Has("epoch") && s.epoch != 0) {
    return BadValue(config, "epoch", "set together with resume = no");
  }
  return s;
}

absl::StatusOr<Settings> LoadSettings(const std::string& path) {
  SRS_ASSIGN_OR_RETURN(Config config, Config::Load(path, ProcessEnvironment()));
  SRS_ASSIGN_OR_RETURN(Settings settings, SettingsFromConfig(config));
  absl::Status tls = tls::SetClientTls(settings.tls);
  if (!tls.ok()) return Annotate(tls, "config keys tls_ca/tls_cert/tls_key");
  return settings;
}

std::string ResolveHost(const Settings& settings) {
  if (!settings.host.empty()) return settings.host;
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace libsrs
}  // namespace srs
