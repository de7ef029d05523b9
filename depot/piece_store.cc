#include "depot/piece_store.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/checksum.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"

namespace srs {
namespace depot {
namespace {

constexpr size_t kSecretHexChars = 32;

std::string KeyString(const v1::PieceKey& key) {
  // Job names are free text: length-prefix them so no two keys collide.
  return absl::StrCat(key.job().size(), ":", key.job(), "/", key.epoch(), "/", key.rank());
}

std::string KeyText(const v1::PieceKey& key) {
  return absl::StrCat("job=", key.job(), " epoch=", key.epoch(), " rank=", key.rank());
}

// Constant time in the length of `expected`: a timing side channel must not reveal how many
// leading characters of a guessed capability are right.
bool SecretEquals(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) diff |= given[i] ^ expected[i];
  return diff == 0;
}

int64_t UnixMs(absl::Time t) { return absl::ToUnixMillis(t); }

// Byte counts are non-negative; a sum that would pass INT64_MAX saturates there, which every
// capacity check then refuses (a size_hint near INT64_MAX must not wrap the sum to negative).
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<int64_t>::max() : sum;
}

absl::Status ValidateLease(int64_t lease_seconds, absl::string_view what) {
  if (lease_seconds < 0 || lease_seconds > kMaxLeaseSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": lease_seconds ", lease_seconds,
                                                   " out of range [0, ", kMaxLeaseSeconds, "]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateHeader(const v1::PutHeader& header) {
  const v1::PieceKey& key = header.key();
  if (key.job().empty() || key.job().size() > kMaxJobNameBytes || key.epoch() < 0 ||
      key.rank() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("put header: invalid piece key (job of 1..", kMaxJobNameBytes,
                     " bytes, epoch >= 0, rank >= 0; got job of ", key.job().size(),
                     " bytes, epoch ", key.epoch(), ", rank ", key.rank(), ")"));
  }
  if (header.size_hint() < 0) return absl::InvalidArgumentError("put header: negative size_hint");
  return ValidateLease(header.lease_seconds(), "put header");
}

}  // namespace

std::vector<std::vector<piece::Hyperslab>> SplitSelections(
    const std::vector<piece::Hyperslab>& selections, int64_t max_elements) {
  std::vector<std::vector<piece::Hyperslab>> groups(1);
  int64_t room = max_elements;
  std::deque<piece::Hyperslab> work(selections.begin(), selections.end());
  while (!work.empty()) {
    piece::Hyperslab s = work.front();
    work.pop_front();
    if (s.count == 0 || s.block == 0) continue;
    if (room == 0) {
      groups.emplace_back();
      room = max_elements;
    }
    if (s.count * s.block <= room) {  // whole selection fits
      groups.back().push_back(s);
      room -= s.count * s.block;
    } else if (s.block <= room) {  // as many whole blocks as fit; the rest goes back
      int64_t k = room / s.block;
      groups.back().push_back({s.start, s.stride, k, s.block});
      room -= k * s.block;
      work.push_front({s.start + k * s.stride, s.stride, s.count - k, s.block});
    } else {  // a block larger than the room: split its first block
      groups.back().push_back({s.start, 1, 1, room});
      if (s.count > 1) work.push_front({s.start + s.stride, s.stride, s.count - 1, s.block});
      work.push_front({s.start + room, 1, 1, s.block - room});
      room = 0;
    }
  }
  if (groups.back().empty()) groups.pop_back();
  return groups;
}

// ---- streamed put ----------------------------------------------------------------------------

class StreamPut : public PutSession {
 public:
  StreamPut(PieceStore* store, PieceStore::Pending pending, std::unique_ptr<StagedPiece> staged)
      : store_(store), pending_(std::move(pending)), staged_(std::move(staged)) {}
  ~StreamPut() override {
    staged_.reset();  // removes the staged bytes unless published
    if (!committed_) store_->Release(pending_);
  }

  absl::Status Append(absl::string_view bytes) override {
    if (committed_ || failed_) return absl::FailedPreconditionError("put already finished");
    const int64_t total = SaturatingAdd(received_, static_cast<int64_t>(bytes.size()));
    const int64_t hint = pending_.header.size_hint();
    absl::Status status =
        hint > 0 && total > hint
            ? absl::ResourceExhaustedError(absl::StrCat("put streamed more than the ", hint,
                                                        " bytes its size_hint reserved"))
            : store_->GrowReservation(pending_, total);
    if (status.ok()) status = staged_->Append(bytes);
    if (!status.ok()) {
      failed_ = true;
      return status;
    }
    hasher_.Update(bytes.data(), bytes.size());
    received_ += bytes.size();
    return absl::OkStatus();
  }

