#include "libsrs/src/write_grants.h"

#include <string>
#include <vector>

#include "common/log.h"

namespace srs {
namespace libsrs {

depot::v1::WriteGrant ScatterWriteGrants(MPI_Comm comm, int rank, int nprocs,
                                         const rss::v1::BeginCheckpointResponse* begun) {
  std::string packed;
  std::vector<int> sizes, offsets;
  if (rank == 0) {
    sizes.assign(nprocs, 0);
    offsets.assign(nprocs, 0);
    if (begun != nullptr && begun->write_grants_size() == nprocs) {
      for (int r = 0; r < nprocs; ++r) {
        std::string bytes = begun->write_grants(r).SerializeAsString();
        offsets[r] = static_cast<int>(packed.size());
        sizes[r] = static_cast<int>(bytes.size());
        packed += bytes;
      }
    } else {
      SRS_LOG(WARNING) << "the RSS sent " << (begun ? begun->write_grants_size() : 0)
                       << " write grants for " << nprocs
                       << " ranks: depots that check grants will refuse the pieces";
    }
  }
  int my_size = 0;
  MPI_Scatter(sizes.data(), 1, MPI_INT, &my_size, 1, MPI_INT, 0, comm);
  std::string mine(static_cast<size_t>(my_size), '\0');
  MPI_Scatterv(packed.data(), sizes.data(), offsets.data(), MPI_BYTE, mine.data(), my_size,
               MPI_BYTE, 0, comm);
  depot::v1::WriteGrant grant;
  if (!grant.ParseFromString(mine)) grant.Clear();
  return grant;
}

depot::v1::WriteGrant RootWriteGrant(const rss::v1::BeginCheckpointResponse& begun, int nprocs) {
  if (nprocs < 1 || begun.write_grants_size() != nprocs) return depot::v1::WriteGrant();
  return begun.write_grants(0);
}

}  // namespace libsrs
}  // namespace srs
