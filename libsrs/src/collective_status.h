// Agreement on success or failure across the ranks of a communicator.
//
// A collective SRS call must fail on every rank, with the same code and message, when it fails on
// any rank; otherwise ranks diverge (one goes on to the next collective, another returns) and the
// job hangs. Every collective path in the library ends in AgreeStatus.
#ifndef SRS_LIBSRS_SRC_COLLECTIVE_STATUS_H_
#define SRS_LIBSRS_SRC_COLLECTIVE_STATUS_H_

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace srs {
namespace libsrs {

// Collective. Returns OK on every rank if `local` is OK on every rank; otherwise the status of the
// lowest failing rank, on every rank. Costs one MPI_Allreduce when all succeed.
absl::Status AgreeStatus(MPI_Comm comm, const absl::Status& local);

// Collective. Broadcasts `status` (code and message) from `root` to every rank.
absl::Status BroadcastStatus(MPI_Comm comm, int root, const absl::Status& status);

// Collective. Broadcasts a byte string from `root`; on other ranks `bytes` is replaced.
void BroadcastBytes(MPI_Comm comm, int root, std::string* bytes);

// Collective. Broadcasts `bytes` bytes at `data` from `root` (in chunks below 2 GiB).
void BroadcastRaw(MPI_Comm comm, int root, void* data, int64_t bytes);

// Collective. Gathers one string per rank at `root` (the result is empty on other ranks).
std::vector<std::string> GatherStrings(MPI_Comm comm, int root, const std::string& mine);

// Wraps a failing MPI call's code into a status naming the call.
absl::Status MpiError(int mpi_code, const char* call);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_COLLECTIVE_STATUS_H_
