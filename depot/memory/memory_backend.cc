#include "depot/memory/memory_backend.h"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/checksum.h"
#include "common/status_macros.h"

namespace srs {
namespace depot {

class MemoryStagedPiece : public StagedPiece {
 public:
  MemoryStagedPiece(MemoryBackend* backend, std::string piece_id, std::string bytes)
      : backend_(backend), piece_id_(std::move(piece_id)), bytes_(std::move(bytes)) {}

  absl::Status Append(absl::string_view bytes) override {
    bytes_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  absl::StatusOr<Sealed> Seal() override { return Sealed{static_cast<int64_t>(bytes_.size())}; }
  absl::StatusOr<piece::VerifiedFile> Verify() override {
    piece::VerifiedFile verified;
    SRS_ASSIGN_OR_RETURN(verified.summary,
                         piece::VerifyPieceImage(bytes_, absl::StrCat("piece ", piece_id_)));
    verified.size = static_cast<int64_t>(bytes_.size());
    verified.xxh3 = Xxh3(bytes_.data(), bytes_.size());
    return verified;
  }
  absl::Status Publish(const PieceRecord& record) override {
    backend_->Put(piece_id_, std::make_shared<const std::string>(std::move(bytes_)));
    return absl::OkStatus();
  }

 private:
  MemoryBackend* backend_;
  std::string piece_id_;
  std::string bytes_;
};

absl::StatusOr<std::unique_ptr<StagedPiece>> MemoryBackend::Stage(const std::string& piece_id) {
  return std::unique_ptr<StagedPiece>(new MemoryStagedPiece(this, piece_id, ""));
}

absl::StatusOr<std::string> MemoryBackend::SpoolPath(const std::string& piece_id) {
  if (spool_dir_.empty()) {
    return absl::FailedPreconditionError("this depot has no spool directory for local puts");
  }
  return absl::StrCat(spool_dir_, "/", piece_id, ".h5");
}

absl::StatusOr<std::unique_ptr<StagedPiece>> MemoryBackend::AdoptSpool(
    const std::string& piece_id) {
  SRS_ASSIGN_OR_RETURN(std::string path, SpoolPath(piece_id));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("local put: the writer did not create ", path));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  unlink(path.c_str());  // the bytes now live in memory
  return std::unique_ptr<StagedPiece>(new MemoryStagedPiece(this, piece_id, bytes.str()));
}

void MemoryBackend::DiscardSpool(const std::string& piece_id) {
  absl::StatusOr<std::string> path = SpoolPath(piece_id);
  if (path.ok()) unlink(path->c_str());
}

absl::StatusOr<MemoryBackend::Image> MemoryBackend::Find(const std::string& piece_id) {
  absl::MutexLock lock(&mu_);
  auto it = images_.find(piece_id);
  if (it == images_.end()) return absl::NotFoundError(absl::StrCat("piece ", piece_id, " is gone"));
  return it->second;
}

void MemoryBackend::Put(const std::string& piece_id, Image image) {
  absl::MutexLock lock(&mu_);
  images_[piece_id] = std::move(image);
}

absl::Status MemoryBackend::CheckIntegrity(const PieceRecord& record) {
  SRS_ASSIGN_OR_RETURN(Image image, Find(record.info.piece_id()));
  if (static_cast<int64_t>(image->size()) != record.info.size_bytes() ||
      Xxh3(image->data(), image->size()) != record.info.xxh3_64()) {
    return absl::DataLossError(absl::StrCat("piece ", record.info.piece_id(), " is corrupt"));
  }
  return absl::OkStatus();
}

absl::Status MemoryBackend::ReadBytes(const std::string& piece_id, int64_t offset, size_t n,
                                      char* out) {
  SRS_ASSIGN_OR_RETURN(Image image, Find(piece_id));
  if (offset < 0 || static_cast<size_t>(offset) + n > image->size()) {
    return absl::OutOfRangeError(absl::StrCat("piece ", piece_id, ": read past the end"));
  }
  std::memcpy(out, image->data() + offset, n);
  return absl::OkStatus();
}

absl::Status MemoryBackend::ReadSelection(const std::string& piece_id, const std::string& dataset,
                                          ElementType wire_type,
                                          const std::vector<piece::Hyperslab>& selections,
                                          void* out, size_t out_bytes) {
  SRS_ASSIGN_OR_RETURN(Image image, Find(piece_id));
  return piece::ReadSelectionImage(*image, absl::StrCat("piece ", piece_id), dataset, wire_type,
                                   selections, out, out_bytes);
}

absl::StatusOr<std::string> MemoryBackend::LocalPath(const std::string& piece_id) {
  return absl::FailedPreconditionError(
      absl::StrCat("piece ", piece_id, " is held in memory: no local path (use Get or ReadRange)"));
}

absl::Status MemoryBackend::Remove(const std::string& piece_id) {
  absl::MutexLock lock(&mu_);
  images_.erase(piece_id);
  return absl::OkStatus();
}

}  // namespace depot
}  // namespace srs
