// The absl::Status for a failed SQLite call of the RSS's state store. One place decides the code,
// so that every path (statements, scripts, queries) reports an out-of-space disk alike.
#ifndef SRS_RSS_SQLITE_STATUS_H_
#define SRS_RSS_SQLITE_STATUS_H_

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace srs {

// `rc`: the failed call's result code (extended or primary); `db`: its connection (may be null);
// `detail`: SQLite's message. The text is "rss state: <what>: <detail>" ("rss state: <detail>" for
// an empty `what`). RESOURCE_EXHAUSTED when the disk (or the database's size limit) is full:
// SQLITE_FULL, or an I/O error whose system errno is ENOSPC/EDQUOT (issue 14: out of space is the
// operator's to fix, not a bug); the text then says so. INTERNAL otherwise.
absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view what, absl::string_view detail);

}  // namespace srs

#endif  // SRS_RSS_SQLITE_STATUS_H_
