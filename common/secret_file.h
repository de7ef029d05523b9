// Files that hold secrets (tokens, keys, the depot id): written atomically with mode 0600 and
// read back with their mode tightened, so a secret is never readable by another user.
#ifndef SRS_COMMON_SECRET_FILE_H_
#define SRS_COMMON_SECRET_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace srs {

// Writes `content` to `path` through `path`.tmp (created 0600, fsynced, renamed), so a crash
// leaves either the old or the new file. FAILED_PRECONDITION naming the path on any I/O error.
absl::Status WriteSecretFile(const std::string& path, absl::string_view content);

// The whole content of `path`. If the file is readable by group or others it is chmod'ed to
// 0600 first (whoever loosened it: it holds a secret) and a warning is logged.
// NOT_FOUND when the file does not exist; FAILED_PRECONDITION on other errors; a file over
// 64 KiB, and anything that is not a regular file (a device, a directory, a FIFO: left untouched),
// is INVALID_ARGUMENT.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace srs

#endif  // SRS_COMMON_SECRET_FILE_H_