  absl::StatusOr<PutResult> Commit(uint64_t xxh3_64, int64_t total_bytes) override {
    if (committed_ || failed_) return absl::FailedPreconditionError("put already finished");
    failed_ = true;  // until it succeeds
    if (total_bytes != received_) {
      return absl::InvalidArgumentError(
          absl::StrCat("put trailer says ", total_bytes, " bytes but ", received_, " arrived"));
    }
    if (xxh3_64 != hasher_.Digest()) {
      return absl::DataLossError(
          absl::StrCat("put: checksum of the received bytes ", ChecksumToString(hasher_.Digest()),
                       " differs from the trailer's ", ChecksumToString(xxh3_64)));
    }
    SRS_ASSIGN_OR_RETURN(StagedPiece::Sealed sealed, staged_->Seal());
    if (sealed.size != received_) {
      return absl::DataLossError("put: staged bytes differ from the bytes received");
    }
    SRS_ASSIGN_OR_RETURN(PutResult result, store_->Finish(pending_, *staged_, sealed, &xxh3_64));
    committed_ = true;
    failed_ = false;
    return result;
  }

 private:
  PieceStore* store_;
  PieceStore::Pending pending_;
  std::unique_ptr<StagedPiece> staged_;
  Xxh3Hasher hasher_;
  int64_t received_ = 0;
  bool committed_ = false;
  bool failed_ = false;
};

// ---- PieceStore ------------------------------------------------------------------------------

PieceStore::PieceStore(std::unique_ptr<PieceBackend> backend, StoreOptions options)
    : backend_(std::move(backend)), options_(std::move(options)) {}

namespace {

// The background pass hashes at idle priority: the CPU's (SCHED_IDLE) and the disk's (the idle
// I/O class). On a node whose cores all run ranks, reading and hashing every byte of each new
// piece at normal priority took that time from the solver (periodic_overhead at 256 MiB a rank:
// 34-43 % with it, 12-13 % without); nothing depends on when the pass ends, since a read of a
// piece the pass has not reached verifies it first (CheckIntegrity). Only the hashing runs idle:
// the thread takes the store's locks at normal priority, so it cannot be left holding one while
// the ranks keep the cores (a commit would wait for it). `tid`: a thread of this process.
void SetIdlePriority(pthread_t thread, pid_t tid, bool idle) {
  sched_param param{};
  param.sched_priority = 0;
  if (pthread_setschedparam(thread, idle ? SCHED_IDLE : SCHED_OTHER, &param) != 0) {
    setpriority(PRIO_PROCESS, static_cast<id_t>(tid), idle ? 19 : 0);  // the next best
  }
  // ioprio_set(IOPRIO_WHO_PROCESS, tid, IOPRIO_PRIO_VALUE(class, level)); glibc has no wrapper.
  // Best effort: a kernel without it leaves the normal class.
  constexpr int kWhoProcess = 1, kClassBestEffort = 2, kClassIdle = 3, kClassShift = 13;
  const int value = idle ? kClassIdle << kClassShift : (kClassBestEffort << kClassShift) | 4;
  syscall(SYS_ioprio_set, kWhoProcess, static_cast<int>(tid), value);
}

// How long the depot must have committed no piece before the background pass reads one, unless
// the oldest piece waiting has waited kScrubMaxDelay: a job committing every second then gets
// its pieces checked anyway (at idle priority), one at a time.
constexpr absl::Duration kScrubQuiet = absl::Seconds(2);
constexpr absl::Duration kScrubMaxDelay = absl::Seconds(30);
// At most this many pieces wait; beyond, the oldest are left to their first read's check (a
// depot taking a commit every few milliseconds must not grow a queue without bound).
constexpr size_t kMaxScrubQueue = 4096;

}  // namespace

PieceStore::~PieceStore() {
  {
    absl::MutexLock lock(&verify_mu_);
    stopping_ = true;
    // A hash in progress finishes at normal priority: shutdown does not wait on idle time.
    if (verifier_.joinable() && verifier_tid_ != 0) {
      SetIdlePriority(verifier_.native_handle(), verifier_tid_, false);
    }
  }
  if (verifier_.joinable()) verifier_.join();
}

