#include "rss/job_owner.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "common/random.h"

namespace srs {

std::string NewOwnerSecret() { return RandomHex(32); }

std::string OwnerSecretHash(absl::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(length)));
}

bool OwnerSecretMatches(absl::string_view secret, absl::string_view hash) {
  if (secret.empty() || hash.empty()) return false;
  std::string computed = OwnerSecretHash(secret);
  if (computed.size() != hash.size()) return false;
  return CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

}  // namespace srs
