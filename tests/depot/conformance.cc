#include "tests/depot/conformance.h"

#include <gmock/gmock.h>
#include <unistd.h>

#include <atomic>
#include <numeric>
#include <thread>

#include "common/checksum.h"

namespace srs {
namespace testing {

using ::testing::HasSubstr;

v1::PieceKey Key(const std::string& job, int64_t epoch, int32_t rank) {
  v1::PieceKey key;
  key.set_job(job);
  key.set_epoch(epoch);
  key.set_rank(rank);
  return key;
}

std::string MakePieceImage(const v1::PieceKey& key, int64_t elements) {
  std::vector<double> u(elements);
  std::vector<int32_t> n(elements);
  for (int64_t i = 0; i < elements; ++i) {
    u[i] = i + 0.5 + key.rank();
    n[i] = static_cast<int32_t>(i * 3);
  }
  piece::DatasetWrite du{"u", ElementType::kDouble, u.data(), elements, elements * 4, "block", {}};
  piece::DatasetWrite dn{"n", ElementType::kInt32, n.data(), elements, elements * 4, "cyclic", {}};
  absl::StatusOr<std::string> image = piece::WritePieceImage(
      piece::PieceHeader{key.job(), key.epoch(), key.rank(), 4, ""}, {du, dn});
  EXPECT_TRUE(image.ok()) << image.status();
  return image.ok() ? *image : "";
}

}  // namespace testing
}  // namespace srs
