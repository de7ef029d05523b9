#include "libsrs/src/dist_spec.h"

namespace srs {
namespace libsrs {

rss::v1::Distribution ToProto(const DistSpec& spec) {
  rss::v1::Distribution proto;
  proto.set_kind(spec.kind);
  const std::vector<int64_t>& p = spec.params;
  if (spec.kind == "block_cyclic" && p.size() >= 1) proto.set_block_size(p[0]);
  if (spec.kind == "block_cyclic_2d" && p.size() >= 8) {
    proto.set_rows(p[0]);
    proto.set_cols(p[1]);
    proto.set_mb(p[2]);
    proto.set_nb(p[3]);
    proto.set_nprow(static_cast<int32_t>(p[4]));
    proto.set_npcol(static_cast<int32_t>(p[5]));
    proto.set_rsrc(static_cast<int32_t>(p[6]));
    proto.set_csrc(static_cast<int32_t>(p[7]));
  }
  return proto;
}

DistSpec FromProto(const rss::v1::Distribution& proto) {
  DistSpec spec{proto.kind(), {}};
  if (spec.kind == "block_cyclic") spec.params = {proto.block_size()};
  if (spec.kind == "block_cyclic_2d") {
    spec.params = {proto.rows(),  proto.cols(),  proto.mb(),   proto.nb(),
                   proto.nprow(), proto.npcol(), proto.rsrc(), proto.csrc()};
  }
  return spec;
}

}  // namespace libsrs
}  // namespace srs
