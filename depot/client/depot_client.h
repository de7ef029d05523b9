// The client of one srs-depot (srs.depot.v1). Used by the library (checkpoint writer, restart
// reader), the RSS (pin, delete, list) and the tools.
//
//   SRS_ASSIGN_OR_RETURN(std::unique_ptr<DepotClient> depot,
//                        DepotClient::Connect("127.0.0.1:7000", absl::Seconds(30)));
//   srs::depot::v1::PieceKey key;  key.set_job("heat"); key.set_epoch(3); key.set_rank(0);
//   // Same host as the depot: write the HDF5 piece straight into its spool directory.
//   SRS_ASSIGN_OR_RETURN(auto put, depot->PutLocal(key, bytes_estimate, 0,
//       [&](const std::string& spool_path) { return piece::WritePieceFile(spool_path, h, ds); }));
//   // Elsewhere: stream the bytes (e.g. from piece::WritePieceImage).
//   SRS_ASSIGN_OR_RETURN(auto put2, depot->PutBytes(key, image, 0));
//   // Ranged read of dataset "u": every other element of the first 100, as doubles.
//   SRS_RETURN_IF_ERROR(depot->ReadRange(put.caps().read(), "u", ElementType::kDouble,
//                                        {{0, 2, 50, 1}}, out, 50 * sizeof(double)));
//
// Every call is one RPC (or stream) with the rpc_timeout given to Connect as its deadline
// (streams: the deadline scales with the bytes, at least 1 s per 64 MiB on top of it). Errors
// keep the depot's status code and their message names the depot address. Thread-safe: one
// client may be shared by threads (gRPC channels are).
//
// Retries (common/retry.h): every call is idempotent or made so, and is retried on UNAVAILABLE
// or ABORTED within that deadline, so a depot that restarts on the same address costs a delay.
// Reads, Stat, Info, Renew, Delete (a repeated delete answers NOT_FOUND, which the callers take
// as done) and ListJob are retried as they are. PutBytes re-sends the whole piece, and PutLocal
// redoes BeginLocalPut, the write and CommitLocalPut: a restarted depot has forgotten the spool
// of the first try. If only the answer of a put was lost, the first copy is never pinned and its
// lease reclaims it.
#ifndef SRS_DEPOT_CLIENT_DEPOT_CLIENT_H_
#define SRS_DEPOT_CLIENT_DEPOT_CLIENT_H_

#include <grpcpp/security/credentials.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/datatype.h"
#include "common/piece_format.h"
#include "common/written_file_hash.h"
#include "depot/client/data_channel_client.h"
#include "depot/client/early_local_write.h"
#include "srs/depot/v1/depot.grpc.pb.h"

namespace srs {

class DepotClient {
 public:
  // Bytes per streamed chunk (the proto's "~1 MiB").
  static constexpr size_t kChunkBytes = 1 << 20;
  // The largest answer of a unary call, on either transport (a PutResponse lists every dataset
  // of its piece).
  static constexpr int kMaxAnswerBytes = 8 << 20;

  // Creates the channel; does not contact the depot (the first RPC does).
  static absl::StatusOr<std::unique_ptr<DepotClient>> Connect(const std::string& address,
                                                              absl::Duration rpc_timeout);
  // The same with explicit channel credentials instead of the process's (tls.h): a depot
  // talking to another depot uses its own --tls-* files.
  static absl::StatusOr<std::unique_ptr<DepotClient>> Connect(
      const std::string& address, absl::Duration rpc_timeout,
      std::shared_ptr<grpc::ChannelCredentials> credentials);
  // Wraps an existing channel (tests, or sharing one channel between clients).
  DepotClient(std::shared_ptr<grpc::Channel> channel, std::string address,
              absl::Duration rpc_timeout);

  const std::string& address() const { return address_; }

  absl::StatusOr<depot::v1::DepotInfo> Info();
  // One Info attempt bounded by `within` (and the RPC timeout), not retried: whether the depot
  // answers at all, asked when another copy could be read instead, so a dead depot costs at most
  // `within` (a refused connection: at once), not the whole RPC budget.
  absl::StatusOr<depot::v1::DepotInfo> Probe(absl::Duration within);

