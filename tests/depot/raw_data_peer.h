// A raw peer of the depot's data channel (depot/client/data_wire.h), for the tests that play a
// hostile or broken client with a plain TCP socket: request framing and one answer frame.
#ifndef SRS_TESTS_DEPOT_RAW_DATA_PEER_H_
#define SRS_TESTS_DEPOT_RAW_DATA_PEER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "depot/client/data_wire.h"
#include "depot/client/socket_io.h"

namespace srs {
namespace testing {

// One frame of the depot's answer as a raw peer sees it.
struct Frame {
  uint32_t type = 0;  // 0: the connection ended instead
  std::string data;   // DATA payload or END message
  absl::StatusCode code = absl::StatusCode::kOk;
};

inline Frame ReadFrame(int fd) {
  Frame frame;
  char head[12];
  if (!sockets::RecvAll(fd, head, 4, "test").ok()) return frame;
  const uint32_t type = data_wire::GetU32(head);
  if (type == data_wire::kFrameReady) {
    frame.type = type;
  } else if (type == data_wire::kFrameData) {
    if (!sockets::RecvAll(fd, head + 4, 8, "test").ok()) return frame;
    frame.data.resize(data_wire::GetU64(head + 4));
    if (!sockets::RecvAll(fd, frame.data.data(), frame.data.size(), "test").ok()) return frame;
    frame.type = type;
  } else if (type == data_wire::kFrameEnd) {
    if (!sockets::RecvAll(fd, head + 4, 8, "test").ok()) return frame;
    frame.code = static_cast<absl::StatusCode>(data_wire::GetU32(head + 4));
    frame.data.resize(data_wire::GetU32(head + 8));
    if (!sockets::RecvAll(fd, frame.data.data(), frame.data.size(), "test").ok()) return frame;
    frame.type = type;
  }
  return frame;
}

// A whole request of `op` with the serialized request `body`.
inline std::string RequestFrame(uint32_t op, const std::string& body) {
  std::string out;
  data_wire::PutU32(&out, data_wire::kMagic);
  data_wire::PutU32(&out, op);
  data_wire::PutU32(&out, static_cast<uint32_t>(body.size()));
  return out + body;
}

}  // namespace testing
}  // namespace srs

#endif  // SRS_TESTS_DEPOT_RAW_DATA_PEER_H_
