// SRS for C++: a thin, header-only layer over srs.h. RAII distribution handles, element types
// deduced from the pointer, and a small Status instead of bare int codes. No exceptions.
//
//   srs::Session session;
//   srs::Status status = srs::Session::Init(MPI_COMM_WORLD, nullptr, &session);
//   srs::Distribution block = srs::Distribution::Block();
//   if (session.restarting()) status = session.Read("u", u.data(), block);
//   status = session.Register("u", u.data(), n, block);
//   for (...) {
//     bool stop = false;
//     if (!session.CheckStop(&stop).ok() || stop) break;   // stop: MPI_Finalize, no Finish
//   }
//   session.Finish();
//
// The rules of srs.h hold unchanged (collective vs local calls, one session per process). A
// Session that is destroyed without Finish leaves the job resumable (like leaving after a stop);
// the library releases its state at MPI_Finalize.
#ifndef SRS_SRS_HPP_
#define SRS_SRS_HPP_

#include <complex>
#include <cstdint>
#include <string>
#include <utility>

#include "srs/srs.h"

namespace srs {

// A status code (SRS_OK or SRS_ERR_*) and, on error, SRS_Last_error()'s message.
class Status {
 public:
  Status() = default;
  explicit Status(int code) : code_(code < 0 ? code : SRS_OK) {
    if (code_ != SRS_OK) message_ = SRS_Last_error();
  }
  bool ok() const { return code_ == SRS_OK; }
  int code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const {
    return ok() ? "OK" : std::string(SRS_Error_string(code_)) + ": " + message_;
  }

 private:
  int code_ = SRS_OK;
  std::string message_;
};

// The SRS element type of T (a compile error for unsupported types).
template <typename T>
struct DatatypeOf;
template <>
struct DatatypeOf<char> {
  static constexpr SRS_Datatype value = SRS_CHAR;
};
template <>
struct DatatypeOf<int32_t> {
  static constexpr SRS_Datatype value = SRS_INT32;
};
template <>
struct DatatypeOf<int64_t> {
  static constexpr SRS_Datatype value = SRS_INT64;
};
template <>
struct DatatypeOf<float> {
  static constexpr SRS_Datatype value = SRS_FLOAT;
};
template <>
struct DatatypeOf<double> {
  static constexpr SRS_Datatype value = SRS_DOUBLE;
};
template <>
struct DatatypeOf<std::complex<float>> {
  static constexpr SRS_Datatype value = SRS_FLOAT_COMPLEX;
};
template <>
struct DatatypeOf<std::complex<double>> {
  static constexpr SRS_Datatype value = SRS_DOUBLE_COMPLEX;
};

// Owns an SRS_Distribution (freed on destruction); None() and Same() wrap the constants.
class Distribution {
 public:
  static Distribution None() { return Distribution(SRS_DIST_NONE); }
  static Distribution Same() { return Distribution(SRS_DIST_SAME); }
  static Distribution Block() { return Make(SRS_Distribution_block); }
  static Distribution Cyclic() { return Make(SRS_Distribution_cyclic); }
  static Distribution BlockCyclic(int64_t block_size) {
    SRS_Distribution d = nullptr;
    SRS_Distribution_block_cyclic(block_size, &d);
    return Distribution(d);
  }
  static Distribution BlockCyclic2D(int64_t rows, int64_t cols, int64_t mb, int64_t nb, int nprow,
                                    int npcol, int rsrc = 0, int csrc = 0) {
    SRS_Distribution d = nullptr;
    SRS_Distribution_block_cyclic_2d(rows, cols, mb, nb, nprow, npcol, rsrc, csrc, &d);
    return Distribution(d);
  }
  static Distribution Map(int64_t global_count, const int* owner) {
    SRS_Distribution d = nullptr;
    SRS_DistributeMap_Create(global_count, owner, &d);
    return Distribution(d);
  }

  Distribution(Distribution&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Distribution& operator=(Distribution&& other) noexcept {
    if (this != &other) {
      SRS_Distribution_free(&handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Distribution(const Distribution&) = delete;
  Distribution& operator=(const Distribution&) = delete;
  // Note: free a distribution only after the arrays registered with it are gone (SRS_Finish);
  // while one is registered the library refuses, and the handle is then kept until exit.
  ~Distribution() { SRS_Distribution_free(&handle_); }

  // NULL when construction failed (the factory's error is in SRS_Last_error()).
  bool valid() const { return handle_ != nullptr; }
  SRS_Distribution get() const { return handle_; }
  Status LocalCount(int64_t global_count, int rank, int nprocs, int64_t* count) const {
    return Status(SRS_Local_count(handle_, global_count, rank, nprocs, count));
  }

 private:
  explicit Distribution(SRS_Distribution d) : handle_(d) {}
  static Distribution Make(int (*factory)(SRS_Distribution*)) {
    SRS_Distribution d = nullptr;
    factory(&d);
    return Distribution(d);
  }
  SRS_Distribution handle_ = nullptr;
};

// The library's run, seen from C++. Move-only; at most one initialised per process.
class Session {
 public:
  Session() = default;
  Session(Session&& other) noexcept : active_(std::exchange(other.active_, false)) {}
  Session& operator=(Session&& other) noexcept {
    active_ = std::exchange(other.active_, false);
    return *this;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Collective (SRS_Init).
  static Status Init(MPI_Comm comm, const char* config_path, Session* out) {
    Status status(SRS_Init(comm, config_path));
    if (status.ok()) out->active_ = true;
    return status;
  }
  bool restarting() const { return active_ && SRS_Restart_Value() == 1; }

  template <typename T>
  Status Register(const std::string& name, T* data, int64_t global_count,
                  const Distribution& dist) {
    return Status(SRS_Register(name.c_str(), data, DatatypeOf<T>::value, global_count, dist.get()));
  }
  template <typename T>
  Status Read(const std::string& name, T* data, const Distribution& dist) {
    return Status(SRS_Read(name.c_str(), data, DatatypeOf<T>::value, dist.get()));
  }
  Status Query(const std::string& name, SRS_Datatype* type, int64_t* global_count) const {
    return Status(SRS_Query(name.c_str(), type, global_count));
  }
  // Collective. *stop = true once a stop checkpoint is committed.
  Status CheckStop(bool* stop) {
    int rc = SRS_Check_Stop();
    *stop = rc == 1;
    return Status(rc);
  }
  Status Checkpoint() { return Status(SRS_Checkpoint()); }
  Status Finish() {
    Status status(SRS_Finish());
    if (status.ok()) active_ = false;
    return status;
  }

 private:
  bool active_ = false;
};

}  // namespace srs

#endif  // SRS_SRS_HPP_
