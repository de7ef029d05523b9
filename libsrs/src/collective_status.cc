#include "libsrs/src/collective_status.h"

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"

namespace srs {
namespace libsrs {

absl::Status MpiError(int mpi_code, const char* call) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  MPI_Error_string(mpi_code, text, &length);
  return absl::InternalError(absl::StrCat(call, " failed: ", std::string(text, length)));
}

absl::Status BroadcastStatus(MPI_Comm comm, int root, const absl::Status& status) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int code = rank == root ? static_cast<int>(status.code()) : 0;
  std::string message = rank == root ? std::string(status.message()) : std::string();
  MPI_Bcast(&code, 1, MPI_INT, root, comm);
  if (code == 0) return absl::OkStatus();
  BroadcastBytes(comm, root, &message);
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

absl::Status AgreeStatus(MPI_Comm comm, const absl::Status& local) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // The lowest failing rank speaks for everyone, so every rank reports the same error.
  int mine = local.ok() ? INT_MAX : rank;
  int first_failed = INT_MAX;
  MPI_Allreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, comm);
  if (first_failed == INT_MAX) return absl::OkStatus();
  return BroadcastStatus(comm, first_failed, local);
}

void BroadcastBytes(MPI_Comm comm, int root, std::string* bytes) {
  int64_t size = static_cast<int64_t>(bytes->size());
  MPI_Bcast(&size, 1, MPI_INT64_T, root, comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != root) bytes->assign(static_cast<size_t>(size), '\0');
  BroadcastRaw(comm, root, bytes->data(), size);
}

void BroadcastRaw(MPI_Comm comm, int root, void* data, int64_t bytes) {
  // MPI counts are ints: chunk so a large SRS_DIST_SAME array never overflows one.
  constexpr int64_t kChunk = 1 << 30;
  for (int64_t offset = 0; offset < bytes; offset += kChunk) {
    int count = static_cast<int>(std::min(kChunk, bytes - offset));
    MPI_Bcast(static_cast<char*>(data) + offset, count, MPI_BYTE, root, comm);
  }
}

std::vector<std::string> GatherStrings(MPI_Comm comm, int root, const std::string& mine) {
  int rank = 0, size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(rank == root ? size : 0);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, root, comm);
  std::vector<int> offsets(lengths.size());
  int total = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    offsets[i] = total;
    total += lengths[i];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
              root, comm);
  std::vector<std::string> out;
  for (size_t i = 0; i < lengths.size(); ++i) out.push_back(all.substr(offsets[i], lengths[i]));
  return out;
}

}  // namespace libsrs
}  // namespace srs
