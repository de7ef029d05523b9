// `srs export JOB OUT.h5 [--epoch E]`: a committed checkpoint as one HDF5 file (DESIGN.md §5):
// every registered array a global dataset in global index order, a ScaLAPACK 2-D block-cyclic
// array a 2-D dataset [rows][cols] with element (i, j) = global index i + j*rows. The bytes come
// from the depots by ranged reads planned by the layout planner, a chunk at a time; the file is
// written under a temporary name and renamed, so a half-written export never looks complete.
#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/export_plan.h"
#include "tools/format.h"
#include "tools/job_view.h"
#include "tools/progress.h"
#include "tools/site.h"

namespace srs::tools {
namespace {

constexpr int64_t kChunkBytes = 16 << 20;

// Closes an HDF5 handle with the right H5?close when it goes out of scope.
class H5Handle {
 public:
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~H5Handle() {
    if (id_ >= 0) close_(id_);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

absl::Status H5Check(herr_t result, const std::string& what) {
  if (result < 0) return absl::InternalError(absl::StrCat("HDF5 failed: ", what));
  return absl::OkStatus();
}

// The memory/file type of an element: native numbers; complex as h5py's compound {r, i}.
hid_t CreateType(ElementType type) {
  auto complex = [](hid_t part, size_t size) {
    hid_t compound = H5Tcreate(H5T_COMPOUND, 2 * size);
    H5Tinsert(compound, "r", 0, part);
    H5Tinsert(compound, "i", size, part);
    return compound;
  };
  switch (type) {
    case ElementType::kChar:
      return H5Tcopy(H5T_NATIVE_SCHAR);
    case ElementType::kInt32:
      return H5Tcopy(H5T_NATIVE_INT32);
    case ElementType::kInt64:
      return H5Tcopy(H5T_NATIVE_INT64);
    case ElementType::kFloat:
      return H5Tcopy(H5T_NATIVE_FLOAT);
    case ElementType::kFloatComplex:
      return complex(H5T_NATIVE_FLOAT, sizeof(float));
    case ElementType::kDoubleComplex:
      return complex(H5T_NATIVE_DOUBLE, sizeof(double));
    default:
      return H5Tcopy(H5T_NATIVE_DOUBLE);
  }
}

void StringAttr(hid_t object, const char* name, const std::string& value) {
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle attr(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
  H5Awrite(attr.get(), type.get(), value.c_str());
}

void IntAttrs(hid_t object, const char* name, const std::vector<int64_t>& values) {
  hsize_t n = values.size();
  H5Handle space(values.size() == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr),
                 H5Sclose);
  H5Handle attr(H5Acreate2(object, name, H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
  if (!values.empty()) H5Awrite(attr.get(), H5T_NATIVE_INT64, values.data());
}

struct ArrayTarget {
  hid_t dataset;
  hid_t type;
  size_t element_size;
  bool two_d;
  std::vector<char> whole;  // 2-D arrays: the column-major global array, transposed at the end
};

absl::Status WriteChunk(ArrayTarget* target, const ExportChunk& chunk,
                        const std::vector<char>& bytes) {
  size_t offset = 0;
  for (const layout::Hyperslab& slab : chunk.dst) {
    size_t n = static_cast<size_t>(slab.elements());
    if (target->two_d) {
      for (int64_t b = 0; b < slab.count; ++b) {
        size_t block_bytes = slab.block * target->element_size;
        std::copy_n(bytes.data() + offset, block_bytes,
                    target->whole.data() + (slab.start + b * slab.stride) * target->element_size);
        offset += block_bytes;
      }
      continue;
    }
    hsize_t start = slab.start, stride = slab.stride, count = slab.count, block = slab.block;
    hsize_t mem_n = n;
    H5Handle file_space(H5Dget_space(target->dataset), H5Sclose);
    H5Handle mem_space(H5Screate_simple(1, &mem_n, nullptr), H5Sclose);
    SRS_RETURN_IF_ERROR(H5Check(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, &stride, &count, &block),
        "selecting the export slab"));
    SRS_RETURN_IF_ERROR(H5Check(H5Dwrite(target->dataset, target->type, mem_space.get(),
                                         file_space.get(), H5P_DEFAULT, bytes.data() + offset),
                                "writing the export slab"));
    offset += n * target->element_size;
  }
  return absl::OkStatus();
}

// Column-major (global index i + j*rows) to the row-major [rows][cols] dataset.
absl::Status WriteTwoD(ArrayTarget* target, int64_t rows, int64_t cols) {
  std::vector<char> row_major(target->whole.size());
  size_t e = target->element_size;
  for (int64_t j = 0; j < cols; ++j) {
    for (int64_t i = 0; i < rows; ++i) {
      std::copy_n(target->whole.data() + (i + j * rows) * e, e,
                  row_major.data() + (i * cols + j) * e);
    }
  }
  return H5Check(
      H5Dwrite(target->dataset, target->type, H5S_ALL, H5S_ALL, H5P_DEFAULT, row_major.data()),
      "writing a 2-D export dataset");
}

void ArrayAttrs(hid_t dataset, const rssv1::ArraySpec& array) {
  IntAttrs(dataset, "global_count", {array.global_count()});
  StringAttr(dataset, "distribution", array.distribution().kind());
  StringAttr(dataset, "srs_distribution", DistributionText(array.distribution()));
  StringAttr(dataset, "srs_type", array.srs_type());
  IntAttrs(dataset, "srs_local_counts",
           std::vector<int64_t>(array.local_counts().begin(), array.local_counts().end()));
}

absl::Status ExportArray(hid_t file, const rssv1::CheckpointSummary& checkpoint,
                         const rssv1::ArraySpec& array, DepotSet* depots, Progress* progress) {
  SRS_ASSIGN_OR_RETURN(ElementType type, ElementTypeFromName(array.srs_type()));
  const rssv1::Distribution& dist = array.distribution();
  bool two_d = dist.kind() == "block_cyclic_2d";
  std::vector<hsize_t> dims = two_d
                                  ? std::vector<hsize_t>{hsize_t(dist.rows()), hsize_t(dist.cols())}
                                  : std::vector<hsize_t>{hsize_t(array.global_count())};
  H5Handle h5type(CreateType(type), H5Tclose);
  H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Handle dataset(H5Dcreate2(file, array.name().c_str(), h5type.get(), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
  if (!dataset.ok())
    return absl::InternalError(absl::StrCat("cannot create dataset ", array.name()));
  ArrayTarget target{dataset.get(), h5type.get(), ElementSize(type), two_d, {}};
  if (two_d) target.whole.resize(array.global_count() * target.element_size);
  SRS_ASSIGN_OR_RETURN(std::vector<layout::Transfer> plan,
                       PlanWholeArray(checkpoint, array, depots));
  std::vector<char> bytes;
  for (const ExportChunk& chunk :
       ChunkPlan(plan, std::max<int64_t>(1, kChunkBytes / target.element_size))) {
    SRS_RETURN_IF_ERROR(ReadChunk(checkpoint, array.name(), type, chunk, depots, &bytes));
    SRS_RETURN_IF_ERROR(WriteChunk(&target, chunk, bytes));
    progress->Add(static_cast<int64_t>(bytes.size()));
  }
  if (two_d) SRS_RETURN_IF_ERROR(WriteTwoD(&target, dist.rows(), dist.cols()));
  ArrayAttrs(dataset.get(), array);
  return absl::OkStatus();
}

// The innermost message of HDF5's error stack ("H5FD_sec2_open: unable to open file" ...), the
// most specific one; clears the stack.
std::string Hdf5Reason() {
  std::string text;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
        if (n == 0 && err->desc != nullptr) {
          *static_cast<std::string*>(data) = absl::StrCat(err->func_name, ": ", err->desc);
        }
        return 0;
      },
      &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "unknown error" : text;
}

absl::Status ExportCheckpoint(const std::string& job, const rssv1::CheckpointSummary& checkpoint,
                              const std::string& out, absl::Duration rpc_timeout, bool quiet) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  std::string tmp = out + ".partial";
  // Created here first for the reason it cannot be (errno); HDF5's own failure says only that
  // it failed. HDF5 then truncates it.
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    return absl::Status(err == ENOENT   ? absl::StatusCode::kNotFound
                        : err == EACCES ? absl::StatusCode::kPermissionDenied
                                        : absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("cannot create ", tmp, ": ", std::strerror(err)));
  }
  close(fd);
  H5Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) {
    unlink(tmp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", tmp, ": HDF5: ", Hdf5Reason()));
  }
  IntAttrs(file.get(), "srs_format_version", {1});
  StringAttr(file.get(), "app", job);
  IntAttrs(file.get(), "epoch", {checkpoint.epoch()});
  IntAttrs(file.get(), "nprocs", {checkpoint.nprocs()});
  StringAttr(
      file.get(), "created",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(checkpoint.created_unix_ms()),
                       absl::UTCTimeZone()));
  StringAttr(file.get(), "srs_exported",
             absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
  int64_t total = 0;
  for (const rssv1::ArraySpec& array : checkpoint.arrays()) {
    absl::StatusOr<ElementType> type = ElementTypeFromName(array.srs_type());
    if (type.ok()) total += array.global_count() * ElementSize(*type);
  }
  Progress progress("export", total, quiet);
  DepotSet depots(rpc_timeout);
  for (const rssv1::ArraySpec& array : checkpoint.arrays()) {
    absl::Status status = ExportArray(file.get(), checkpoint, array, &depots, &progress);
    if (!status.ok()) {
      progress.Done();
      unlink(tmp.c_str());
      return status;
    }
  }
  progress.Done();
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) {
    unlink(tmp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", tmp, ": HDF5: ", Hdf5Reason()));
  }
  if (rename(tmp.c_str(), out.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return absl::PermissionDeniedError(
        absl::StrCat("cannot rename ", tmp, " to ", out, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace

int ExportCommand(const Args& argv) {
  ArgParser args("srs export JOB OUT.h5 [--epoch E]",
                 "Writes a committed checkpoint of JOB (the newest, or epoch E) as one HDF5 file:\n"
                 "each registered array a dataset in global index order; 2-D block-cyclic arrays\n"
                 "as [rows][cols] datasets with element (i,j) = global index i + j*rows;\n"
                 "per-rank (\"none\") arrays as the pieces concatenated in rank order.");
  args.AddPositional("JOB", "the job's name");
  args.AddPositional("OUT.h5", "the file to write (replaced if it exists)");
  args.AddValue("epoch", 'e', "E", "export committed checkpoint E (default: the newest)");
  absl::Status parsed = args.Parse(argv);
  if (!parsed.ok()) return Fail("export", parsed);
  if (args.help()) return args.PrintHelp();
  absl::StatusOr<int64_t> epoch = args.GetInt("epoch", 0, 1);
  if (!epoch.ok()) return Fail("export", epoch.status());
  const std::string job = args.Positional("JOB");

  absl::StatusOr<OpenedSite> site = OpenSite(/*need_depot=*/true);
  if (!site.ok()) return Fail("export", site.status());
  absl::StatusOr<RssAdmin> admin = ConnectAdmin(site->site);
  if (!admin.ok()) return Fail("export", admin.status());
  absl::StatusOr<rssv1::GetJobResponse> info = admin->GetJob(job);
  if (!info.ok()) return Fail("export", info.status());
  const rssv1::CheckpointSummary* checkpoint = CommittedCheckpoint(*info, *epoch);
  if (checkpoint == nullptr) {
    return Fail("export",
                absl::NotFoundError(
                    *epoch == 0 ? absl::StrCat("job '", job, "' has no committed checkpoint")
                                : absl::StrCat("job '", job, "' has no committed epoch ", *epoch,
                                               " (srs ls ", job, ")")));
  }
  const std::string out = args.Positional("OUT.h5");
  absl::Status status =
      ExportCheckpoint(job, *checkpoint, out, site->site.rpc_timeout, args.quiet());
  if (!status.ok()) return Fail("export", status);
  // The result line stays under --quiet, as srs stop's does: -q drops progress and chatter only.
  std::printf("exported %s epoch %lld (%d arrays) to %s\n", job.c_str(),
              static_cast<long long>(checkpoint->epoch()), checkpoint->arrays_size(), out.c_str());
  return 0;
}

}  // namespace srs::tools
