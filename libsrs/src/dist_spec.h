// A layout's (kind, params) as the RSS proto carries it, and back. The piece attributes use the
// same (kind, params) pair (DESIGN.md §5), so a manifest and a piece describe a layout alike.
#ifndef SRS_LIBSRS_SRC_DIST_SPEC_H_
#define SRS_LIBSRS_SRC_DIST_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "srs/rss/v1/rss.pb.h"

namespace srs {
namespace libsrs {

struct DistSpec {
  std::string kind;  // "none", "block", "cyclic", "block_cyclic", "block_cyclic_2d", "map", ...
  std::vector<int64_t> params;
};

rss::v1::Distribution ToProto(const DistSpec& spec);
DistSpec FromProto(const rss::v1::Distribution& proto);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_DIST_SPEC_H_
