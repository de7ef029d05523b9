// The srs.config file: `key = value` lines, `#` comments, blank lines ignored. Every key can be
// overridden by an environment variable SRS_<KEY> (upper case). Unknown keys and malformed lines
// are errors naming the file, the line and the reason: a typo in `checkpoint_interval` must not
// silently turn checkpointing off.
//
//   absl::StatusOr<Config> config = Config::Load("", Environment::Process());
//   std::string rss = config->GetString("rss", "");
//   absl::StatusOr<int64_t> keep = config->GetInt("keep", 1);
#ifndef SRS_COMMON_CONFIG_H_
#define SRS_COMMON_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace srs {

struct ConfigKey {
  const char* name;
  const char* meaning;
};

// Every key SRS understands, with what it means (for errors and --help).
const std::vector<ConfigKey>& KnownConfigKeys();

// Where environment variables come from; tests pass a map instead of the process environment.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment ProcessEnvironment();
Environment MapEnvironment(std::map<std::string, std::string> vars);

class Config {
 public:
  // Parses the text of a config file; `origin` names it in errors ("srs.config").
  static absl::StatusOr<Config> Parse(absl::string_view text, absl::string_view origin);
  // Finds and parses the config: `path` if non-empty (must exist), else $SRS_CONFIG (must
  // exist), else ./srs.config if it exists, else no file. Then applies SRS_<KEY> overrides.
  static absl::StatusOr<Config> Load(absl::string_view path, const Environment& env);

  // Overrides keys from SRS_<KEY> environment variables.
  void ApplyEnvironment(const Environment& env);
  // Sets a key programmatically (origin "set"); INVALID_ARGUMENT for unknown keys.
  absl::Status Set(absl::string_view key, absl::string_view value);

  bool Has(absl::string_view key) const;
  std::string GetString(absl::string_view key, absl::string_view fallback) const;
  // Integers and durations; INVALID_ARGUMENT naming the origin when the value is not a number.
  absl::StatusOr<int64_t> GetInt(absl::string_view key, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(absl::string_view key, double fallback) const;
  // true/false, yes/no, on/off, 1/0.
  absl::StatusOr<bool> GetBool(absl::string_view key, bool fallback) const;
  // "file:line" or "env SRS_X" for a key's value, "" if unset.
  std::string Origin(absl::string_view key) const;
  // The config as file text, keys in a stable order.
  std::string ToText() const;
  // The file it came from, "" if none.
  const std::string& source() const { return source_; }

 private:
  struct Entry {
    std::string value;
    std::string origin;
  };
  std::map<std::string, Entry, std::less<>> entries_;
  std::string source_;
};

}  // namespace srs

#endif  // SRS_COMMON_CONFIG_H_