void PieceStore::QueueVerification(const PieceRecord& record) {
  absl::MutexLock lock(&verify_mu_);
  if (stopping_) return;
  if (to_verify_.size() >= kMaxScrubQueue) to_verify_.pop_front();
  const absl::Time now = absl::Now();
  to_verify_.push_back({record, now});
  last_queued_ = now;
  if (!verifier_.joinable()) verifier_ = std::thread([this] { VerifyLoop(); });
}

// Reads every byte of each piece committed on its writer's checksum and compares (the backend
// remembers a match, so the first read of the piece need not hash it again), hashing at idle
// priority (SetIdlePriority), once no piece has been committed for kScrubQuiet or the oldest has
// waited kScrubMaxDelay. A mismatch is logged here and refused to every reader (CheckIntegrity
// runs again before each read of an unverified piece). Pieces deleted meanwhile are skipped.
void PieceStore::VerifyLoop() {
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  {
    absl::MutexLock lock(&verify_mu_);
    verifier_tid_ = tid;
  }
  for (;;) {
    PieceRecord record;
    {
      absl::MutexLock lock(&verify_mu_);
      verify_mu_.Await(absl::Condition(
          +[](PieceStore* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || !self->to_verify_.empty();
          },
          this));
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(verify_mu_) {
        const absl::Time now = absl::Now();
        return now - last_queued_ >= kScrubQuiet ||
               now - to_verify_.front().queued >= kScrubMaxDelay;
      };
      while (!stopping_ && !due()) {
        verify_mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500));
      }
      if (stopping_) return;
      record = std::move(to_verify_.front().record);
      to_verify_.pop_front();
    }
    {
      absl::MutexLock lock(&mu_);
      if (pieces_.count(record.info.piece_id()) == 0) continue;
    }
    SetIdlePriority(pthread_self(), tid, true);
    absl::Status integrity = backend_->CheckIntegrity(record);
    SetIdlePriority(pthread_self(), tid, false);
    absl::MutexLock lock(&mu_);
    if (!integrity.ok() && pieces_.count(record.info.piece_id()) != 0) {
      SRS_LOG(ERROR).Field("piece", record.info.piece_id())
          << "background check after commit: " << integrity.message();
    }
  }
}

absl::StatusOr<std::unique_ptr<PieceStore>> PieceStore::Open(std::unique_ptr<PieceBackend> backend,
                                                             StoreOptions options) {
  if (options.capacity_bytes < 0) return absl::InvalidArgumentError("negative capacity");
  SRS_ASSIGN_OR_RETURN(std::vector<PieceRecord> records, backend->LoadRecords());
  std::unique_ptr<PieceStore> store(new PieceStore(std::move(backend), std::move(options)));
  absl::MutexLock lock(&store->mu_);
  for (PieceRecord& record : records) {
    store->used_bytes_ += record.info.size_bytes();
    store->keys_[KeyString(record.info.key())] = record.info.piece_id();
    std::string id = record.info.piece_id();
    store->pieces_.emplace(std::move(id), std::move(record));
  }
  return store;
}

absl::StatusOr<PieceStore::Pending> PieceStore::Reserve(const v1::PutHeader& header) {
  SRS_RETURN_IF_ERROR(ValidateHeader(header));
  Pending pending;
  pending.key = KeyString(header.key());
  pending.header = header;
  pending.piece_id = RandomHex(8);
  absl::Duration lease =
      header.lease_seconds() > 0 ? absl::Seconds(header.lease_seconds()) : options_.default_lease;
  pending.expires = options_.now() + lease;
  absl::MutexLock lock(&mu_);
  if (keys_.count(pending.key) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("a piece for ", KeyText(header.key()), " already exists or is being put"));
  }
  const int64_t in_use = SaturatingAdd(used_bytes_, reserved_bytes_);
  const int64_t total = SaturatingAdd(in_use, header.size_hint());
  // Even an unlimited depot refuses a reservation its byte counters cannot hold.
  if ((options_.capacity_bytes > 0 && total > options_.capacity_bytes) ||
      total == std::numeric_limits<int64_t>::max()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "put of ", header.size_hint(), " bytes for ", KeyText(header.key()),
        " exceeds the depot capacity (", options_.capacity_bytes, " bytes, ", in_use, " in use)"));
  }
  pending.reserved = header.size_hint();
  reserved_bytes_ += pending.reserved;
  keys_[pending.key] = pending.piece_id;
  return pending;
}

