// The process-wide HDF5 lock. Debian's HDF5 (1.10.8) is built without thread safety
// (H5is_library_threadsafe() == 0): two threads inside the library at once corrupt its global
// state. Every HDF5 call in every SRS process (depot serving concurrent RPCs, the library
// fetching pieces in parallel, tools) is made while holding this lock:
//
//   {
//     srs::Hdf5Lock lock;           // blocks until no other thread is inside HDF5
//     hid_t file = H5Fopen(...);    // ... any number of HDF5 calls ...
//   }                               // released at scope exit
//
// The mutex is recursive so a helper that takes the lock may call another that takes it too.
// Hold it only around HDF5 calls: do network or checksum work outside it, so parallelism comes
// from the byte transfers around HDF5.
#ifndef SRS_COMMON_HDF5_LOCK_H_
#define SRS_COMMON_HDF5_LOCK_H_

#include <mutex>

namespace srs {

class Hdf5Lock {
 public:
  Hdf5Lock();
  ~Hdf5Lock();
  Hdf5Lock(const Hdf5Lock&) = delete;
  Hdf5Lock& operator=(const Hdf5Lock&) = delete;

  // The one mutex behind every Hdf5Lock of this process (for std::unique_lock users).
  static std::recursive_mutex& Mutex();
};

}  // namespace srs

#endif  // SRS_COMMON_HDF5_LOCK_H_
