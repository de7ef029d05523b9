// Checksums of checkpoint bytes: XXH3-64 from Debian's libxxhash, fast enough to run at memory
// bandwidth while bytes stream, well known, and available to any reader of the files.
#ifndef SRS_COMMON_CHECKSUM_H_
#define SRS_COMMON_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace srs {

// Incremental XXH3-64 over a byte stream; Digest() may be called at any point.
class Xxh3Hasher {
 public:
  Xxh3Hasher();
  ~Xxh3Hasher();
  Xxh3Hasher(const Xxh3Hasher&) = delete;
  Xxh3Hasher& operator=(const Xxh3Hasher&) = delete;

  void Update(const void* data, size_t size);
  uint64_t Digest() const;
  void Reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

uint64_t Xxh3(const void* data, size_t size);

// "xxh3:0123456789abcdef": the form checksums take in HDF5 attributes and in listings.
std::string ChecksumToString(uint64_t digest);

}  // namespace srs

#endif  // SRS_COMMON_CHECKSUM_H_
