#include "common/checksum.h"

#include <xxhash.h>

#include "absl/strings/str_format.h"

namespace srs {

struct Xxh3Hasher::State {
  XXH3_state_t* xxh = XXH3_createState();
  ~State() { XXH3_freeState(xxh); }
};

Xxh3Hasher::Xxh3Hasher() : state_(std::make_unique<State>()) { Reset(); }
Xxh3Hasher::~Xxh3Hasher() = default;

void Xxh3Hasher::Update(const void* data, size_t size) {
  if (size > 0) XXH3_64bits_update(state_->xxh, data, size);
}

uint64_t Xxh3Hasher::Digest() const { return XXH3_64bits_digest(state_->xxh); }

void Xxh3Hasher::Reset() { XXH3_64bits_reset(state_->xxh); }

uint64_t Xxh3(const void* data, size_t size) { return XXH3_64bits(data, size); }

std::string ChecksumToString(uint64_t digest) { return absl::StrFormat("xxh3:%016x", digest); }

}  // namespace srs
