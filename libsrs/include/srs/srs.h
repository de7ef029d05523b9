/* SRS — Stop Restart Software: the public C API.
 *
 * SRS makes an iterative MPI application malleable (stop it, restart it on a different number of
 * processes) and migratable (restart it on other nodes or at another site), by checkpointing only
 * the data the application registers.
 *
 * A solver adds a handful of calls:
 *
 *   SRS_Init(MPI_COMM_WORLD, NULL);
 *   SRS_Distribution block;
 *   SRS_Distribution_block(&block);
 *   SRS_Register("u", u, SRS_DOUBLE, n, block);   // records the address, does not copy
 *   SRS_Register("iter", &iter, SRS_INT, 1, SRS_DIST_NONE);
 *   if (SRS_Restart_Value() == 1) {
 *     SRS_Read("u", u, SRS_DOUBLE, block);      // redistributed to this run's layout
 *     SRS_Read("iter", &iter, SRS_INT, SRS_DIST_SAME);
 *   }
 *   while (iter < max_iter) {
 *     step(u);
 *     ++iter;              // count the step before the check: a resume must not redo it
 *     if (SRS_Check_Stop() == 1) { MPI_Finalize(); return 0; }   // checkpoint committed
 *   }
 *   SRS_Finish();
 *
 * Rules that hold for every call:
 *  - Every call returns an int status: SRS_OK (0) or a negative SRS_ERR_* code. Nothing aborts,
 *    nothing prints to stdout, nothing calls exit(). SRS_Last_error() gives the detailed message
 *    of the last failure on this rank (which array, which rank, which depot, why).
 *  - "Collective" calls must be made by every rank of the communicator given to SRS_Init, in the
 *    same order. A collective that fails on one rank fails on every rank (with the same code).
 *  - "Local" calls involve no communication.
 *  - The library keeps its state in one context created by SRS_Init and destroyed by SRS_Finish
 *    or at MPI_Finalize; calls before SRS_Init return SRS_ERR_FAILED_PRECONDITION.
 *
 * Threading: call SRS from one thread per process (MPI_THREAD_FUNNELED is enough). The library
 * runs one background thread on rank 0 to watch the RSS's stop stream.
 */
#ifndef SRS_SRS_H_
#define SRS_SRS_H_

#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SRS_VERSION_MAJOR 1
#define SRS_VERSION_MINOR 0
#define SRS_VERSION_PATCH 0

/* ---- Status codes --------------------------------------------------------------------------
 * One error vocabulary: SRS_ERR_x is the negated absl::StatusCode (and gRPC code) of the same
 * name, so a caller can act on it the same way:
 *   UNAVAILABLE: a daemon is down, retry later;  FAILED_PRECONDITION: fix the state first
 *   (e.g. calls out of order); DATA_LOSS: a piece is corrupt; INVALID_ARGUMENT: fix the call. */
#define SRS_OK 0
#define SRS_ERR_CANCELLED (-1)
#define SRS_ERR_UNKNOWN (-2)
#define SRS_ERR_INVALID_ARGUMENT (-3)
#define SRS_ERR_DEADLINE_EXCEEDED (-4)
#define SRS_ERR_NOT_FOUND (-5)
#define SRS_ERR_ALREADY_EXISTS (-6)
#define SRS_ERR_PERMISSION_DENIED (-7)
#define SRS_ERR_RESOURCE_EXHAUSTED (-8)
#define SRS_ERR_FAILED_PRECONDITION (-9)
#define SRS_ERR_ABORTED (-10)
#define SRS_ERR_OUT_OF_RANGE (-11)
#define SRS_ERR_UNIMPLEMENTED (-12)
#define SRS_ERR_INTERNAL (-13)
#define SRS_ERR_UNAVAILABLE (-14)
#define SRS_ERR_DATA_LOSS (-15)
#define SRS_ERR_UNAUTHENTICATED (-16)

/* A static, human-readable name for a status code ("SRS_ERR_NOT_FOUND: not found"). Never NULL.
 * Local. */
const char *SRS_Error_string(int code);

/* The detailed message of the last failed call on this thread, or "" if none (a successful call
 * does not clear it). The pointer stays valid until the next failing SRS call on this thread.
 * Local. */
const char *SRS_Last_error(void);

