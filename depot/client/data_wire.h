// The depot's data channel: a plain TCP stream beside gRPC that carries the bulk bytes of
// ranged reads, whole-piece gets and puts at the speed of the socket (the depot sends
// contiguous stored bytes with sendfile, the client receives straight into the caller's
// buffer; no protobuf or HTTP/2 framing copies the payload). Access is by the same read
// capability or write grant as the gRPC calls; the depot advertises the channel's port in
// DepotInfo.data_port (0 = none).
//
// Wire format, every integer little-endian:
//
//   request   u32 magic kMagic | u32 op (kOpReadRange, kOpGet, kOpPut, kOpBeginLocalPut,
//             kOpCommitLocalPut) | u32 n | n bytes: the serialized srs.depot.v1.ReadRangeRequest
//             / GetRequest / DataPutRequest / BeginLocalPutRequest / CommitLocalPutRequest
//             (n <= kMaxRequestBytes)
//   response  any number of DATA frames, then exactly one END frame:
//             DATA  u32 kFrameData | u64 n | n payload bytes (the next bytes of the answer)
//             END   u32 kFrameEnd  | u32 absl::StatusCode | u32 m | m bytes of message
//
// A put (kOpPut) has one more step: the depot checks the grant and reserves the space, then
// answers either END (refused; nothing more is sent) or
//             READY u32 kFrameReady
// after which the client sends exactly DataPutRequest.total_bytes payload bytes and then
// u64 XXH3-64 of them (the streamed Put's trailer). The answer is one DATA frame holding the
// serialized srs.depot.v1.PutResponse, then END. A client that stops sending (closes the
// connection) leaves nothing stored, as a streamed Put without trailer. A depot that cannot
// store the put (a write error) with more than 1 GiB of payload still to come answers END at
// once and closes instead of reading the rest: the client stops sending and reads that END.
// A depot shutting down lets a put in flight finish (until its deadline), as a gRPC Put.
//
// The same-host put's two calls (kOpBeginLocalPut, kOpCommitLocalPut) move no payload: the
// answer is one DATA frame holding the serialized BeginLocalPutResponse / PutResponse, then END
// (END alone when refused). They are the gRPC calls of the same names, with the same checks
// and errors (depot/local_put_calls.h), at the cost of a socket round trip.
//
// A connection carries any number of requests one after the other. Either side closes it on
// any framing error. The payload is exactly what the gRPC call would stream (same bytes, same
// order, same errors), so the two paths are interchangeable.
#ifndef SRS_DEPOT_CLIENT_DATA_WIRE_H_
#define SRS_DEPOT_CLIENT_DATA_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace srs {
namespace data_wire {

inline constexpr uint32_t kMagic = 0x44535253;  // "SRSD"
inline constexpr uint32_t kOpReadRange = 1;
inline constexpr uint32_t kOpGet = 2;
inline constexpr uint32_t kOpPut = 3;
inline constexpr uint32_t kOpBeginLocalPut = 4;
inline constexpr uint32_t kOpCommitLocalPut = 5;
inline constexpr uint32_t kFrameData = 1;
inline constexpr uint32_t kFrameEnd = 2;
inline constexpr uint32_t kFrameReady = 3;
// A ranged read's selections: generous, but bounded so a bad peer cannot make us allocate.
inline constexpr uint32_t kMaxRequestBytes = 16u << 20;
inline constexpr uint32_t kMaxMessageBytes = 64u << 10;

inline void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace data_wire
}  // namespace srs

#endif  // SRS_DEPOT_CLIENT_DATA_WIRE_H_
