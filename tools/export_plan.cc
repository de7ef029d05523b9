#include "tools/export_plan.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/piece_format.h"
#include "common/status_macros.h"
#include "rss/client/copy_order.h"

namespace srs::tools {
namespace {

std::vector<int64_t> SpecParams(const rssv1::Distribution& dist) {
  if (dist.kind() == "block_cyclic") return {dist.block_size()};
  if (dist.kind() == "block_cyclic_2d") {
    return {dist.rows(),  dist.cols(),  dist.mb(),   dist.nb(),
            dist.nprow(), dist.npcol(), dist.rsrc(), dist.csrc()};
  }
  return {};
}

const rssv1::PieceRecord* PieceOfRank(const rssv1::CheckpointSummary& checkpoint, int rank) {
  for (const rssv1::PieceRecord& piece : checkpoint.pieces()) {
    if (piece.rank() == rank) return &piece;
  }
  return nullptr;
}

int64_t LocalCountOf(const rssv1::ArraySpec& array, int rank) {
  return rank < array.local_counts_size() ? array.local_counts(rank) : 0;
}

// Per-rank data: the pieces one after the other, in rank order.
std::vector<layout::Transfer> ConcatenationPlan(const rssv1::ArraySpec& array, int nprocs) {
  std::vector<layout::Transfer> plan;
  int64_t offset = 0;
  for (int rank = 0; rank < nprocs; ++rank) {
    int64_t count = LocalCountOf(array, rank);
    if (count == 0) continue;
    layout::Transfer transfer;
    transfer.src_rank = rank;
    transfer.src.push_back({0, count, 1, count});
    transfer.dst.push_back({offset, count, 1, count});
    transfer.elements = count;
    plan.push_back(std::move(transfer));
    offset += count;
  }
  return plan;
}

// The copies of `piece` in the order to read them: no copy is local to `srs export`, so the
// old rank spreads the pieces over their copies; copies on down depots are skipped.
PieceLocation CopiesToRead(const rssv1::PieceRecord& piece) {
  return OrderCopies(LocationOf(piece), nullptr, {});
}

// The /srs_index/<name> list of one old rank's piece (`count` elements), read by range: the
// depot serves "srs_index/<name>" like an array dataset, so only the index bytes move.
absl::Status ReadPieceIndex(const rssv1::PieceRecord& piece, const std::string& name, int64_t count,
                            DepotSet* depots, std::vector<int64_t>* index) {
  index->assign(static_cast<size_t>(count), 0);
  const piece::Hyperslab whole{0, count, 1, count};
  return ReadAnyCopy(
      CopiesToRead(piece),
      absl::StrCat("the index of array ", name, " in old rank ", piece.rank(), "'s piece"),
      [&](const CopyLocation& copy) -> absl::Status {
        SRS_ASSIGN_OR_RETURN(DepotClient * depot, depots->Get(copy.address));
        return depot->ReadRange(copy.read_cap, absl::StrCat(piece::kIndexGroup, "/", name),
                                ElementType::kInt64, {whole}, index->data(),
                                static_cast<size_t>(count) * sizeof(int64_t));
      });
}

// map/func layouts travel as per-rank global index lists inside the pieces.
absl::StatusOr<layout::Distribution> ExplicitLayout(const rssv1::CheckpointSummary& checkpoint,
                                                    const rssv1::ArraySpec& array,
                                                    DepotSet* depots) {
  std::vector<std::vector<int64_t>> index(checkpoint.nprocs());
  for (int rank = 0; rank < checkpoint.nprocs(); ++rank) {
    if (LocalCountOf(array, rank) == 0) continue;  // such a rank has no index dataset
    const rssv1::PieceRecord* piece = PieceOfRank(checkpoint, rank);
    if (piece == nullptr) {
      return absl::DataLossError(
          absl::StrCat("checkpoint ", checkpoint.epoch(), " has no piece of rank ", rank));
    }
    SRS_RETURN_IF_ERROR(
        ReadPieceIndex(*piece, array.name(), LocalCountOf(array, rank), depots, &index[rank]));
  }
  return layout::Distribution::Explicit(std::move(index));
}

}  // namespace

std::vector<layout::Hyperslab> SliceSlab(const layout::Hyperslab& slab, int64_t first,
                                         int64_t last) {
  std::vector<layout::Hyperslab> out;
  while (first < last) {
    int64_t block_index = first / slab.block;
    int64_t within = first % slab.block;
    int64_t block_start = slab.start + block_index * slab.stride;
    if (within != 0 || last - first < slab.block) {
      int64_t n = std::min(slab.block - within, last - first);
      out.push_back({block_start + within, n, 1, n});
      first += n;
    } else {
      int64_t blocks = (last - first) / slab.block;
      out.push_back({block_start, blocks > 1 ? slab.stride : slab.block, blocks, slab.block});
      first += blocks * slab.block;
    }
  }
  return out;
}

std::vector<ExportChunk> ChunkPlan(const std::vector<layout::Transfer>& plan,
                                   int64_t max_elements) {
  std::vector<ExportChunk> chunks;
  for (const layout::Transfer& transfer : plan) {
    ExportChunk current{transfer.src_rank, {}, {}, 0};
    for (size_t i = 0; i < transfer.src.size(); ++i) {
      int64_t total = transfer.src[i].elements();
      for (int64_t first = 0; first < total;) {
        int64_t room = max_elements - current.elements;
        int64_t last = std::min(total, first + room);
        for (const auto& s : SliceSlab(transfer.src[i], first, last)) current.src.push_back(s);
        for (const auto& d : SliceSlab(transfer.dst[i], first, last)) current.dst.push_back(d);
        current.elements += last - first;
        first = last;
        if (current.elements == max_elements) {
          chunks.push_back(std::move(current));
          current = ExportChunk{transfer.src_rank, {}, {}, 0};
        }
      }
    }
    if (current.elements > 0) chunks.push_back(std::move(current));
  }
  return chunks;
}

absl::StatusOr<DepotClient*> DepotSet::Get(const std::string& address) {
  auto it = clients_.find(address);
  if (it != clients_.end()) return it->second.get();
  SRS_ASSIGN_OR_RETURN(std::unique_ptr<DepotClient> client,
                       DepotClient::Connect(address, rpc_timeout_));
  DepotClient* raw = client.get();
  clients_[address] = std::move(client);
  return raw;
}

absl::StatusOr<std::vector<layout::Transfer>> PlanWholeArray(
    const rssv1::CheckpointSummary& checkpoint, const rssv1::ArraySpec& array, DepotSet* depots) {
  const std::string& kind = array.distribution().kind();
  if (kind == "none") return ConcatenationPlan(array, checkpoint.nprocs());
  absl::StatusOr<layout::Distribution> dist =
      kind == "map" || kind == "func" || kind == "explicit"
          ? ExplicitLayout(checkpoint, array, depots)
          : layout::Distribution::FromSpec(kind, SpecParams(array.distribution()));
  if (!dist.ok()) return Annotate(dist.status(), absl::StrCat("array ", array.name()));
  return layout::PlanReadWhole(*dist, checkpoint.nprocs(), array.global_count());
}

absl::Status ReadChunk(const rssv1::CheckpointSummary& checkpoint, const std::string& dataset,
                       ElementType type, const ExportChunk& chunk, DepotSet* depots,
                       std::vector<char>* out) {
  const rssv1::PieceRecord* piece = PieceOfRank(checkpoint, chunk.src_rank);
  if (piece == nullptr) {
    return absl::DataLossError(
        absl::StrCat("checkpoint ", checkpoint.epoch(), " has no piece of rank ", chunk.src_rank));
  }
  std::vector<piece::Hyperslab> selections;
  for (const layout::Hyperslab& slab : chunk.src) {
    selections.push_back(layout::ConvertSlab<piece::Hyperslab>(slab));
  }
  out->resize(static_cast<size_t>(chunk.elements) * ElementSize(type));
  return ReadAnyCopy(
      CopiesToRead(*piece), absl::StrCat("reading ", dataset, " of rank ", chunk.src_rank),
      [&](const CopyLocation& copy) -> absl::Status {
        SRS_ASSIGN_OR_RETURN(DepotClient * depot, depots->Get(copy.address));
        return depot->ReadRange(copy.read_cap, dataset, type, selections, out->data(), out->size());
      });
}

}  // namespace srs::tools