absl::Status PieceStore::GrowReservation(Pending& pending, int64_t total) {
  if (total <= pending.reserved) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const int64_t more = total - pending.reserved;
  const int64_t after = SaturatingAdd(SaturatingAdd(used_bytes_, reserved_bytes_), more);
  if ((options_.capacity_bytes > 0 && after > options_.capacity_bytes) ||
      after == std::numeric_limits<int64_t>::max()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("put for ", KeyText(pending.header.key()), " exceeds the depot capacity (",
                     options_.capacity_bytes, " bytes) after ", pending.reserved, " bytes"));
  }
  reserved_bytes_ += more;
  pending.reserved = total;
  return absl::OkStatus();
}

void PieceStore::Release(const Pending& pending) {
  absl::MutexLock lock(&mu_);
  reserved_bytes_ -= pending.reserved;
  auto it = keys_.find(pending.key);
  if (it != keys_.end() && it->second == pending.piece_id && pieces_.count(pending.piece_id) == 0) {
    keys_.erase(it);
  }
}

absl::StatusOr<PutResult> PieceStore::Finish(Pending& pending, StagedPiece& staged,
                                             const StagedPiece::Sealed& sealed,
                                             const uint64_t* expected_xxh3,
                                             const FileDigest* written) {
  SRS_RETURN_IF_ERROR(GrowReservation(pending, sealed.size));
  const std::string rejected =
      absl::StrCat("put ", KeyText(pending.header.key()), ": piece rejected");
  absl::StatusOr<piece::VerifiedFile> verified;
  if (written != nullptr) {
    // Hash on the way: the writer hashed the bytes as it wrote them; check what is cheap (size,
    // HDF5 metadata) now and every byte in the background (QueueVerification).
    absl::StatusOr<piece::PieceSummary> summary = staged.Summarize();
    if (!summary.ok()) return Annotate(summary.status(), rejected);
    verified = piece::VerifiedFile{std::move(summary).value(), written->size, written->xxh3};
  } else {
    verified = staged.Verify();
  }
  if (!verified.ok()) return Annotate(verified.status(), rejected);
  if (verified->size != sealed.size ||
      (expected_xxh3 != nullptr && verified->xxh3 != *expected_xxh3)) {
    return absl::DataLossError(absl::StrCat(rejected, ": stored bytes (", verified->size, ", ",
                                            ChecksumToString(verified->xxh3),
                                            ") differ from the bytes received"));
  }
  const piece::PieceSummary* summary = &verified->summary;
  PieceRecord record;
  v1::PieceInfo& info = record.info;
  info.set_piece_id(pending.piece_id);
  *info.mutable_key() = pending.header.key();
  info.set_size_bytes(verified->size);
  info.set_xxh3_64(verified->xxh3);
  absl::Time now = options_.now();
  info.set_created_unix_ms(UnixMs(now));
  absl::Duration lease = pending.header.lease_seconds() > 0
                             ? absl::Seconds(pending.header.lease_seconds())
                             : options_.default_lease;
  info.set_lease_expires_unix_ms(UnixMs(now + lease));
  for (const piece::DatasetSummary& ds : summary->datasets) {
    v1::DatasetInfo* d = info.add_datasets();
    d->set_name(ds.name);
    d->set_srs_type(ElementTypeName(ds.type));
    d->set_count(ds.count);
    d->set_xxh3_64(ds.checksum);
  }
  record.read_cap = absl::StrCat(pending.piece_id, ".", RandomHex(kSecretHexChars / 2));
  record.manage_cap = absl::StrCat(pending.piece_id, ".", RandomHex(kSecretHexChars / 2));
  record.bytes_verified = written == nullptr;
  SRS_RETURN_IF_ERROR(staged.Publish(record));
  {
    absl::MutexLock lock(&mu_);
    reserved_bytes_ -= pending.reserved;
    used_bytes_ += sealed.size;
    pending.reserved = 0;
    pieces_[pending.piece_id] = record;
  }
  if (!record.bytes_verified) QueueVerification(record);
  SRS_LOG(INFO)
          .Field("piece", pending.piece_id)
          .Field("job", pending.header.key().job())
          .Field("epoch", pending.header.key().epoch())
          .Field("rank", pending.header.key().rank())
          .Field("bytes", sealed.size)
      << "piece committed";
  PutResult result;
  result.caps.set_read(record.read_cap);
  result.caps.set_manage(record.manage_cap);
  result.info = record.info;
  return result;
}

