#include "depot/client/early_local_write.h"

#include <unistd.h>

#include <utility>

namespace srs {

EarlyLocalWrite::EarlyLocalWrite(std::string path, Writer write)
    : path_(std::move(path)),
      written_(std::async(std::launch::async,
                          [path = path_, write = std::move(write)] { return write(path); })) {}

EarlyLocalWrite::~EarlyLocalWrite() {
  if (!written_.valid()) return;  // taken: the put renamed or removed the file
  written_.wait();
  unlink(path_.c_str());
}

absl::StatusOr<FileDigest> EarlyLocalWrite::Take() { return written_.get(); }

}  // namespace srs
