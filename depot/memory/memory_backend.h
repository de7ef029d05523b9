// The in-memory backend: pieces live in process memory (tests, and a throwaway depot). Nothing
// survives the process. With a spool directory it also supports the same-host fast path: the
// writer creates the file there and the backend reads it in at commit; OpenLocal is not
// available (FAILED_PRECONDITION: there is no file to hand out).
#ifndef SRS_DEPOT_MEMORY_MEMORY_BACKEND_H_
#define SRS_DEPOT_MEMORY_MEMORY_BACKEND_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "depot/piece_store.h"

namespace srs {
namespace depot {

class MemoryBackend : public PieceBackend {
 public:
  // `spool_dir` empty: no local puts.
  explicit MemoryBackend(std::string spool_dir = "") : spool_dir_(std::move(spool_dir)) {}

  std::string Describe() const override { return "memory"; }
  absl::StatusOr<std::vector<PieceRecord>> LoadRecords() override {
    return std::vector<PieceRecord>();
  }
  absl::StatusOr<std::unique_ptr<StagedPiece>> Stage(const std::string& piece_id) override;
  absl::StatusOr<std::string> SpoolPath(const std::string& piece_id) override;
  absl::StatusOr<std::unique_ptr<StagedPiece>> AdoptSpool(const std::string& piece_id) override;
  void DiscardSpool(const std::string& piece_id) override;
  absl::Status CheckIntegrity(const PieceRecord& record) override;
  absl::Status ReadBytes(const std::string& piece_id, int64_t offset, size_t n, char* out) override;
  absl::Status ReadSelection(const std::string& piece_id, const std::string& dataset,
                             ElementType wire_type, const std::vector<piece::Hyperslab>& selections,
                             void* out, size_t out_bytes) override;
  absl::StatusOr<std::string> LocalPath(const std::string& piece_id) override;
  absl::Status UpdateLeases(const std::vector<PieceRecord>&) override { return absl::OkStatus(); }
  absl::Status Remove(const std::string& piece_id) override;

 private:
  friend class MemoryStagedPiece;
  using Image = std::shared_ptr<const std::string>;
  absl::StatusOr<Image> Find(const std::string& piece_id);
  void Put(const std::string& piece_id, Image image);

  const std::string spool_dir_;
  absl::Mutex mu_;
  // Shared so a read in progress keeps its bytes alive across a concurrent Delete.
  std::map<std::string, Image> images_ ABSL_GUARDED_BY(mu_);
};

}  // namespace depot
}  // namespace srs

#endif  // SRS_DEPOT_MEMORY_MEMORY_BACKEND_H_
