// The C API (srs.h): the only extern "C" code. Each entry point converts its arguments, calls
// the context (or the distribution factories), and turns the absl::Status into a code and the
// thread's last error message in one helper, ToC. Nothing escapes: no exception crosses the
// boundary, nothing prints to stdout, nothing exits.
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_codes.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "libsrs/src/context.h"
#include "libsrs/src/distribution_handle.h"
#include "libsrs/src/failure_report.h"
#include "srs/srs.h"

#define SRS_API extern "C" __attribute__((visibility("default")))

namespace srs {
namespace libsrs {
namespace {

thread_local std::string t_last_error;

// The library's one global: the context of the current run (rank-local, one per process).
Context* g_context = nullptr;
int g_finalize_keyval = MPI_KEYVAL_INVALID;

int ToC(const absl::Status& status) {
  if (status.ok()) return SRS_OK;
  t_last_error = std::string(status.message());
  SRS_LOG(DEBUG) << "returning " << CErrorCodeString(ToCErrorCode(status.code())) << ": "
                 << status.message();
  return ToCErrorCode(status.code());
}

// Runs `body` (returning absl::Status) so that nothing escapes into C.
template <typename F>
int Guard(const char* call, F&& body) {
  try {
    return ToC(body());
  } catch (const std::exception& e) {
    return ToC(absl::InternalError(absl::StrCat(call, ": ", e.what())));
  } catch (...) {
    return ToC(absl::InternalError(absl::StrCat(call, ": unexpected exception")));
  }
}

absl::StatusOr<Context*> Current(const char* call) {
  if (g_context == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(call, " before SRS_Init (or after SRS_Finish)"));
  }
  return g_context;
}

std::string NameOf(const char* name) { return name == nullptr ? std::string() : name; }

// A failed call the job is unlikely to survive: the RSS records why before the application
// aborts (failure_report.h). `collective`: every rank got the same error.
int ReportIfFailed(const char* call, int rc, bool collective) {
  if (rc < 0 && g_context != nullptr) {
    ReportFailure(g_context->env(), call, absl::Status(FromCErrorCode(rc), t_last_error),
                  collective);
  }
  return rc;
}

// MPI_Finalize deletes MPI_COMM_SELF's attributes first: if the application left without
// SRS_Finish (after a stop, or an error), the context goes away here, stopping the watcher
// thread so it cannot hold the process open.
int DeleteAtFinalize(MPI_Comm, int, void*, void*) {
  if (g_context != nullptr) {
    g_context->PrepareForFinalize();
    delete g_context;
    g_context = nullptr;
  }
  return MPI_SUCCESS;
}

void AttachFinalizeHook() {
  if (g_finalize_keyval == MPI_KEYVAL_INVALID) {
    MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, DeleteAtFinalize, &g_finalize_keyval, nullptr);
  }
  MPI_Comm_set_attr(MPI_COMM_SELF, g_finalize_keyval, nullptr);
}

absl::Status NewHandle(layout::Distribution layout, SRS_Distribution* out) {
  if (out == nullptr) return absl::InvalidArgumentError("NULL output handle");
  auto* handle = new SRS_Distribution_s();
  handle->layout = std::make_shared<const layout::Distribution>(std::move(layout));
  *out = handle;
  return absl::OkStatus();
}

}  // namespace
}  // namespace libsrs
}  // namespace srs

using srs::libsrs::Current;
using srs::libsrs::Guard;
namespace lib = srs::libsrs;

SRS_API const char* SRS_Error_string(int code) { return srs::CErrorCodeString(code); }

SRS_API const char* SRS_Last_error(void) { return lib::t_last_error.c_str(); }

SRS_API int SRS_Datatype_size(SRS_Datatype type) {
  absl::StatusOr<srs::ElementType> element = srs::ElementTypeFromC(type);
  return element.ok() ? static_cast<int>(srs::ElementSize(*element)) : 0;
}

// ---- Distributions (local) -------------------------------------------------------------------

SRS_API int SRS_Distribution_block(SRS_Distribution* out) {
  return Guard("SRS_Distribution_block",
               [&] { return lib::NewHandle(srs::layout::Distribution::Block(), out); });
}

