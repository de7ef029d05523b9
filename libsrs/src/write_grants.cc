#include "libsrs/src/write_grants.h"

#include <string>
#include <vector>

#include "common/log.h"

namespace srs {
namespace libsrs {
namespace {

// Rank r's part of `begun`, as one message: its grant and its targets (the scatter moves one
// serialized BeginCheckpointResponse per rank, holding only that rank's entries).
rss::v1::BeginCheckpointResponse PartOf(const rss::v1::BeginCheckpointResponse& begun, int r,
                                        int nprocs) {
  rss::v1::BeginCheckpointResponse part;
  if (begun.write_grants_size() == nprocs) *part.add_write_grants() = begun.write_grants(r);
  if (begun.replica_targets_size() == nprocs) {
    *part.add_replica_targets() = begun.replica_targets(r);
  }
  return part;
}

RankWriteGrant FromPart(const rss::v1::BeginCheckpointResponse& part) {
  RankWriteGrant out;
  if (part.write_grants_size() == 1) out.grant = part.write_grants(0);
  if (part.replica_targets_size() == 1) out.replicas = part.replica_targets(0);
  return out;
}

}  // namespace

RankWriteGrant ScatterWriteGrants(MPI_Comm comm, int rank, int nprocs,
                                  const rss::v1::BeginCheckpointResponse* begun) {
  std::string packed;
  std::vector<int> sizes, offsets;
  if (rank == 0) {
    sizes.assign(nprocs, 0);
    offsets.assign(nprocs, 0);
    if (begun == nullptr || begun->write_grants_size() != nprocs) {
      SRS_LOG(WARNING) << "the RSS sent " << (begun ? begun->write_grants_size() : 0)
                       << " write grants for " << nprocs
                       << " ranks: depots that check grants will refuse the pieces";
    }
    if (begun != nullptr) {
      for (int r = 0; r < nprocs; ++r) {
        std::string bytes = PartOf(*begun, r, nprocs).SerializeAsString();
        offsets[r] = static_cast<int>(packed.size());
        sizes[r] = static_cast<int>(bytes.size());
        packed += bytes;
      }
    }
  }
  int my_size = 0;
  MPI_Scatter(sizes.data(), 1, MPI_INT, &my_size, 1, MPI_INT, 0, comm);
  std::string mine(static_cast<size_t>(my_size), '\0');
  MPI_Scatterv(packed.data(), sizes.data(), offsets.data(), MPI_BYTE, mine.data(), my_size,
               MPI_BYTE, 0, comm);
  rss::v1::BeginCheckpointResponse part;
  if (!part.ParseFromString(mine)) part.Clear();
  return FromPart(part);
}

RankWriteGrant RootWriteGrant(const rss::v1::BeginCheckpointResponse& begun, int nprocs) {
  if (nprocs < 1) return RankWriteGrant();
  return FromPart(PartOf(begun, 0, nprocs));
}

}  // namespace libsrs
}  // namespace srs
