// Server-wide bounds on what valid requests may cost the RSS (issue 12, docs/security.md
// "Memory and quotas"):
//
// - RequestBudget: the bytes of requests being processed at once. A parsed RegisterRun of 2^20
//   ranks (a valid request, ~16 MiB on the wire) costs the RSS ~10x its wire size in copies while
//   it is checked, stored and answered; eight of them at once took srs-rss to 3 GiB. Each large
//   call reserves its wire size here before that work starts; a call that does not fit waits a
//   little (`max_wait`) for earlier ones to finish, then is shed with RESOURCE_EXHAUSTED ("try
//   again"), which frees its parsed request at once. A request alone always fits (its reservation
//   is clamped to the capacity), so a maximal legitimate request is never refused for its size.
//   Waiting calls hold their wire bytes, so the queue is bounded too: when the bytes already
//   waiting plus this call's exceed the capacity, the call is shed at once.
// - NewJobGate: creating a job needs no credential (the first registration makes the owner), so
//   the count of jobs is capped (`max_jobs`) and anonymous creations draw from a token bucket
//   (`burst` at once, then `per_minute`); registrations with the admin token bypass the bucket
//   but not the cap. Refusals are RESOURCE_EXHAUSTED with a message that says which limit and the
//   srs-rss flag that sets it.
//
// Both are thread-safe; neither touches the state's mutex.
#ifndef SRS_RSS_REQUEST_BUDGET_H_
#define SRS_RSS_REQUEST_BUDGET_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace srs {

// Defaults of srs-rss --request-budget-mib, --max-jobs, --new-jobs-per-minute.
// 64 MiB of wire bytes parsed at once: one maximal message (kMaxRssMessageBytes), or 16
// registrations of 100 000 ranks (~4 MB each). Working memory is ~5-10x that at worst; eight
// concurrent 2^20-rank registrations peak at ~0.8 GiB instead of 1.7-3 GiB (measured).
inline constexpr int64_t kDefaultRequestBudgetBytes = int64_t{64} << 20;
// A queued call gives up after this long: long enough to ride out another large call's
// processing (a 2^20-rank registration takes ~1-2 s), short enough that a client is told.
inline constexpr absl::Duration kDefaultBudgetWait = absl::Seconds(5);
// Calls below this size are not metered: they cost less than their bookkeeping would save.
inline constexpr int64_t kUnmeteredRequestBytes = 64 << 10;
inline constexpr int64_t kDefaultMaxJobs = 100000;
inline constexpr int kDefaultNewJobsPerMinute = 600;  // 10/s sustained
inline constexpr int kDefaultNewJobBurst = 200;       // srs-rss: max(this, per_minute)

class RequestBudget {
 public:
  // `capacity_bytes` <= 0 disables the budget (every Acquire succeeds at once).
  RequestBudget(int64_t capacity_bytes, absl::Duration max_wait);
  RequestBudget(const RequestBudget&) = delete;
  RequestBudget& operator=(const RequestBudget&) = delete;

  // A reservation; releases its bytes when destroyed. Movable.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
      other.budget_ = nullptr;
    }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

   private:
    friend class RequestBudget;
    Lease(RequestBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
    RequestBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
  };

  // Reserves `bytes` (a request's wire size) for `call` ("RegisterRun"). Waits up to max_wait
  // for room (or not at all when capacity() bytes are already waiting); then
  // RESOURCE_EXHAUSTED "<call>: the rss is busy with N MiB of other large requests; try again".
  // Requests below kUnmeteredRequestBytes pass without a reservation.
  absl::StatusOr<Lease> Acquire(absl::string_view call, int64_t bytes);

  int64_t capacity() const { return capacity_; }
  int64_t in_use() const;   // for tests
  int64_t waiting() const;  // bytes of calls waiting for room (for tests)
  int64_t shed() const;     // calls refused so far (for tests and the log)

 private:
  void Release(int64_t bytes);

  const int64_t capacity_;
  const absl::Duration max_wait_;
  mutable absl::Mutex mu_;
  int64_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waiting_ ABSL_GUARDED_BY(mu_) = 0;  // reservations being waited for
  int64_t shed_ ABSL_GUARDED_BY(mu_) = 0;
};

struct NewJobLimits {
  int64_t max_jobs = kDefaultMaxJobs;         // <= 0: no cap
  int per_minute = kDefaultNewJobsPerMinute;  // anonymous creations; <= 0: no rate limit
  int burst = kDefaultNewJobBurst;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class NewJobGate {
 public:
  explicit NewJobGate(NewJobLimits limits);

  // May a new job be created now? `existing_jobs`: how many the RSS knows; `admin`: the
  // registration carried a valid admin token. OK consumes one token of the anonymous bucket.
  absl::Status Admit(int64_t existing_jobs, bool admin);

 private:
  NewJobLimits limits_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time refilled_ ABSL_GUARDED_BY(mu_);
};

}  // namespace srs

#endif  // SRS_RSS_REQUEST_BUDGET_H_
