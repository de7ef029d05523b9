// Fetches selections of old pieces from the depots that hold them, several at once, and scatters
// them into the application's buffer. A depot on this rank's host is read through the file
// system (OpenLocal + HDF5 ranged read); any other over gRPC (ReadRange). HDF5 converts to the
// wire type either way, so any stored type and byte order arrives as the caller's type.
//
// A piece may have several copies (redundancy): each task reads one copy, chosen and, on a
// failed read, replaced as rss/client/copy_order.h says (this host first, then the least loaded
// depot; copies on down depots never tried). Every read keeps DepotClient's per-call deadline.
#ifndef SRS_LIBSRS_SRC_PIECE_FETCHER_H_
#define SRS_LIBSRS_SRC_PIECE_FETCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/datatype.h"
#include "common/piece_format.h"
#include "libsrs/src/depot_pool.h"
#include "rss/client/copy_order.h"

namespace srs {
namespace libsrs {

struct FetchTask {
  PieceLocation piece;
  std::string dataset;
  std::vector<piece::Hyperslab> src;  // selections in the old piece (its local index space)
  std::vector<piece::Hyperslab> dst;  // where those elements go in the buffer, same order
  int64_t elements = 0;
};

// Runs fn(0..n-1) on up to `threads` threads; returns the first error (by index).
absl::Status ParallelFor(int n, int threads, const std::function<absl::Status(int)>& fn);

// Reads `elements` elements of `selections` from one copy of a piece into `out`, by whichever
// path fits. `fetched` (null: none) counts the bytes as they land: a shared-host file's raw
// read and a depot's ranged read in slices (at most 4 MiB), HDF5's converting read when it
// ends; once the read is over its count is settled to its size (failed: nothing), so a failed
// or retried attempt does not count twice for long.
absl::Status ReadFromPiece(DepotPool* depots, const CopyLocation& copy, const std::string& dataset,
                           ElementType wire_type, const std::vector<piece::Hyperslab>& selections,
                           int64_t elements, void* out, std::atomic<int64_t>* fetched = nullptr);

// The /srs_index/<dataset> global indices of an old piece (func/map layouts). A shared-host
// depot's file is read in place; otherwise the whole piece is fetched into a temporary file,
// because the depot's ranged read serves array datasets only. Tries the piece's copies in turn.
absl::Status ReadPieceIndex(DepotPool* depots, const PieceLocation& piece,
                            const std::string& dataset, std::vector<int64_t>* index);

// `piece` with its copies in the order to read them (OrderCopies; "this host" asks each
// readable copy's depot its host once, cached), counting the chosen first copy in `load`.
PieceLocation ChooseCopies(DepotPool* depots, const PieceLocation& piece,
                           std::map<std::string, int>* load);

// Runs every task (in parallel), scattering into `buffer` (elements of `wire_type`). Each task's
// copies are ordered first (ChooseCopies, counting in `load`: the caller keeps it across calls so
// the reads of successive arrays spread too; null = these tasks only); a failed copy falls
// back to the next. Large contiguous tasks from a remote depot are cut into up to 4 parts of
// >= 8 MiB that stream in parallel. Errors name the dataset, the old rank and every depot tried.
// `fetched` (null: none) counts the bytes in `buffer` as they land (ReadFromPiece), for a
// restart's progress line.
absl::Status FetchAll(DepotPool* depots, const std::vector<FetchTask>& tasks, ElementType wire_type,
                      void* buffer, int threads, std::map<std::string, int>* load = nullptr,
                      std::atomic<int64_t>* fetched = nullptr);

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_PIECE_FETCHER_H_