  // Streams `bytes` (a complete HDF5 piece file) in kChunkBytes chunks, then a trailer with its
  // XXH3-64. lease_seconds 0 = the depot's default lease. `grant`: the RSS's write grant for
  // `key` (BeginCheckpoint); without one the depot refuses (UNAUTHENTICATED).
  absl::StatusOr<depot::v1::PutResponse> PutBytes(const depot::v1::PieceKey& key,
                                                  absl::string_view bytes, int64_t lease_seconds,
                                                  const depot::v1::WriteGrant& grant = {});

  // Streams a piece whose bytes come from `produce` chunk by chunk, so the piece is never held
  // in memory whole (a depot copying a stored piece to another: depot/replicator.h).
  // produce(send) calls send(bytes) for the piece's bytes in order (any chunk size; they are
  // re-cut to kChunkBytes) and returns its own status; send returns false once the depot ended
  // the stream (Finish then says why). `size_bytes` is the exact total: size hint, trailer and
  // deadline (rpc_timeout + 1 s per 64 MiB). A failing `produce` cancels the put (nothing is
  // stored) and its status is returned. Retried like PutBytes (UNAVAILABLE, ABORTED), running
  // `produce` again from the start for each attempt.
  using ChunkSend = std::function<bool(absl::string_view bytes)>;
  using ChunkProducer = std::function<absl::Status(const ChunkSend& send)>;
  absl::StatusOr<depot::v1::PutResponse> PutStream(const depot::v1::PieceKey& key,
                                                   int64_t size_bytes, int64_t lease_seconds,
                                                   const ChunkProducer& produce,
                                                   const depot::v1::WriteGrant& grant = {});

  // Same-host fast path: BeginLocalPut, `write_file(spool_path)` creates the piece there,
  // CommitLocalPut makes the depot verify and adopt it. On any failure (callback or commit) the
  // put is aborted (AbortLocalPut) so nothing is left behind.
  absl::StatusOr<depot::v1::PutResponse> PutLocal(
      const depot::v1::PieceKey& key, int64_t size_hint, int64_t lease_seconds,
      const std::function<absl::Status(const std::string& spool_path)>& write_file,
      const depot::v1::WriteGrant& grant = {});

  // PutLocal whose writer also returns the size and XXH3 of the file as it wrote it
  // (piece::WritePieceFileHashed): the depot then commits without reading the piece back
  // (depot/README.md, "What a commit checks"). `early` (may be null): the same piece, started
  // by StartEarlyLocalWrite with the same key; the first attempt adopts its file (waiting for
  // it) instead of running `write_file`, which later attempts run.
  absl::StatusOr<depot::v1::PutResponse> PutLocalHashed(
      const depot::v1::PieceKey& key, int64_t size_hint, int64_t lease_seconds,
      const std::function<absl::StatusOr<FileDigest>(const std::string& spool_path)>& write_file,
      const depot::v1::WriteGrant& grant = {}, EarlyLocalWrite* early = nullptr);

  // Starts writing `key`'s piece into this depot's spool before its put can begin (no write
  // grant yet; early_local_write.h): `write_file(path)` on a thread of its own, under a name of
  // this client's, once the same free-space check as a put's passed. Null (nothing started)
  // until a local put to this depot has taught the client the spool directory.
  std::unique_ptr<EarlyLocalWrite> StartEarlyLocalWrite(const depot::v1::PieceKey& key,
                                                        int64_t size_hint,
                                                        EarlyLocalWrite::Writer write_file);

  // Ranged read: the selected elements of `dataset`, concatenated in request order, converted
  // to `wire_type` (little-endian), into `out`. INVALID_ARGUMENT (before any RPC) when out_bytes
  // is smaller than the selected elements need; DATA_LOSS if the depot sends a different amount.
  // Bulk bytes travel on the depot's data channel when it has one (data_wire.h), else (or when
  // the channel's connection fails) over the gRPC stream; the answer is the same either way.
  // `landed` (optional) is called with the size of each slice or chunk as it lands in `out`
  // (for a progress count; a retried attempt lands its bytes again).
  absl::Status ReadRange(const std::string& read_cap, const std::string& dataset,
                         ElementType wire_type, const std::vector<piece::Hyperslab>& selections,
                         void* out, size_t out_bytes,
                         const std::function<void(size_t)>& landed = nullptr);