absl::StatusOr<std::unique_ptr<PutSession>> PieceStore::BeginPut(const v1::PutHeader& header) {
  SRS_ASSIGN_OR_RETURN(Pending pending, Reserve(header));
  absl::StatusOr<std::unique_ptr<StagedPiece>> staged = backend_->Stage(pending.piece_id);
  if (!staged.ok()) {
    Release(pending);
    return staged.status();
  }
  return std::unique_ptr<PutSession>(
      new StreamPut(this, std::move(pending), std::move(staged).value()));
}

void PieceStore::DropLocalTicketOf(const v1::PieceKey& key) {
  const std::string wanted = KeyString(key);
  Pending old;
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find_if(local_puts_.begin(), local_puts_.end(),
                           [&wanted](const auto& entry) { return entry.second.key == wanted; });
    if (it == local_puts_.end()) return;
    old = std::move(it->second);
    local_puts_.erase(it);
  }
  SRS_LOG(INFO).Field("piece", old.piece_id).Field("key", KeyText(key))
      << "local put ticket replaced by a new BeginLocalPut for its key";
  backend_->DiscardSpool(old.piece_id);
  Release(old);
}

absl::StatusOr<LocalPutTicket> PieceStore::BeginLocalPut(const v1::PutHeader& header) {
  // A ticket of this key not committed yet is the same writer's (only the key's write grant
  // admits the call, and one writer holds it), whose answer never arrived: the connection broke
  // after the depot answered, or the writer gave up waiting. Replaced, so the writer's retry
  // is not refused as ALREADY_EXISTS until that ticket's lease ends. A commit under way has
  // taken its ticket already and keeps the key.
  DropLocalTicketOf(header.key());
  SRS_ASSIGN_OR_RETURN(Pending pending, Reserve(header));
  absl::StatusOr<std::string> path = backend_->SpoolPath(pending.piece_id);
  if (!path.ok()) {
    Release(pending);
    return path.status();
  }
  LocalPutTicket ticket{RandomHex(16), *path};
  absl::MutexLock lock(&mu_);
  local_puts_[ticket.put_id] = std::move(pending);
  return ticket;
}

absl::StatusOr<PutResult> PieceStore::CommitLocalPut(const std::string& put_id,
                                                     const std::optional<FileDigest>& written) {
  Pending pending;
  {
    absl::MutexLock lock(&mu_);
    auto it = local_puts_.find(put_id);
    if (it == local_puts_.end()) {
      return absl::NotFoundError("unknown local put (never begun, aborted or expired)");
    }
    pending = std::move(it->second);
    local_puts_.erase(it);
  }
  absl::StatusOr<PutResult> result = [&]() -> absl::StatusOr<PutResult> {
    SRS_ASSIGN_OR_RETURN(std::unique_ptr<StagedPiece> staged,
                         backend_->AdoptSpool(pending.piece_id));
    SRS_ASSIGN_OR_RETURN(StagedPiece::Sealed sealed, staged->Seal());
    if (written.has_value() && written->size != sealed.size) {
      return absl::DataLossError(absl::StrCat("put ", KeyText(pending.header.key()),
                                              ": the writer wrote ", written->size,
                                              " bytes but the spool file has ", sealed.size));
    }
    return Finish(pending, *staged, sealed, nullptr, written.has_value() ? &*written : nullptr);
  }();
  if (!result.ok()) {
    backend_->DiscardSpool(pending.piece_id);
    Release(pending);
  }
  return result;
}

absl::StatusOr<v1::PieceKey> PieceStore::LocalPutKey(const std::string& put_id) {
  absl::MutexLock lock(&mu_);
  auto it = local_puts_.find(put_id);
  if (it == local_puts_.end()) {
    return absl::NotFoundError("unknown local put (never begun, aborted or expired)");
  }
  return it->second.header.key();
}

absl::StatusOr<PutResult> PieceStore::CommittedPut(const v1::PieceKey& key,
                                                   const FileDigest& written) {
  absl::MutexLock lock(&mu_);
  auto id = keys_.find(KeyString(key));
  auto piece = id == keys_.end() ? pieces_.end() : pieces_.find(id->second);
  if (piece == pieces_.end()) {
    return absl::NotFoundError(
        absl::StrCat("unknown local put (never begun, aborted or expired), and no piece for ",
                     KeyText(key), " was committed"));
  }
  const PieceRecord& record = piece->second;
  if (record.info.size_bytes() != written.size || record.info.xxh3_64() != written.xxh3) {
    return absl::AlreadyExistsError(absl::StrCat(
        "another piece for ", KeyText(key), " is committed (", record.info.size_bytes(), " bytes, ",
        ChecksumToString(record.info.xxh3_64()), "; this commit says ", written.size, " bytes, ",
        ChecksumToString(written.xxh3), ")"));
  }
  PutResult result;
  result.caps.set_read(record.read_cap);
  result.caps.set_manage(record.manage_cap);
  result.info = record.info;
  return result;
}

