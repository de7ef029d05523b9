// Test-only fault injection: a process that dies (SIGKILL, like a crash) at a named point of the
// checkpoint protocol, so the fault tests prove which checkpoint a kill interrupted instead of
// hoping a timed kill lands inside one (tests/fault/, tests/libsrs/fault.sh).
//
// Inert unless the environment asks for it:
//   SRS_TEST_DIE_AFTER = put     after this rank's piece is stored on its depot (not yet reported)
//                        report  on rank 0, after ReportPieces, before CommitCheckpoint (armed,
//                                it makes the library report every piece apart from the commit,
//                                as it does for an RSS older than commit_accepts_pieces)
//                        commit  on rank 0, after the RSS committed the checkpoint
//   SRS_TEST_DIE_EPOCH = E       only at epoch E (default: the first epoch the point is reached)
//   SRS_TEST_DIE_RANK  = R       only on rank R (default 0)
//   SRS_TEST_DIE_SIGNAL = STOP   freeze (SIGSTOP) instead of dying, like a hung node (once)
// Before dying it prints one line on stderr, "srs-test-hook: dying after POINT epoch E rank R"
// ("freezing (SIGSTOP) after ..." with STOP), which the tests grep as proof the fault happened
// where they claim.
//
// And a slow read, so a test sees a restart's progress line (restore_progress.h) on a machine
// whose local reads are far too quick to show one:
//   SRS_TEST_SLOW_READ_MS = N    every slice a restart reads (a shared-host file's raw read:
//                                4 MiB; a depot's ranged read: its data-channel slices of 4 MiB
//                                or gRPC chunks; piece_fetcher.cc) then waits N ms
// and a slow write, so a test sees `srs stop --wait`'s progress move (checkpoint_progress.h):
//   SRS_TEST_SLOW_WRITE_MS = N   every 8 MiB of a checkpoint piece written back to disk
//                                (common/write_behind.h) or sent to a remote depot then waits N ms
//                                (a same-host piece under 8 MiB is counted only once its depot
//                                has committed it, so it does not wait: use larger pieces)
// and a wrong guess of the epoch a checkpoint's begin will answer, so a test takes the path where
// the piece written early (piece_writer.h, StartEarlyPiece) is discarded and written again:
//   SRS_TEST_EPOCH_GUESS = wrong every synchronous checkpoint guesses one epoch too far
//
// Compiled only with the CMake option SRS_TEST_HOOKS (default: on when the tests are built,
// SRS_BUILD_TESTS; an install/package build with -DSRS_BUILD_TESTS=OFF has no hook at all: the
// call sites compile to nothing).
#ifndef SRS_LIBSRS_SRC_TEST_HOOKS_H_
#define SRS_LIBSRS_SRC_TEST_HOOKS_H_

#include <cstdint>

namespace srs {
namespace libsrs {

enum class TestPoint { kAfterPut, kAfterReport, kAfterCommit };

#ifdef SRS_TEST_HOOKS
// Kills (or freezes) this process if the environment names `point`, `epoch` and `rank`.
void TestHookMaybeDie(TestPoint point, int64_t epoch, int rank);
// Whether SRS_TEST_DIE_AFTER names `point` (at any epoch and rank).
bool TestHookArmed(TestPoint point);
// Sleeps SRS_TEST_SLOW_READ_MS milliseconds if it is set.
void TestHookSlowRead();
// Sleeps SRS_TEST_SLOW_WRITE_MS milliseconds if it is set.
void TestHookSlowWrite();
// 1 when SRS_TEST_EPOCH_GUESS=wrong (added to the guessed epoch), else 0.
int64_t TestHookEpochGuessOffset();
#else
inline void TestHookMaybeDie(TestPoint, int64_t, int) {}
inline bool TestHookArmed(TestPoint) { return false; }
inline void TestHookSlowRead() {}
inline void TestHookSlowWrite() {}
inline int64_t TestHookEpochGuessOffset() { return 0; }
#endif

}  // namespace libsrs
}  // namespace srs

#endif  // SRS_LIBSRS_SRC_TEST_HOOKS_H_
