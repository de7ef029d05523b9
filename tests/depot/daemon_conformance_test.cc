// The conformance suite through a real gRPC channel to the real srs-depot binary, started by
// the test (DepotProcess) and stopped with SIGTERM afterwards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/time/clock.h"
#include "depot/client/depot_client.h"
#include "tests/depot/conformance.h"
#include "tests/depot/depot_process.h"
#include "tests/depot/test_grants.h"

namespace srs {
namespace testing {
namespace {

class DaemonUnderTest : public DepotUnderTest {
 public:
  // data_channel: whether the client may use the depot's data channel for reads (the
  // default), or must use the gRPC calls for every byte.
  DaemonUnderTest(int64_t capacity, bool data_channel) {
    char tmpl[] = "/tmp/srs-depot-conf.XXXXXX";
    dir_ = mkdtemp(tmpl);
    // Every write carries the grant an RSS would have issued for its key.
    key_ = MakeGrantKeyFile(dir_ + "/grant.key");
    auto process =
        DepotProcess::Start(SRS_DEPOT_BIN,
                            {"--dir", dir_ + "/depot", "--capacity", std::to_string(capacity),
                             "--grant-key", dir_ + "/grant.key"},
                            dir_ + "/depot.log");
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return;
    process_ = std::move(*process);
    client_ = std::move(DepotClient::Connect(process_->address(), absl::Seconds(20))).value();
    client_->UseDataChannel(data_channel);
  }
  ~DaemonUnderTest() override {
    if (process_ != nullptr) {
      auto status = process_->Stop(SIGTERM, absl::Seconds(10));
      EXPECT_TRUE(status.ok() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << "srs-depot did not exit 0 on SIGTERM";
    }
    std::system(("rm -rf " + dir_).c_str());
  }

  absl::StatusOr<v1::PutResponse> PutBytes(const v1::PieceKey& key, const std::string& bytes,
                                           int64_t lease) override {
    return client_->PutBytes(key, bytes, lease, GrantFor(key_, key));
  }
  absl::StatusOr<v1::PutResponse> PutLocal(
      const v1::PieceKey& key, int64_t size_hint, int64_t lease,
      const std::function<absl::Status(const std::string&)>& write_file) override {
    return client_->PutLocal(key, size_hint, lease, write_file, GrantFor(key_, key));
  }
  absl::Status ReadRange(const std::string& cap, const std::string& dataset, ElementType type,
                         const std::vector<piece::Hyperslab>& sel, void* out,
                         size_t out_bytes) override {
    return client_->ReadRange(cap, dataset, type, sel, out, out_bytes);
  }
  absl::StatusOr<std::string> GetAll(const std::string& cap) override {
    return client_->GetAll(cap);
  }
  absl::StatusOr<std::string> OpenLocal(const std::string& cap) override {
    return client_->OpenLocal(cap);
  }
  absl::StatusOr<v1::PieceInfo> Stat(const std::string& cap) override { return client_->Stat(cap); }
  absl::Status Delete(const std::string& cap) override { return client_->Delete(cap); }
  absl::Status Renew(const std::vector<std::string>& caps, int64_t lease) override {
    return client_->Renew(caps, lease);
  }
  absl::StatusOr<std::vector<v1::PieceInfo>> ListJob(const std::string& job) override {
    return client_->ListJob(job, JobGrant(key_, job));
  }
  // Real time: the lease runs out, then the depot's sweeper (every second) reclaims it.
  void LetTimePass(int seconds) override { absl::SleepFor(absl::Seconds(seconds + 1.5)); }
  bool has_local_paths() const override { return true; }

 private:
  std::string dir_;
  GrantKey key_ = GrantKey::Generate();
  std::unique_ptr<DepotProcess> process_;
  std::unique_ptr<DepotClient> client_;
};

INSTANTIATE_TEST_SUITE_P(Daemon, DepotConformance,
                         ::testing::Values(DepotFactory{"Grpc",
                                                        [](const DepotSetup& s) {
                                                          return std::make_unique<DaemonUnderTest>(
                                                              s.capacity_bytes, false);
                                                        }},
                                           DepotFactory{"DataChannel",
                                                        [](const DepotSetup& s) {
                                                          return std::make_unique<DaemonUnderTest>(
                                                              s.capacity_bytes, true);
                                                        }}),
                         FactoryName);

}  // namespace
}  // namespace testing
}  // namespace srs
