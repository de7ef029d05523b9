#include "rss/sqlite_status.h"

#include <errno.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace srs {

absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view what, absl::string_view detail) {
  // sqlite3_system_errno: the errno of the last failed OS call on this connection, which tells a
  // write that hit a full disk from other I/O errors.
  int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  bool full = (rc & 0xff) == SQLITE_FULL ||
              ((rc & 0xff) == SQLITE_IOERR && (sys_errno == ENOSPC || sys_errno == EDQUOT));
  std::string text = what.empty() ? absl::StrCat("rss state: ", detail)
                                  : absl::StrCat("rss state: ", what, ": ", detail);
  if (full) {
    return absl::ResourceExhaustedError(absl::StrCat(
        text, " (out of space for the state database: free space on its disk, then retry)"));
  }
  return absl::InternalError(text);
}

}  // namespace srs