absl::Status PieceStore::AbortLocalPut(const std::string& put_id) {
  Pending pending;
  {
    absl::MutexLock lock(&mu_);
    auto it = local_puts_.find(put_id);
    if (it == local_puts_.end()) return absl::NotFoundError("unknown local put");
    pending = std::move(it->second);
    local_puts_.erase(it);
  }
  backend_->DiscardSpool(pending.piece_id);
  Release(pending);
  return absl::OkStatus();
}

absl::StatusOr<PieceRecord> PieceStore::Lookup(const std::string& cap, CapKind kind,
                                               absl::string_view op) {
  std::vector<std::string> parts = absl::StrSplit(cap, absl::MaxSplits('.', 1));
  if (parts.size() != 2 || parts[0].empty() || parts[1].size() != kSecretHexChars) {
    SRS_LOG(WARNING).Field("op", op) << "refused: missing or malformed capability";
    return absl::PermissionDeniedError(absl::StrCat(op, ": missing or malformed capability"));
  }
  const std::string& piece_id = parts[0];
  absl::MutexLock lock(&mu_);
  auto it = pieces_.find(piece_id);
  if (it == pieces_.end()) {
    return absl::NotFoundError(
        absl::StrCat(op, ": no piece ", piece_id, " (deleted, reclaimed, or never stored here)"));
  }
  const PieceRecord& record = it->second;
  bool read_ok = SecretEquals(cap, record.read_cap);
  bool manage_ok = SecretEquals(cap, record.manage_cap);
  bool ok = kind == CapKind::kRead     ? read_ok
            : kind == CapKind::kManage ? manage_ok
                                       : read_ok || manage_ok;
  if (!ok) {
    // The capability itself never reaches the log: only the piece it claims.
    SRS_LOG(WARNING).Field("op", op).Field("piece", piece_id) << "refused: wrong capability";
    return absl::PermissionDeniedError(absl::StrCat(op, ": wrong capability for piece ", piece_id));
  }
  return record;
}

absl::StatusOr<PieceRecord> PieceStore::LookupManaged(const std::string& manage_cap,
                                                      absl::string_view op) {
  return Lookup(manage_cap, CapKind::kManage, op);
}

absl::StatusOr<PieceRecord> PieceStore::LookupForRead(const std::string& read_cap,
                                                      absl::string_view op) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record, Lookup(read_cap, CapKind::kRead, op));
  absl::Status integrity = backend_->CheckIntegrity(record);
  if (!integrity.ok()) {
    SRS_LOG(ERROR).Field("piece", record.info.piece_id()) << integrity.message();
    return integrity;
  }
  return record;
}

absl::Status PieceStore::Get(const std::string& read_cap, const ChunkSink& sink) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record, LookupForRead(read_cap, "Get"));
  std::string buffer;
  const int64_t size = record.info.size_bytes();
  for (int64_t at = 0; at < size; at += kChunkBytes) {
    size_t n = static_cast<size_t>(std::min<int64_t>(kChunkBytes, size - at));
    buffer.resize(n);
    SRS_RETURN_IF_ERROR(backend_->ReadBytes(record.info.piece_id(), at, n, buffer.data()));
    if (!sink(buffer)) return absl::CancelledError("Get: reader went away");
  }
  return absl::OkStatus();
}

absl::Status PieceStore::CopyOut(const std::string& read_cap, const ChunkSink& sink) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record, Lookup(read_cap, CapKind::kRead, "Replicate"));
  const std::string& id = record.info.piece_id();
  // Larger than a gRPC chunk: the copy's sink re-cuts them, and fewer preads cost less.
  constexpr size_t kCopyChunkBytes = 4 * kChunkBytes;
  std::string buffer;
  Xxh3Hasher hasher;
  const int64_t size = record.info.size_bytes();
  for (int64_t at = 0; at < size; at += kCopyChunkBytes) {
    size_t n = static_cast<size_t>(std::min<int64_t>(kCopyChunkBytes, size - at));
    buffer.resize(n);
    SRS_RETURN_IF_ERROR(backend_->ReadBytes(id, at, n, buffer.data()));
    hasher.Update(buffer.data(), n);
    if (!sink(buffer)) return absl::CancelledError("Replicate: the target went away");
  }
  if (hasher.Digest() != record.info.xxh3_64()) {
    absl::Status rot = absl::DataLossError(
        absl::StrCat("piece ", id, ": stored bytes have XXH3 ", ChecksumToString(hasher.Digest()),
                     ", the piece was committed with ", ChecksumToString(record.info.xxh3_64()),
                     ": not copied"));
    SRS_LOG(ERROR).Field("piece", id) << rot.message();
    return rot;
  }
  return absl::OkStatus();
}

