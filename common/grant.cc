#include "common/grant.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/secret_file.h"
#include "common/status_macros.h"

namespace srs {
namespace {

constexpr char kDomain[] = "srs-write-grant-v1";

// Fixed-width little-endian integers and length-prefixed strings: no two different field sets
// serialize to the same bytes (a job "a/1" cannot pose as job "a" epoch 1).
void AppendInt(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void AppendString(std::string* out, const std::string& s) {
  AppendInt(out, s.size());
  out->append(s);
}

}  // namespace

GrantKey GrantKey::Generate() {
  std::string bytes(kBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), kBytes) != 1) {
    SRS_LOG(ERROR) << "OpenSSL RAND_bytes failed: cannot make a grant key";
    std::abort();  // never fall back to a predictable key
  }
  return GrantKey(std::move(bytes));
}

absl::StatusOr<GrantKey> GrantKey::FromBytes(const std::string& bytes) {
  if (bytes.size() != kBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a grant key has ", kBytes, " bytes, not ", bytes.size()));
  }
  return GrantKey(bytes);
}

absl::StatusOr<GrantKey> GrantKey::Load(const std::string& path) {
  SRS_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path));
  absl::string_view hex = absl::StripAsciiWhitespace(text);
  if (hex.size() != 2 * kBytes ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a grant key (", 2 * kBytes, " hex characters expected)"));
  }
  return GrantKey(absl::HexStringToBytes(hex));
}

absl::StatusOr<GrantKey> GrantKey::LoadOrCreate(const std::string& path) {
  absl::StatusOr<GrantKey> key = Load(path);
  if (!absl::IsNotFound(key.status())) return key;
  GrantKey fresh = Generate();
  SRS_RETURN_IF_ERROR(fresh.Save(path));
  return fresh;
}

absl::Status GrantKey::Save(const std::string& path) const {
  return WriteSecretFile(path, absl::BytesToHexString(bytes_) + "\n");
}

std::string GrantKey::Mac(const depot::v1::WriteGrant& grant) const {
  std::string message(kDomain, sizeof(kDomain));
  AppendString(&message, grant.job());
  AppendInt(&message, static_cast<uint64_t>(grant.epoch()));
  AppendInt(&message, static_cast<uint64_t>(static_cast<int64_t>(grant.rank())));
  AppendString(&message, grant.depot_id());
  AppendInt(&message, static_cast<uint64_t>(grant.expires_unix_ms()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

depot::v1::WriteGrant GrantKey::Mint(const GrantFields& fields) const {
  depot::v1::WriteGrant grant;
  grant.set_job(fields.job);
  grant.set_epoch(fields.epoch);
  grant.set_rank(fields.rank);
  grant.set_depot_id(fields.depot_id);
  grant.set_expires_unix_ms(absl::ToUnixMillis(fields.expires));
  grant.set_mac(Mac(grant));
  return grant;
}

absl::Status GrantKey::Verify(const depot::v1::WriteGrant& grant, absl::Time now) const {
  if (grant.mac().empty()) {
    return absl::UnauthenticatedError("write grant missing (the RSS issues one per checkpoint)");
  }
  const std::string expected = Mac(grant);
  if (grant.mac().size() != expected.size() ||
      CRYPTO_memcmp(grant.mac().data(), expected.data(), expected.size()) != 0) {
    return absl::PermissionDeniedError(
        "write grant invalid (forged, altered, or issued by another RSS)");
  }
  if (grant.expires_unix_ms() <= absl::ToUnixMillis(now)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "write grant expired at ",
        absl::FormatTime(absl::FromUnixMillis(grant.expires_unix_ms()), absl::UTCTimeZone())));
  }
  return absl::OkStatus();
}

}  // namespace srs