  // Same-host fast path for reads: the verified piece's path, to open read-only.
  absl::StatusOr<std::string> OpenLocal(const std::string& read_cap);

  // The whole piece file (data channel or gRPC, as ReadRange), checked against its XXH3.
  absl::StatusOr<std::string> GetAll(const std::string& read_cap);

  // Learns the depot's data channel (one Info) ahead of the first read, so a restart's first
  // ReadRange does not pay for it. Errors are left for the reads to report.
  void WarmUp() { DataChannel(); }

  // Whether ReadRange and GetAll may use the depot's data channel (default true). With false
  // every byte goes over gRPC (benchmarks compare the two). Thread-safe.
  void UseDataChannel(bool use);

  absl::StatusOr<depot::v1::PieceInfo> Stat(const std::string& cap);
  // Asks this depot to copy one of its pieces to another depot (depot/replicator.h): the
  // target's PutResponse. `size_bytes` (the piece's) scales the deadline like a put of that
  // size, since the depot streams the piece before answering. Retried on UNAVAILABLE/ABORTED
  // like every call; a retry whose first attempt did store the copy gets ALREADY_EXISTS.
  absl::StatusOr<depot::v1::PutResponse> Replicate(const depot::v1::ReplicateRequest& request,
                                                   int64_t size_bytes);
  absl::Status Delete(const std::string& manage_cap);
  // lease_seconds > 0 extends, 0 pins. All or nothing.
  absl::Status Renew(const std::vector<std::string>& manage_caps, int64_t lease_seconds);
  // Needs a write grant of `job` (any epoch and rank).
  absl::StatusOr<std::vector<depot::v1::PieceInfo>> ListJob(
      const std::string& job, const depot::v1::WriteGrant& grant = {});