/* ---- Datatypes ---------------------------------------------------------------------------- */
typedef enum SRS_Datatype {
  SRS_CHAR = 1,
  SRS_INT32 = 2,
  SRS_INT64 = 3,
  SRS_FLOAT = 4,
  SRS_DOUBLE = 5,
  SRS_FLOAT_COMPLEX = 6,  /* two floats (re, im): C float _Complex, Fortran complex(real32) */
  SRS_DOUBLE_COMPLEX = 7, /* two doubles: C double _Complex, Fortran complex(real64) */
  SRS_INT = 8,            /* C int (an alias of SRS_INT32 or SRS_INT64 as the ABI has it) */
  SRS_LONG = 9            /* C long */
} SRS_Datatype;

/* Size in bytes of one element of `type`, or 0 for an unknown type. Local. */
int SRS_Datatype_size(SRS_Datatype type);

/* ---- Distributions -------------------------------------------------------------------------
 * An opaque handle describing how a 1-D global array of `global_count` elements is split over
 * the P ranks of a run. Built once, reusable for any number of arrays and process counts. */
typedef struct SRS_Distribution_s *SRS_Distribution;

/* Per-process data with no global meaning (the seed system's "0"). Registered with
 * `global_count` = this rank's element count; read back by the same rank of a run with the same
 * process count. */
#define SRS_DIST_NONE ((SRS_Distribution)(intptr_t)1)
/* Read only: the value rank 0 of the old run had, given to every new rank (iteration counters,
 * scalars). Reads once, then broadcasts. */
#define SRS_DIST_SAME ((SRS_Distribution)(intptr_t)2)

/* Rank r of P holds a contiguous run; the first global_count % P ranks hold one element more.
 * Local. */
int SRS_Distribution_block(SRS_Distribution *out);
/* Element i on rank i % P. Local. */
int SRS_Distribution_cyclic(SRS_Distribution *out);
/* Block i / block_size on rank (i / block_size) % P. block_size >= 1. Local. */
int SRS_Distribution_block_cyclic(int64_t block_size, SRS_Distribution *out);
/* ScaLAPACK's 2-D block-cyclic layout of a rows x cols matrix (global element (i, j) has global
 * index i + j*rows, i.e. column-major). Process grid nprow x npcol in BLACS row-major order
 * (rank = prow*npcol + pcol); (rsrc, csrc) own the first block; the local piece is column-major
 * with leading dimension = local row count (NUMROC), ready for ScaLAPACK as it is. nprow*npcol
 * must equal the process count of the run that uses it (checked at Register/Read). Local. */
int SRS_Distribution_block_cyclic_2d(int64_t rows, int64_t cols, int64_t mb, int64_t nb,
                                     int nprow, int npcol, int rsrc, int csrc,
                                     SRS_Distribution *out);

/* A user-defined distribution: fn(global_index, nprocs, user, &owner, &local_index) must set the
 * owning rank (0 <= owner < nprocs) and the element's index in that rank's local buffer, and
 * return 0 (non-zero = error). It must be a bijection onto 0..local_count-1 on every rank. `user`
 * is passed through and must outlive the handle. Local. */
typedef int (*SRS_DistributeFunc)(int64_t global_index, int nprocs, void *user, int *owner,
                                  int64_t *local_index);
int SRS_DistributeFunc_Create(SRS_DistributeFunc fn, void *user, SRS_Distribution *out);

/* A user map: owner[i] is the rank holding global element i (0 <= i < global_count); a rank
 * stores its elements in increasing global order. The map is copied. Only valid for arrays of
 * exactly global_count elements. Local. */
int SRS_DistributeMap_Create(int64_t global_count, const int *owner, SRS_Distribution *out);

/* Frees a handle and sets *d to NULL. Freeing SRS_DIST_NONE/SAME or NULL is a no-op. A handle
 * that is still registered with an array must not be freed (SRS_ERR_FAILED_PRECONDITION). */
int SRS_Distribution_free(SRS_Distribution *d);

/* How many elements of a global_count-element array rank `rank` of `nprocs` holds under `d`.
 * Local. */
int SRS_Local_count(SRS_Distribution d, int64_t global_count, int rank, int nprocs,
                    int64_t *count);

/* ---- Life cycle ----------------------------------------------------------------------------- */

/* Collective. Reads the configuration (config_path; NULL or "" -> $SRS_CONFIG, else ./srs.config,
 * else the SRS_* environment alone), registers this run with the RSS (job name, process count,
 * each rank's host and depot) and learns whether this is a restart and the previous
 * configuration. MPI must be initialised. Errors: INVALID_ARGUMENT (bad config, with file and
 * line), UNAVAILABLE (RSS unreachable), FAILED_PRECONDITION (the job has a live run already, or
 * SRS_Init was called twice), NOT_FOUND (resume requested but nothing to resume). */
int SRS_Init(MPI_Comm comm, const char *config_path);

