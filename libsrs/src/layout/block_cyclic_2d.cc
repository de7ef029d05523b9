// ScaLAPACK's 2-D block-cyclic layout seen as a 1-D column-major array (DESIGN.md §2).
#include <algorithm>

#include "absl/strings/str_format.h"
#include "libsrs/src/layout/impl.h"

namespace srs {
namespace layout {

int64_t Numroc(int64_t n, int64_t nb, int iproc, int isrcproc, int nprocs) {
  if (n <= 0 || nb <= 0 || nprocs <= 0) return 0;
  int64_t mydist = ((static_cast<int64_t>(iproc) - isrcproc) % nprocs + nprocs) % nprocs;
  int64_t nblocks = n / nb;
  int64_t count = (nblocks / nprocs) * nb;
  int64_t extra = nblocks % nprocs;
  if (mydist < extra) {
    count += nb;
  } else if (mydist == extra) {
    count += n % nb;
  }
  return count;
}

namespace internal {
namespace {

class BlockCyclic2DImpl : public Distribution::Impl {
 public:
  BlockCyclic2DImpl(int64_t rows, int64_t cols, int64_t mb, int64_t nb, int nprow, int npcol,
                    int rsrc, int csrc)
      : rows_(rows),
        cols_(cols),
        mb_(mb),
        nb_(nb),
        nprow_(nprow),
        npcol_(npcol),
        rsrc_(rsrc),
        csrc_(csrc) {}

  Kind kind() const override { return Kind::kBlockCyclic2D; }
  std::vector<int64_t> params() const override {
    return {rows_, cols_, mb_, nb_, nprow_, npcol_, rsrc_, csrc_};
  }
  absl::Status Validate(int64_t global_count, int nprocs) const override;

  int64_t LocalCount(int64_t g_count, int rank, int nprocs) const override {
    return Numroc(rows_, mb_, rank / npcol_, rsrc_, nprow_) *
           Numroc(cols_, nb_, rank % npcol_, csrc_, npcol_);
  }
  std::vector<Segment> Segments(int64_t g_count, int rank, int nprocs) const override;
  Location Locate(int64_t global, int64_t g_count, int nprocs) const override;

 private:
  // Distance of a grid row/column from the one that owns the first block.
  int RowDist(int prow) const { return ((prow - rsrc_) % nprow_ + nprow_) % nprow_; }
  int ColDist(int pcol) const { return ((pcol - csrc_) % npcol_ + npcol_) % npcol_; }

  int64_t rows_, cols_, mb_, nb_;
  int nprow_, npcol_, rsrc_, csrc_;
};

absl::Status BlockCyclic2DImpl::Validate(int64_t global_count, int nprocs) const {
  auto bad = [](const std::string& m) {
    return absl::InvalidArgumentError("block_cyclic_2d: " + m);
  };
  if (rows_ < 0 || cols_ < 0) {
    return bad(absl::StrFormat("rows and cols must be >= 0, got %d x %d", rows_, cols_));
  }
  if (mb_ < 1 || nb_ < 1) {
    return bad(absl::StrFormat("block sizes mb, nb must be >= 1, got %d, %d", mb_, nb_));
  }
  if (nprow_ < 1 || npcol_ < 1) {
    return bad(absl::StrFormat("grid must be >= 1 x 1, got %d x %d", nprow_, npcol_));
  }
  if (rsrc_ < 0 || rsrc_ >= nprow_ || csrc_ < 0 || csrc_ >= npcol_) {
    return bad(absl::StrFormat("source process (%d, %d) outside the %d x %d grid", rsrc_, csrc_,
                               nprow_, npcol_));
  }
  if (cols_ != 0 && rows_ > INT64_MAX / cols_) return bad("rows * cols overflows int64");
  if (rows_ * cols_ != global_count) {
    return bad(absl::StrFormat("rows * cols = %d x %d = %d, but the array has %d elements", rows_,
                               cols_, rows_ * cols_, global_count));
  }
  if (static_cast<int64_t>(nprow_) * npcol_ != nprocs) {
    return bad(absl::StrFormat("process grid %d x %d = %d, but the run has %d processes", nprow_,
                               npcol_, static_cast<int64_t>(nprow_) * npcol_, nprocs));
  }
  return CheckShape("block_cyclic_2d", global_count, nprocs);
}

std::vector<Segment> BlockCyclic2DImpl::Segments(int64_t g_count, int rank, int nprocs) const {
  std::vector<Segment> out;
  int prow = rank / npcol_;
  int rd = RowDist(prow);
  int cd = ColDist(rank % npcol_);
  if (rows_ == 0 || cols_ == 0) return out;
  if (nprow_ == 1) {
    // Whole columns: a 1-D block-cyclic layout of blocks of nb columns.
    AppendBlockCyclicSegments(g_count, std::min(nb_, cols_) * rows_, npcol_, cd, 0, 0, &out);
    return out;
  }
  int64_t lld = Numroc(rows_, mb_, prow, rsrc_, nprow_);
  int64_t period = mb_ * nprow_;
  bool whole_periods = rows_ % period == 0;  // then column j+1 continues column j's stride
  for (int64_t k = 0;; ++k) {
    int64_t jb = cd + k * npcol_;  // k-th column block owned by this grid column
    if (jb * nb_ >= cols_) break;
    int64_t j0 = jb * nb_;
    int64_t width = std::min(nb_, cols_ - j0);
    if (whole_periods) {
      AppendSegment(&out, Segment{j0 * rows_ + rd * mb_, period, (rows_ / period) * width, mb_,
                                  k * nb_ * lld});
      continue;
    }
    for (int64_t c = 0; c < width; ++c) {
      AppendBlockCyclicSegments(rows_, mb_, nprow_, rd, (j0 + c) * rows_, (k * nb_ + c) * lld,
                                &out);
    }
  }
  return out;
}

Location BlockCyclic2DImpl::Locate(int64_t global, int64_t g_count, int nprocs) const {
  int64_t i = global % rows_;
  int64_t j = global / rows_;
  int prow = static_cast<int>((i / mb_ + rsrc_) % nprow_);
  int pcol = static_cast<int>((j / nb_ + csrc_) % npcol_);
  int64_t li = (i / (mb_ * nprow_)) * mb_ + i % mb_;
  int64_t lj = (j / (nb_ * npcol_)) * nb_ + j % nb_;
  int64_t lld = Numroc(rows_, mb_, prow, rsrc_, nprow_);
  return Location{prow * npcol_ + pcol, li + lj * lld};
}

}  // namespace

std::shared_ptr<const Distribution::Impl> NewBlockCyclic2DImpl(int64_t rows, int64_t cols,
                                                               int64_t mb, int64_t nb, int nprow,
                                                               int npcol, int rsrc, int csrc) {
  return std::make_shared<BlockCyclic2DImpl>(rows, cols, mb, nb, nprow, npcol, rsrc, csrc);
}

}  // namespace internal
}  // namespace layout
}  // namespace srs
