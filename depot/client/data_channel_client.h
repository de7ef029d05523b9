// The client side of a depot's data channel (wire format: data_wire.h): sends one request on a
// pooled TCP connection and receives the payload straight into the caller's memory (or, for a
// put, sends the caller's bytes after the depot's go-ahead).
//
//   DataChannelClient channel("127.0.0.1", info.data_port(), absl::Seconds(30));
//   DataChannelClient::Result r = channel.Call(data_wire::kOpReadRange, request,
//       [&](uint64_t n) { return n <= room ? out + used : nullptr; });
//   if (r.transport_failed) { /* use the gRPC path instead */ }
//
// Thread-safe: concurrent calls use separate connections (at most kMaxIdle stay open between
// calls), so several fetch threads of one rank stream in parallel.
#ifndef SRS_DEPOT_CLIENT_DATA_CHANNEL_CLIENT_H_
#define SRS_DEPOT_CLIENT_DATA_CHANNEL_CLIENT_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"

namespace srs {

class DataChannelClient {
 public:
  static constexpr size_t kMaxIdle = 8;

  // Where the next `n` payload bytes go: a buffer of at least n bytes, or nullptr when the
  // answer is larger than the caller expects (the call then fails with DATA_LOSS).
  using Place = std::function<char*(uint64_t n)>;
  // Called with each slice of payload (at most kSliceBytes) right after it has landed where
  // Place said, while it is still in cache: lets a caller hash as it receives.
  using Received = std::function<void(const char* bytes, size_t n)>;
  static constexpr size_t kSliceBytes = 4 << 20;

  struct Result {
    absl::Status status;  // the depot's answer (END frame), or why the transfer failed
    // True when the connection failed (refused, reset, timed out, malformed frames) rather than
    // the depot answering: the request may be retried over gRPC, which reports the depot's own
    // error if there is one.
    bool transport_failed = false;
    // A put: the depot accepted the request (READY) and the payload was being sent. A transport
    // failure after it may have left the piece committed with its answer lost, like a streamed
    // Put whose stream broke after the trailer.
    bool ready = false;
  };

  // A put's payload and trailer (data_wire.h), written to the connected socket `fd` once the
  // depot said READY: exactly the request's total_bytes, then the u64 XXH3 of them. A non-OK
  // status (the source failed, or the socket did) closes the connection, so the depot stores
  // nothing, and becomes the call's status.
  using Upload = std::function<absl::Status(int fd)>;

  // `timeout` bounds every send and receive (not the whole transfer).
  DataChannelClient(std::string host, int port, absl::Duration timeout);
  ~DataChannelClient();
  DataChannelClient(const DataChannelClient&) = delete;
  DataChannelClient& operator=(const DataChannelClient&) = delete;

  // Sends `bytes` of a put's payload on `fd` (inside an Upload), unless the depot answers
  // first: it stops reading a put it cannot store (a write error with much of the payload
  // still to come), sends its END and closes, and a plain send would then block until the
  // socket's timeout. Then *answered is set and the result is UNAVAILABLE; Put returns the
  // depot's END instead when it can read it. Other errors as sockets::SendAll.
  static absl::Status SendPayload(int fd, absl::string_view bytes, absl::string_view what,
                                  bool* answered);

  // One request (op: data_wire::kOpReadRange with a ReadRangeRequest, kOpGet with a
  // GetRequest, kOpBeginLocalPut / kOpCommitLocalPut with theirs). The payload goes where
  // `place` says, in order. `timeout` (if longer than the client's) bounds this call's sends and
  // receives instead: a call whose depot side takes longer (a commit that makes a large file
  // durable).
  Result Call(uint32_t op, const google::protobuf::MessageLite& request, const Place& place,
              const Received& received = nullptr, absl::Duration timeout = absl::ZeroDuration());

  // One put (data_wire::kOpPut with a DataPutRequest): `upload` sends the payload after READY;
  // the answer (a serialized PutResponse) goes where `place` says.
  Result Put(const google::protobuf::MessageLite& request, const Upload& upload,
             const Place& place);

 private:
  Result Run(uint32_t op, const google::protobuf::MessageLite& request, const Place& place,
             const Received& received, const Upload& upload,
             absl::Duration timeout = absl::ZeroDuration());
  Result Exchange(int fd, uint32_t op, const std::string& body, const Place& place,
                  const Received& received, const Upload& upload, bool* reusable);
  const std::string host_;
  const int port_;
  const absl::Duration timeout_;
  std::mutex mu_;
  std::vector<int> idle_;  // connected sockets between calls
};

}  // namespace srs

#endif  // SRS_DEPOT_CLIENT_DATA_CHANNEL_CLIENT_H_