absl::Status PieceStore::ReadRange(const std::string& read_cap, const std::string& dataset,
                                   const std::string& wire_type,
                                   const std::vector<piece::Hyperslab>& selections,
                                   const ChunkSink& sink) {
  SRS_ASSIGN_OR_RETURN(ElementType type, ElementTypeFromName(wire_type));
  SRS_RETURN_IF_ERROR(piece::SelectionElements(selections).status());
  SRS_ASSIGN_OR_RETURN(PieceRecord record, LookupForRead(read_cap, "ReadRange"));
  const std::string& id = record.info.piece_id();
  // "srs_index/<name>": the int64 global index of <name>, as long as <name> (checked at commit).
  const std::string indexed = piece::IndexedDatasetOf(dataset);
  if (!indexed.empty() && type != ElementType::kInt64) {
    return absl::InvalidArgumentError(absl::StrCat("ReadRange: index dataset '", dataset,
                                                   "' reads as int64 only, not ", wire_type));
  }
  const v1::DatasetInfo* info = nullptr;
  for (const v1::DatasetInfo& d : record.info.datasets()) {
    if (d.name() == (indexed.empty() ? dataset : indexed)) info = &d;
  }
  if (info == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("ReadRange: piece ", id, " has no dataset '", dataset, "'"));
  }
  // Refuse out-of-range selections before streaming anything.
  for (const piece::Hyperslab& s : selections) {
    if (s.count > 0 &&
        static_cast<__int128>(s.count - 1) * s.stride + s.start + s.block > info->count()) {
      return absl::OutOfRangeError(absl::StrCat("ReadRange: selection past the end of '", dataset,
                                                "' (", info->count(), " elements) in piece ", id));
    }
  }
  const size_t elem = ElementSize(type);
  std::string buffer;
  for (const auto& group : SplitSelections(selections, std::max<int64_t>(1, kChunkBytes / elem))) {
    int64_t n = 0;
    for (const piece::Hyperslab& s : group) n += s.count * s.block;
    buffer.resize(n * elem);
    SRS_RETURN_IF_ERROR(
        backend_->ReadSelection(id, dataset, type, group, buffer.data(), buffer.size()));
    if (!sink(buffer)) return absl::CancelledError("ReadRange: reader went away");
  }
  return absl::OkStatus();
}

absl::StatusOr<PieceStore::LocalOpen> PieceStore::OpenLocal(const std::string& read_cap) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record, LookupForRead(read_cap, "OpenLocal"));
  SRS_ASSIGN_OR_RETURN(std::string path, backend_->LocalPath(record.info.piece_id()));
  return LocalOpen{path, record.info};
}

absl::StatusOr<v1::PieceInfo> PieceStore::Stat(const std::string& cap) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record, Lookup(cap, CapKind::kEither, "Stat"));
  // The record's size and checksum are what the put stored, not what the file holds now: `srs
  // repair` judges a copy healthy by this answer, so a copy that rotted since must say so.
  // Verified files are cached by their stamp (the backend's), so this hashes a piece once.
  absl::Status integrity = backend_->CheckIntegrity(record);
  if (!integrity.ok()) {
    SRS_LOG(ERROR).Field("piece", record.info.piece_id()) << integrity.message();
    return integrity;
  }
  return record.info;
}

absl::Status PieceStore::Delete(const std::string& manage_cap) {
  SRS_ASSIGN_OR_RETURN(PieceRecord record, Lookup(manage_cap, CapKind::kManage, "Delete"));
  const std::string& id = record.info.piece_id();
  {
    absl::MutexLock lock(&mu_);
    if (pieces_.erase(id) == 0) return absl::NotFoundError(absl::StrCat("Delete: no piece ", id));
    used_bytes_ -= record.info.size_bytes();
    keys_.erase(KeyString(record.info.key()));
  }
  SRS_LOG(INFO).Field("piece", id) << "piece deleted";
  return backend_->Remove(id);
}