SRS_API int SRS_Distribution_cyclic(SRS_Distribution* out) {
  return Guard("SRS_Distribution_cyclic",
               [&] { return lib::NewHandle(srs::layout::Distribution::Cyclic(), out); });
}

SRS_API int SRS_Distribution_block_cyclic(int64_t block_size, SRS_Distribution* out) {
  return Guard("SRS_Distribution_block_cyclic", [&] {
    if (block_size < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("SRS_Distribution_block_cyclic: block_size ", block_size, " < 1"));
    }
    return lib::NewHandle(srs::layout::Distribution::BlockCyclic(block_size), out);
  });
}

SRS_API int SRS_Distribution_block_cyclic_2d(int64_t rows, int64_t cols, int64_t mb, int64_t nb,
                                             int nprow, int npcol, int rsrc, int csrc,
                                             SRS_Distribution* out) {
  return Guard("SRS_Distribution_block_cyclic_2d", [&] {
    if (rows < 0 || cols < 0 || mb < 1 || nb < 1 || nprow < 1 || npcol < 1 || rsrc < 0 ||
        rsrc >= nprow || csrc < 0 || csrc >= npcol) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SRS_Distribution_block_cyclic_2d: need rows, cols >= 0, mb, nb >= 1, a grid of at "
          "least 1x1 and 0 <= rsrc < nprow, 0 <= csrc < npcol; got rows=",
          rows, " cols=", cols, " mb=", mb, " nb=", nb, " grid ", nprow, "x", npcol, " src (", rsrc,
          ",", csrc, ")"));
    }
    return lib::NewHandle(
        srs::layout::Distribution::BlockCyclic2D(rows, cols, mb, nb, nprow, npcol, rsrc, csrc),
        out);
  });
}

SRS_API int SRS_DistributeFunc_Create(SRS_DistributeFunc fn, void* user, SRS_Distribution* out) {
  return Guard("SRS_DistributeFunc_Create", [&] {
    if (fn == nullptr) return absl::InvalidArgumentError("SRS_DistributeFunc_Create: NULL fn");
    auto bound = [fn, user](int64_t global, int nprocs, int* owner, int64_t* local) {
      return fn(global, nprocs, user, owner, local);
    };
    return lib::NewHandle(srs::layout::Distribution::Func(bound), out);
  });
}

SRS_API int SRS_DistributeMap_Create(int64_t global_count, const int* owner,
                                     SRS_Distribution* out) {
  return Guard("SRS_DistributeMap_Create", [&] {
    if (global_count < 0 || (owner == nullptr && global_count > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SRS_DistributeMap_Create: need global_count >= 0 (got ", global_count,
                       ") and an owner table"));
    }
    std::vector<int> table(owner, owner + global_count);
    return lib::NewHandle(srs::layout::Distribution::Map(std::move(table)), out);
  });
}

SRS_API int SRS_Distribution_free(SRS_Distribution* d) {
  return Guard("SRS_Distribution_free", [&] {
    if (d == nullptr || !lib::IsReal(*d)) return absl::OkStatus();
    if ((*d)->registrations.load() > 0) {
      return absl::FailedPreconditionError(
          "SRS_Distribution_free: the handle is still used by a registered array");
    }
    delete *d;
    *d = nullptr;
    return absl::OkStatus();
  });
}

SRS_API int SRS_Local_count(SRS_Distribution d, int64_t global_count, int rank, int nprocs,
                            int64_t* count) {
  return Guard("SRS_Local_count", [&] {
    if (count == nullptr || d == nullptr || nprocs < 1 || rank < 0 || rank >= nprocs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SRS_Local_count: need a handle, a count pointer and 0 <= rank < nprocs (rank ", rank,
          ", nprocs ", nprocs, ")"));
    }
    if (!lib::IsReal(d)) {  // NONE: the count is the rank's own; SAME: everything
      *count = global_count;
      return absl::OkStatus();
    }
    absl::Status valid = d->layout->Validate(global_count, nprocs);
    if (!valid.ok()) return srs::Annotate(valid, "SRS_Local_count");
    *count = d->layout->LocalCount(global_count, rank, nprocs);
    return absl::OkStatus();
  });
}

// ---- Life cycle ------------------------------------------------------------------------------

