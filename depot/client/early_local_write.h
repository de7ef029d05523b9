// A piece written into a same-host depot's spool before its put begins.
//
// A checkpoint's piece cannot be put before the RSS has begun the checkpoint: the put needs the
// epoch's write grant. The bytes, though, are known before: the writer can write the piece file
// into the depot's spool directory under a name of its own while the begin is under way, and the
// put then adopts that file (renamed to its ticket's path, same directory: no copy) instead of
// writing it again (DepotClient::StartEarlyLocalWrite, PutLocalHashed). The depot removes such
// files if the writer dies before the put: all of spool/ at its start, and stray `*.writing`
// files an hour old while it runs (depot/piece_store.h, Sweep).
#ifndef SRS_DEPOT_CLIENT_EARLY_LOCAL_WRITE_H_
#define SRS_DEPOT_CLIENT_EARLY_LOCAL_WRITE_H_

#include <functional>
#include <future>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/written_file_hash.h"

namespace srs {

class EarlyLocalWrite {
 public:
  // What writes the file: its size and XXH3 as written, or why it failed.
  using Writer = std::function<absl::StatusOr<FileDigest>(const std::string& path)>;

  // Starts `write(path)` on a thread of its own. `path` is in the depot's spool directory.
  EarlyLocalWrite(std::string path, Writer write);
  // Waits for the write, then removes the file unless a put took it (Take).
  ~EarlyLocalWrite();
  EarlyLocalWrite(const EarlyLocalWrite&) = delete;
  EarlyLocalWrite& operator=(const EarlyLocalWrite&) = delete;

  const std::string& path() const { return path_; }
  // Whether Take has not been called yet.
  bool available() const { return written_.valid(); }
  // Waits for the write: its outcome, once (available() is false afterwards). The caller owns
  // the file from now on (renames or removes it).
  absl::StatusOr<FileDigest> Take();

 private:
  const std::string path_;
  std::future<absl::StatusOr<FileDigest>> written_;
};

}  // namespace srs

#endif  // SRS_DEPOT_CLIENT_EARLY_LOCAL_WRITE_H_
