#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/escaping.h"

namespace srs {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // A capability must never be guessable: better to stop than to hand out a weak one.
      std::fprintf(stderr, "srs: getrandom failed: %s\n", std::strerror(errno));
      std::abort();
    }
  }
  return absl::BytesToHexString(raw);
}

}  // namespace srs