absl::Status PieceStore::Renew(const std::vector<std::string>& manage_caps, int64_t lease_seconds) {
  SRS_RETURN_IF_ERROR(ValidateLease(lease_seconds, "Renew"));
  if (manage_caps.size() > kMaxCapsPerRenew) {
    return absl::InvalidArgumentError(
        absl::StrCat("Renew: ", manage_caps.size(), " capabilities, at most ", kMaxCapsPerRenew));
  }
  std::vector<PieceRecord> records;
  for (const std::string& cap : manage_caps) {  // all or nothing: check every cap first
    SRS_ASSIGN_OR_RETURN(PieceRecord record, Lookup(cap, CapKind::kManage, "Renew"));
    records.push_back(std::move(record));
  }
  const int64_t expires =
      lease_seconds == 0 ? 0 : UnixMs(options_.now() + absl::Seconds(lease_seconds));
  for (PieceRecord& record : records) record.info.set_lease_expires_unix_ms(expires);
  // One durable step for the whole batch (the file backend's lease journal).
  SRS_RETURN_IF_ERROR(backend_->UpdateLeases(records));
  absl::MutexLock lock(&mu_);
  for (const PieceRecord& record : records) {
    auto it = pieces_.find(record.info.piece_id());
    if (it != pieces_.end()) it->second.info.set_lease_expires_unix_ms(expires);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::PieceInfo>> PieceStore::ListJob(const std::string& job) {
  if (job.empty() || job.size() > kMaxJobNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListJob: job name must have 1..", kMaxJobNameBytes, " bytes"));
  }
  std::vector<v1::PieceInfo> pieces;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, record] : pieces_) {
    if (record.info.key().job() == job) pieces.push_back(record.info);
  }
  std::sort(pieces.begin(), pieces.end(), [](const v1::PieceInfo& a, const v1::PieceInfo& b) {
    return std::make_pair(a.key().epoch(), a.key().rank()) <
           std::make_pair(b.key().epoch(), b.key().rank());
  });
  return pieces;
}

PieceStore::Usage PieceStore::GetUsage() {
  absl::MutexLock lock(&mu_);
  return Usage{options_.capacity_bytes, used_bytes_ + reserved_bytes_,
               static_cast<int64_t>(pieces_.size())};
}

int PieceStore::Sweep() {
  const absl::Time now = options_.now();
  const int64_t now_ms = UnixMs(now);
  std::vector<PieceRecord> expired;
  std::vector<Pending> abandoned;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = pieces_.begin(); it != pieces_.end();) {
      int64_t expires = it->second.info.lease_expires_unix_ms();
      if (expires != 0 && expires <= now_ms) {
        used_bytes_ -= it->second.info.size_bytes();
        keys_.erase(KeyString(it->second.info.key()));
        expired.push_back(std::move(it->second));
        it = pieces_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = local_puts_.begin(); it != local_puts_.end();) {
      if (it->second.expires <= now) {
        abandoned.push_back(std::move(it->second));
        it = local_puts_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const PieceRecord& record : expired) {
    SRS_LOG(INFO).Field("piece", record.info.piece_id()).Field("job", record.info.key().job())
        << "lease expired: piece reclaimed";
    absl::Status removed = backend_->Remove(record.info.piece_id());
    if (!removed.ok()) {
      SRS_LOG(WARNING) << removed.message();
    }
  }
  for (const Pending& pending : abandoned) {
    SRS_LOG(INFO).Field("piece", pending.piece_id) << "abandoned local put reclaimed";
    backend_->DiscardSpool(pending.piece_id);
    Release(pending);
  }
  bool check_strays = false;
  std::set<std::string> in_flight;  // the piece ids of puts not committed yet
  {
    absl::MutexLock lock(&mu_);
    check_strays = now - last_stray_check_ >= kStrayCheckEvery;
    if (check_strays) {
      last_stray_check_ = now;
      for (const auto& [key, piece_id] : keys_) {
        if (pieces_.count(piece_id) == 0) in_flight.insert(piece_id);
      }
    }
  }
  const int strays =
      check_strays ? backend_->RemoveStrayWrites(now - kStrayWriteAge, in_flight) : 0;
  return static_cast<int>(expired.size() + abandoned.size()) + strays;
}

}  // namespace depot
}  // namespace srs
