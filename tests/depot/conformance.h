// The depot conformance suite: one set of behaviours every storage backend (through PieceStore)
// and the real srs-depot (through gRPC and DepotClient) must show. A test binary instantiates
// it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(File, DepotConformance, ::testing::Values(FileFactory()));
#ifndef SRS_TESTS_DEPOT_CONFORMANCE_H_
#define SRS_TESTS_DEPOT_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/piece_format.h"
#include "srs/depot/v1/depot.pb.h"

namespace srs {
namespace testing {

namespace v1 = ::srs::depot::v1;

// The operations under test, with DepotClient's signatures.
class DepotUnderTest {
 public:
  virtual ~DepotUnderTest() = default;
  virtual absl::StatusOr<v1::PutResponse> PutBytes(const v1::PieceKey& key,
                                                   const std::string& bytes, int64_t lease) = 0;
  virtual absl::StatusOr<v1::PutResponse> PutLocal(
      const v1::PieceKey& key, int64_t size_hint, int64_t lease,
      const std::function<absl::Status(const std::string&)>& write_file) = 0;
  virtual absl::Status ReadRange(const std::string& cap, const std::string& dataset,
                                 ElementType type, const std::vector<piece::Hyperslab>& sel,
                                 void* out, size_t out_bytes) = 0;
  virtual absl::StatusOr<std::string> GetAll(const std::string& cap) = 0;
  virtual absl::StatusOr<std::string> OpenLocal(const std::string& cap) = 0;
  virtual absl::StatusOr<v1::PieceInfo> Stat(const std::string& cap) = 0;
  virtual absl::Status Delete(const std::string& cap) = 0;
  virtual absl::Status Renew(const std::vector<std::string>& caps, int64_t lease) = 0;
  virtual absl::StatusOr<std::vector<v1::PieceInfo>> ListJob(const std::string& job) = 0;
  // Lets `seconds` of lease time pass and the sweeper run (fake clock, or real waiting).
  virtual void LetTimePass(int seconds) = 0;
  virtual bool has_local_paths() const = 0;
};

struct DepotSetup {
  int64_t capacity_bytes = 0;
};

struct DepotFactory {
  std::string name;
  std::function<std::unique_ptr<DepotUnderTest>(const DepotSetup&)> make;
};

class DepotConformance : public ::testing::TestWithParam<DepotFactory> {
 protected:
  void SetUp() override { depot_ = GetParam().make(DepotSetup{}); }
  void TearDown() override { depot_.reset(); }
  std::unique_ptr<DepotUnderTest> depot_;
};

// For INSTANTIATE_TEST_SUITE_P's name generator.
inline std::string FactoryName(const ::testing::TestParamInfo<DepotFactory>& info) {
  return info.param.name;
}

// Test data helpers, also used by the other depot tests.
v1::PieceKey Key(const std::string& job, int64_t epoch, int32_t rank);
// A piece with dataset "u" (doubles i + 0.5 + rank) and "n" (int32 i*3), `elements` each.
std::string MakePieceImage(const v1::PieceKey& key, int64_t elements);

}  // namespace testing
}  // namespace srs

#endif  // SRS_TESTS_DEPOT_CONFORMANCE_H_