SRS_API int SRS_Init(MPI_Comm comm, const char* config_path) {
  return Guard("SRS_Init", [&]() -> absl::Status {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized) {
      return absl::FailedPreconditionError("SRS_Init: MPI is not initialised (call MPI_Init)");
    }
    if (lib::g_context != nullptr) {
      return absl::FailedPreconditionError("SRS_Init: already initialised (SRS_Init twice)");
    }
    if (comm == MPI_COMM_NULL) return absl::InvalidArgumentError("SRS_Init: MPI_COMM_NULL");
    absl::StatusOr<std::unique_ptr<lib::Context>> context =
        lib::Context::Create(comm, lib::NameOf(config_path));
    if (!context.ok()) return context.status();
    lib::g_context = context->release();
    lib::AttachFinalizeHook();
    return absl::OkStatus();
  });
}

SRS_API int SRS_Restart_Value(void) {
  if (lib::g_context == nullptr) {
    lib::t_last_error = "SRS_Restart_Value before SRS_Init";
    return SRS_ERR_FAILED_PRECONDITION;
  }
  return lib::g_context->restart() ? 1 : 0;
}

SRS_API int SRS_Register(const char* name, void* data, SRS_Datatype type, int64_t global_count,
                         SRS_Distribution dist) {
  int rc = Guard("SRS_Register", [&]() -> absl::Status {
    absl::StatusOr<lib::Context*> context = Current("SRS_Register");
    if (!context.ok()) return context.status();
    return (*context)->Register(lib::NameOf(name), data, type, global_count, dist);
  });
  return lib::ReportIfFailed("SRS_Register", rc, /*collective=*/false);
}

SRS_API int SRS_Read(const char* name, void* data, SRS_Datatype type, SRS_Distribution dist) {
  int rc = Guard("SRS_Read", [&]() -> absl::Status {
    absl::StatusOr<lib::Context*> context = Current("SRS_Read");
    if (!context.ok()) return context.status();
    return (*context)->Read(lib::NameOf(name), data, type, dist);
  });
  return lib::ReportIfFailed("SRS_Read", rc, /*collective=*/true);
}

SRS_API int SRS_Query(const char* name, SRS_Datatype* type, int64_t* global_count) {
  return Guard("SRS_Query", [&]() -> absl::Status {
    absl::StatusOr<lib::Context*> context = Current("SRS_Query");
    if (!context.ok()) return context.status();
    srs::ElementType element = srs::ElementType::kDouble;
    absl::Status status = (*context)->Query(lib::NameOf(name), &element, global_count);
    if (status.ok() && type != nullptr) *type = static_cast<SRS_Datatype>(element);
    return status;
  });
}

SRS_API int SRS_Check_Stop(void) {
  int stop = 0;
  int rc = Guard("SRS_Check_Stop", [&]() -> absl::Status {
    absl::StatusOr<lib::Context*> context = Current("SRS_Check_Stop");
    if (!context.ok()) return context.status();
    absl::StatusOr<int> result = (*context)->CheckStop();
    if (result.ok()) stop = *result;
    return result.status();
  });
  return rc == SRS_OK ? stop : lib::ReportIfFailed("SRS_Check_Stop", rc, /*collective=*/true);
}

SRS_API int SRS_Checkpoint(void) {
  int rc = Guard("SRS_Checkpoint", [&]() -> absl::Status {
    absl::StatusOr<lib::Context*> context = Current("SRS_Checkpoint");
    if (!context.ok()) return context.status();
    return (*context)->Checkpoint();
  });
  return lib::ReportIfFailed("SRS_Checkpoint", rc, /*collective=*/true);
}

SRS_API int SRS_Finish(void) {
  int rc = Guard("SRS_Finish", [&]() -> absl::Status {
    absl::StatusOr<lib::Context*> context = Current("SRS_Finish");
    if (!context.ok()) return context.status();
    absl::Status status = (*context)->Finish();
    if (!status.ok()) return status;
    delete lib::g_context;
    lib::g_context = nullptr;
    MPI_Comm_delete_attr(MPI_COMM_SELF, lib::g_finalize_keyval);
    return absl::OkStatus();
  });
  return lib::ReportIfFailed("SRS_Finish", rc, /*collective=*/true);
}
