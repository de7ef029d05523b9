#include "libsrs/src/launcher_signals.h"

#include <signal.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace srs {
namespace libsrs {
namespace {

int SignalNumber(const std::string& name) {
  if (name == "TERM") return SIGTERM;
  if (name == "USR1") return SIGUSR1;
  if (name == "USR2") return SIGUSR2;
  if (name == "HUP") return SIGHUP;
  if (name == "INT") return SIGINT;
  return 0;
}

}  // namespace

absl::Status IgnoreSignals(const std::string& names) {
  std::vector<int> signals;
  for (absl::string_view part : absl::StrSplit(names, ',', absl::SkipWhitespace())) {
    std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(part));
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    int sig = SignalNumber(name);
    if (sig == 0) {
      return absl::InvalidArgumentError(absl::StrCat("SRS_IGNORE_SIGNALS: unknown signal '", part,
                                                     "' (use TERM, USR1, USR2, HUP, INT)"));
    }
    signals.push_back(sig);
  }
  for (int sig : signals) signal(sig, SIG_IGN);
  return absl::OkStatus();
}

absl::Status IgnoreLauncherSignals() {
  const char* names = std::getenv("SRS_IGNORE_SIGNALS");
  if (names == nullptr) return absl::OkStatus();
  return IgnoreSignals(names);
}

}  // namespace libsrs
}  // namespace srs