/* 0: fresh start; 1: continuing from a checkpoint; negative: not initialised. Local. */
int SRS_Restart_Value(void);

/* Local. Records (does not copy) `data` as array `name`: `global_count` elements of `type`
 * distributed by `dist` (for SRS_DIST_NONE: this rank's own element count). The buffer must stay
 * valid, holding this rank's local piece, until SRS_Finish or until the array is registered
 * again (re-registering a name replaces the record). SRS_DIST_SAME cannot be registered.
 * Errors: INVALID_ARGUMENT (empty or too long name, unknown type, negative count, NULL data with
 * a non-zero local count, a 2-D grid that does not match the process count). */
int SRS_Register(const char *name, void *data, SRS_Datatype type, int64_t global_count,
                 SRS_Distribution dist);

/* Collective. Fills `data` with this rank's part of array `name` of the checkpoint being
 * restarted from, laid out by `dist` over this run's ranks (which may differ in number and
 * distribution from the run that wrote it). Each rank fetches, in parallel, only the selections it
 * needs from the depots that hold them. Values convert to `type` where HDF5 converts (e.g.
 * int32 -> double, any byte order). `data` must hold SRS_Local_count(dist, global_count, rank,
 * nprocs) elements (SRS_DIST_NONE: the rank's own old count; SRS_DIST_SAME of a distributed
 * array: all global_count; SRS_DIST_SAME of an array registered with SRS_DIST_NONE: old rank 0's
 * count, which is what a scalar such as an iteration counter needs — SRS_Query reports the sum
 * over the old ranks for such an array).
 * Errors: FAILED_PRECONDITION (not a restart), NOT_FOUND (no such array), INVALID_ARGUMENT (a
 * type that cannot convert, NONE with a different process count, a 2-D grid that does not match),
 * UNAVAILABLE (a depot is unreachable), DATA_LOSS (a corrupt piece). The library cannot see the
 * size of `data` itself: when `name` is already registered (distributed) for this same `data`,
 * a checkpoint of another global count is INVALID_ARGUMENT before anything is written, so
 * register first; otherwise check the stored global count with SRS_Query when it may differ. */
int SRS_Read(const char *name, void *data, SRS_Datatype type, SRS_Distribution dist);

/* Local. What the checkpoint being restarted from holds for `name`: its stored type and global
 * element count (either pointer may be NULL). NOT_FOUND if no such array or not a restart. */
int SRS_Query(const char *name, SRS_Datatype *type, int64_t *global_count);

/* Collective. 0 = go on; 1 = a stop was requested and the checkpoint of every registered array is
 * committed: the application should leave (MPI_Finalize) without calling SRS_Finish; <0 = error.
 * With no stop pending this is one small collective (no RPC, no file system access). If a
 * periodic checkpoint is due (checkpoint_interval) or one was requested from outside
 * (`srs checkpoint`), it is taken here and 0 is returned: with checkpoint_mode = async (the
 * default) the registered arrays are copied into staging memory and written and committed in the
 * background (the application may change them as soon as the call returns; the checkpoint holds
 * the values at the copy and becomes the restart point only once committed, during a later call);
 * a periodic checkpoint due while one is still in flight is skipped, a requested one waits for
 * it; with checkpoint_mode = sync, or arrays above staging_limit, it is written and committed
 * before the call returns. A stop first waits for a checkpoint in flight. If the RSS is
 * unreachable the job goes on (0) and a stop request waits until it is back. A periodic or requested checkpoint that
 * fails leaves the previous one as the restart point, logs a warning and returns 0 (the job goes
 * on); a stop checkpoint that fails returns the error and the stop stays pending (the next call
 * tries again). After it returned 1 it keeps returning 1 without communicating. */
int SRS_Check_Stop(void);

/* Collective. Writes and commits a checkpoint of every registered array now, and goes on; always
 * synchronous (an asynchronous checkpoint in flight is completed first).
 * Errors: FAILED_PRECONDITION (nothing registered, ranks registered different arrays, or the run
 * was stopped), UNAVAILABLE (the RSS or a depot is unreachable), RESOURCE_EXHAUSTED (a depot is
 * full). On error the previous checkpoint stays the restart point. */
int SRS_Checkpoint(void);

/* Collective. Tells the RSS the job is complete (after completing an asynchronous checkpoint in
 * flight): its checkpoints are deleted from the depots.
 * Destroys the context. FAILED_PRECONDITION after SRS_Check_Stop returned 1 (a stopped job must
 * stay resumable: just call MPI_Finalize). On any other error the context stays, so the call can
 * be retried; MPI_Finalize releases it in any case. */
int SRS_Finish(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SRS_SRS_H_ */
