#include "common/hdf5_lock.h"

namespace srs {

std::recursive_mutex& Hdf5Lock::Mutex() {
  // Leaked on purpose: HDF5 closes itself in an atexit handler that may run after static
  // destructors, and must still find the mutex alive.
  static auto* mutex = new std::recursive_mutex();
  return *mutex;
}

Hdf5Lock::Hdf5Lock() { Mutex().lock(); }
Hdf5Lock::~Hdf5Lock() { Mutex().unlock(); }

}  // namespace srs
