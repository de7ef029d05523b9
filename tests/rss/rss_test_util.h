// Builders shared by the RSS tests: requests for a run of N ranks, pieces, a fake janitor.
#ifndef SRS_TESTS_RSS_RSS_TEST_UTIL_H_
#define SRS_TESTS_RSS_RSS_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "rss/depot_janitor.h"
#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace testing_util {

inline rss::v1::RegisterRunRequest RunRequest(const std::string& job, int nprocs,
                                              const std::string& depot,
                                              rss::v1::RegisterMode mode = rss::v1::REGISTER_AUTO,
                                              int keep = 1) {
  rss::v1::RegisterRunRequest req;
  req.set_job(job);
  req.set_nprocs(nprocs);
  req.set_mode(mode);
  req.set_keep(keep);
  for (int r = 0; r < nprocs; ++r) {
    rss::v1::RankPlacement* rank = req.add_ranks();
    rank->set_rank(r);
    rank->set_host(absl::StrCat("node", r % 2));
    rank->set_depot(depot);
  }
  return req;
}

inline rss::v1::BeginCheckpointRequest BeginRequest(const std::string& token, int nprocs,
                                                    rss::v1::CheckpointReason reason,
                                                    int narrays = 1) {
  rss::v1::BeginCheckpointRequest req;
  req.set_run_token(token);
  req.set_reason(reason);
  for (int a = 0; a < narrays; ++a) {
    rss::v1::ArraySpec* array = req.add_arrays();
    array->set_name(absl::StrCat("array", a));
    array->set_srs_type("double");
    array->set_global_count(1000 * nprocs);
    array->mutable_distribution()->set_kind("block");
    for (int r = 0; r < nprocs; ++r) array->add_local_counts(1000);
  }
  return req;
}

inline rss::v1::PieceRecord Piece(int rank, int64_t epoch, const std::string& depot) {
  rss::v1::PieceRecord piece;
  piece.set_rank(rank);
  piece.set_depot_address(depot);
  piece.set_read_cap(absl::StrCat("e", epoch, "r", rank, ".read"));
  piece.set_manage_cap(absl::StrCat("e", epoch, "r", rank, ".manage"));
  piece.set_size_bytes(8000);
  piece.set_xxh3_64(static_cast<uint64_t>(epoch * 1000 + rank));
  return piece;
}

inline rss::v1::ReportPiecesRequest Report(const std::string& token, int64_t epoch, int first,
                                           int last, const std::string& depot) {
  rss::v1::ReportPiecesRequest req;
  req.set_run_token(token);
  req.set_epoch(epoch);
  for (int r = first; r < last; ++r) *req.add_pieces() = Piece(r, epoch, depot);
  return req;
}

// A janitor that records calls and fails on demand.
class FakeJanitor : public DepotJanitor {
 public:
  absl::Status Pin(const std::string& depot, const std::vector<std::string>& caps) override {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      if (!pin_error_.ok()) return pin_error_;
      for (const std::string& cap : caps) pinned_.insert(cap);
      hook = std::move(on_pin_);
      on_pin_ = nullptr;
    }
    if (hook) hook();  // once, after the pin (without the janitor's lock)
    return absl::OkStatus();
  }
  // Runs `hook` once, right after the next successful Pin (a test's "meanwhile").
  void on_pin(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    on_pin_ = std::move(hook);
  }
  absl::Status Delete(const std::string& depot, const std::string& cap) override {
    absl::MutexLock lock(&mu_);
    ++delete_calls_;
    if (!delete_error_.ok()) return delete_error_;
    deleted_.insert(cap);
    deleted_at_[cap] = depot;
    return absl::OkStatus();
  }
  void set_pin_error(absl::Status s) {
    absl::MutexLock lock(&mu_);
    pin_error_ = s;
  }
  void set_delete_error(absl::Status s) {
    absl::MutexLock lock(&mu_);
    delete_error_ = s;
  }
  std::set<std::string> pinned() {
    absl::MutexLock lock(&mu_);
    return pinned_;
  }
  std::set<std::string> deleted() {
    absl::MutexLock lock(&mu_);
    return deleted_;
  }
  // Capability -> the depot address its deletion was sent to.
  std::map<std::string, std::string> deleted_at() {
    absl::MutexLock lock(&mu_);
    return deleted_at_;
  }
  int delete_calls() {
    absl::MutexLock lock(&mu_);
    return delete_calls_;
  }

 private:
  absl::Mutex mu_;
  absl::Status pin_error_ ABSL_GUARDED_BY(mu_);
  absl::Status delete_error_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> pinned_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> deleted_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_pin_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> deleted_at_ ABSL_GUARDED_BY(mu_);
  int delete_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// A fresh private directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/srs-rss-test.XXXXXX";
    path_ = mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace testing_util
}  // namespace srs

#endif  // SRS_TESTS_RSS_RSS_TEST_UTIL_H_