 private:
  std::unique_ptr<grpc::ClientContext> NewContext(size_t stream_bytes = 0) const;
  // The time one call moving `stream_bytes` gets: rpc_timeout plus at least 1 s per 64 MiB.
  absl::Duration CallTimeout(size_t stream_bytes) const;
  // The data channel, learnt from Info on first use; nullptr when the depot has none, it is
  // switched off, or Info failed (then the gRPC call reports the depot's state). `retry_info`:
  // learn it with the retried Info (reads) or one Probe of at most 5 s (puts, which are retried
  // whole).
  DataChannelClient* DataChannel(bool retry_info = true);
  // One put over the data channel (data_wire.h kOpPut); nullopt when the channel could not take
  // it (none, or the connection failed before the depot accepted the request): then over gRPC.
  std::optional<absl::StatusOr<depot::v1::PutResponse>> PutOverChannel(
      const depot::v1::PieceKey& key, int64_t size_bytes, int64_t lease_seconds,
      const ChunkProducer& produce, const depot::v1::WriteGrant& grant);
  absl::Status ReadRangeGrpc(const depot::v1::ReadRangeRequest& request, void* out, size_t expected,
                             const std::function<void(size_t)>& landed);
  // The whole budget of a call (all attempts) moving `stream_bytes`.
  absl::Time Deadline(size_t stream_bytes = 0) const;
  // One attempt of each retried call (the public ones wrap these in common/retry.h).
  absl::StatusOr<depot::v1::PutResponse> PutBytesOnce(const depot::v1::PieceKey& key,
                                                      absl::string_view bytes,
                                                      int64_t lease_seconds,
                                                      const depot::v1::WriteGrant& grant);
  absl::StatusOr<depot::v1::PutResponse> PutStreamOnce(const depot::v1::PieceKey& key,
                                                       int64_t size_bytes, int64_t lease_seconds,
                                                       const ChunkProducer& produce,
                                                       const depot::v1::WriteGrant& grant);
  // One local put (local_put.cc): BeginLocalPut, `write_file` into the spool, CommitLocalPut (with
  // the writer's digest when it returns one), AbortLocalPut on failure; `grant` goes with both
  // calls. Once the spool directory is known, `write_file` runs while BeginLocalPut is under way,
  // on a path of the client's own in that directory, renamed to the ticket's before the commit.
  // `early` (if still available()): the piece's file, written ahead; adopted instead of
  // running `write_file`. `unanswered` carries, from one attempt to the next, a hashed commit that
  // got no answer (the connection broke, the depot restarted): the next attempt sends it again
  // first, and the depot answers it from the committed piece if the first one went through (a put
  // is then never refused as ALREADY_EXISTS by its own retry), or NOT_FOUND if it was lost (then a
  // new put).
  absl::StatusOr<depot::v1::PutResponse> PutLocalOnce(
      const depot::v1::PieceKey& key, int64_t size_hint, int64_t lease_seconds,
      const std::function<absl::StatusOr<std::optional<FileDigest>>(const std::string& spool_path)>&
          write_file,
      const depot::v1::WriteGrant& grant,
      std::optional<depot::v1::CommitLocalPutRequest>* unanswered,
      EarlyLocalWrite* early = nullptr);
  // A local put's BeginLocalPut and CommitLocalPut (local_put.cc): over the depot's data channel
  // when it has one (a socket round trip instead of a gRPC one; depot/local_put_calls.h), else,
  // or when the channel's connection fails, over gRPC. The same answer either way.
  // `stream_bytes` scales the call's deadline as NewContext's. nullopt: send it over gRPC.
  template <typename Request, typename Response>
  std::optional<grpc::Status> LocalPutOverChannel(uint32_t op, const Request& request,
                                                  int64_t stream_bytes, Response* response);
  grpc::Status BeginLocalPutCall(const depot::v1::BeginLocalPutRequest& request,
                                 depot::v1::BeginLocalPutResponse* response);
  grpc::Status CommitLocalPutCall(const depot::v1::CommitLocalPutRequest& request,
                                  int64_t size_hint, depot::v1::PutResponse* response);
  absl::Status ReadRangeOnce(const std::string& read_cap, const std::string& dataset,
                             ElementType wire_type, const std::vector<piece::Hyperslab>& selections,
                             void* out, size_t out_bytes,
                             const std::function<void(size_t)>& landed);
  absl::StatusOr<std::string> GetAllOnce(const std::string& read_cap);
  absl::StatusOr<std::string> OpenLocalOnce(const std::string& read_cap);
  absl::StatusOr<depot::v1::PieceInfo> StatOnce(const std::string& cap);
  absl::StatusOr<depot::v1::DepotInfo> InfoOnce();
  // `failed` of one local put attempt, turned UNAVAILABLE (retried) when it means the depot lost
  // the put (it restarted and swept its spool), else unchanged.
  absl::Status LostPutIsRetryable(const absl::Status& failed);
  absl::Status DeleteOnce(const std::string& manage_cap);
  absl::StatusOr<depot::v1::PutResponse> ReplicateOnce(const depot::v1::ReplicateRequest& request,
                                                       int64_t size_bytes);
  absl::Status RenewOnce(const std::vector<std::string>& manage_caps, int64_t lease_seconds);
  absl::StatusOr<std::vector<depot::v1::PieceInfo>> ListJobOnce(const std::string& job,
                                                                const depot::v1::WriteGrant& grant);
  absl::Status Error(const grpc::Status& status, absl::string_view what) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<depot::v1::Depot::Stub> stub_;
  std::string address_;
  // The depot's spool directory, learnt from the first local put (local_put.cc): later puts
  // write there while their BeginLocalPut is under way.
  absl::Mutex spool_mu_;
  std::string spool_dir_ ABSL_GUARDED_BY(spool_mu_);
  absl::Duration rpc_timeout_;
  std::mutex data_mu_;
  bool data_enabled_ = true;  // guarded by data_mu_
  bool data_known_ = false;   // guarded by data_mu_: Info was asked
  std::unique_ptr<DataChannelClient> data_;
};

// "job=J epoch=E rank=R", for messages.
std::string PieceKeyText(const depot::v1::PieceKey& key);

}  // namespace srs

#endif  // SRS_DEPOT_CLIENT_DEPOT_CLIENT_H_
