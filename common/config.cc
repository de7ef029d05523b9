#include "common/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace srs {
namespace {

bool IsKnownKey(absl::string_view key) {
  for (const ConfigKey& known : KnownConfigKeys()) {
    if (key == known.name) return true;
  }
  return false;
}

std::string KnownKeyList() {
  std::vector<std::string> names;
  for (const ConfigKey& known : KnownConfigKeys()) names.push_back(known.name);
  return absl::StrJoin(names, ", ");
}

bool IsValidKeyName(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open config file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read config file ", path));
  return text.str();
}

}  // namespace

const std::vector<ConfigKey>& KnownConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      {"rss", "host:port of the Runtime Support Service"},
      {"app", "job name; a restart finds its checkpoints by it"},
      {"depot", "'auto' (the depot registered for my host) or host:port"},
      {"checkpoint_interval", "seconds between periodic checkpoints in SRS_Check_Stop; 0 = off"},
      {"keep", "committed checkpoints to keep (default 1)"},
      {"host", "this node's name for depot=auto (default: the host name)"},
      {"resume", "auto (restart if a checkpoint exists), yes (must restart), no (start over)"},
      {"epoch", "resume from this committed checkpoint epoch (default: the newest)"},
      {"force", "take over from a run that still holds a live lease (needs token_file)"},
      {"token_file", "file holding the RSS admin token (for force)"},
      {"rpc_timeout", "seconds before an RPC to the RSS or a depot gives up (default 30)"},
      {"transport", "depot transport: auto (shared-host fast path when possible), grpc"},
      {"log", "log level on stderr: error, warning (default), info, debug"},
      {"redundancy", "none (default), partner (a full copy on another host's depot), replicas:K"},
      {"checkpoint_mode", "async (copy to staging, write in the background) or sync"},
      {"staging_limit", "bytes of staging memory async checkpoints may use"},
      {"tls_ca", "PEM file of the CA that signed the RSS's and depots' certificates"},
      {"tls_cert", "PEM client certificate (mutual TLS)"},
      {"tls_key", "PEM private key of tls_cert"},
      {"rss_lost_timeout", "seconds a job keeps going without reaching any RSS before failing"},
      {"owner_file",
       "file keeping the owner secrets of my jobs (default "
       "$XDG_STATE_HOME/srs/owners)"},
  };
  return keys;
}

Environment ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Environment MapEnvironment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<Config> Config::Parse(absl::string_view text, absl::string_view origin) {
  Config config;
  config.source_ = std::string(origin);
  int line_number = 0;
  for (absl::string_view raw_line : absl::StrSplit(text, '\n')) {
    ++line_number;
    std::string where = absl::StrCat(origin, ":", line_number);
    absl::string_view line = raw_line;
    size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected 'key = value', got '", line, "'"));
    }
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, equals)));
    std::string value(absl::StripAsciiWhitespace(line.substr(equals + 1)));
    if (!IsValidKeyName(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", key, "' is not a key name (letters, digits, _)"));
    }
    if (!IsKnownKey(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown key '", key, "' (known: ", KnownKeyList(), ")"));
    }
    auto [it, inserted] = config.entries_.try_emplace(key, Entry{value, where});
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": key '", key, "' set twice (first at ", it->second.origin, ")"));
    }
  }
  return config;
}

absl::StatusOr<Config> Config::Load(absl::string_view path, const Environment& env) {
  std::string chosen(path);
  if (chosen.empty()) {
    std::optional<std::string> from_env = env("SRS_CONFIG");
    if (from_env && !from_env->empty()) chosen = *from_env;
  }
  Config config;
  if (chosen.empty()) {
    std::ifstream probe("srs.config");
    if (probe.good()) chosen = "srs.config";
  }
  if (!chosen.empty()) {
    SRS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(chosen));
    SRS_ASSIGN_OR_RETURN(config, Parse(text, chosen));
  }
  config.ApplyEnvironment(env);
  return config;
}

void Config::ApplyEnvironment(const Environment& env) {
  for (const ConfigKey& known : KnownConfigKeys()) {
    std::string variable = absl::StrCat("SRS_", absl::AsciiStrToUpper(known.name));
    std::optional<std::string> value = env(variable);
    if (value) entries_[known.name] = Entry{*value, absl::StrCat("env ", variable)};
  }
}

absl::Status Config::Set(absl::string_view key, absl::string_view value) {
  if (!IsKnownKey(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown key '", key, "' (known: ", KnownKeyList(), ")"));
  }
  entries_[std::string(key)] = Entry{std::string(value), "set"};
  return absl::OkStatus();
}

bool Config::Has(absl::string_view key) const { return entries_.find(key) != entries_.end(); }

std::string Config::GetString(absl::string_view key, absl::string_view fallback) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? std::string(fallback) : it->second.value;
}

absl::StatusOr<int64_t> Config::GetInt(absl::string_view key, int64_t fallback) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second.value, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        it->second.origin, ": ", key, " must be an integer, got '", it->second.value, "'"));
  }
  return value;
}

absl::StatusOr<double> Config::GetDouble(absl::string_view key, double fallback) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(it->second.value, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        it->second.origin, ": ", key, " must be a number, got '", it->second.value, "'"));
  }
  return value;
}

absl::StatusOr<bool> Config::GetBool(absl::string_view key, bool fallback) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return fallback;
  bool value = false;
  if (!absl::SimpleAtob(it->second.value, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        it->second.origin, ": ", key, " must be true/false, got '", it->second.value, "'"));
  }
  return value;
}

std::string Config::Origin(absl::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? "" : it->second.origin;
}

std::string Config::ToText() const {
  std::string text;
  for (const auto& [key, entry] : entries_) absl::StrAppend(&text, key, " = ", entry.value, "\n");
  return text;
}

}  // namespace srs
