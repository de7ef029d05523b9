// The client side of job ownership: where a user keeps the owner secrets of the jobs they
// started (docs/security.md). One file, mode 0600 in a 0700 directory, one line per job:
//
//   <rss address> TAB <job> TAB <owner secret>
//
// keyed by the RSS's address and the job name (names cannot hold tabs or newlines: the RSS
// refuses control characters). Where it lives: the `owner_file` config key; `srs run` in the
// embedded default sets it to .srs/owners; otherwise $XDG_STATE_HOME/srs/owners, default
// ~/.local/state/srs/owners. Writers take an flock on <file>.lock and replace the file
// atomically (write a temporary, fsync, rename), so concurrent jobs do not lose each other's lines.
#ifndef SRS_COMMON_OWNER_FILE_H_
#define SRS_COMMON_OWNER_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace srs {

// $XDG_STATE_HOME/srs/owners, else $HOME/.local/state/srs/owners; "" if neither variable is set.
std::string DefaultOwnerFile();

// The secret stored for (rss, job); NOT_FOUND if the file or the line is missing.
absl::StatusOr<std::string> ReadOwnerSecret(const std::string& path, const std::string& rss,
                                            const std::string& job);

// Stores (or replaces) the secret for (rss, job), creating the directory (0700) and the file
// (0600). INVALID_ARGUMENT if a field holds a tab or newline; PERMISSION_DENIED / INTERNAL with
// the path when it cannot be written.
absl::Status StoreOwnerSecret(const std::string& path, const std::string& rss,
                              const std::string& job, const std::string& secret);

// The jobs of `rss` that have a secret in the file (empty if there is no file).
std::vector<std::string> OwnedJobs(const std::string& path, const std::string& rss);

}  // namespace srs

#endif  // SRS_COMMON_OWNER_FILE_H_
