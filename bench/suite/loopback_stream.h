// The raw network baseline of the restart figures: bytes streamed through one loopback TCP
// connection, from a sender thread to a receiver in the same process, with plain send/recv (no
// framing, no checksum, no protocol). What any network restart of the same bytes must at least
// pay on this machine.
#ifndef SRS_BENCH_SUITE_LOOPBACK_STREAM_H_
#define SRS_BENCH_SUITE_LOOPBACK_STREAM_H_

#include <cstddef>
#include <string>

namespace srs::bench {

// A connected loopback TCP pair, set up outside the timed part of a figure.
class LoopbackStream {
 public:
  LoopbackStream() = default;
  ~LoopbackStream();
  LoopbackStream(const LoopbackStream&) = delete;
  LoopbackStream& operator=(const LoopbackStream&) = delete;

  // Listens on 127.0.0.1 (a port the kernel picks), connects and accepts. False with `*error`
  // set when any step fails.
  bool Connect(std::string* error);

  // Streams `bytes` bytes of `src` through the connection into `dst` (both at least `bytes`
  // long). False when the stream ends short.
  bool Stream(const char* src, char* dst, size_t bytes) const;

 private:
  int send_fd_ = -1, recv_fd_ = -1;
};

}  // namespace srs::bench

#endif  // SRS_BENCH_SUITE_LOOPBACK_STREAM_H_
