#include "common/tls.h"

#include <arpa/inet.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace srs {
namespace tls {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the TLS ", what, " ", path, ": ",
                                                      std::strerror(errno ? errno : EIO)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {  // e.g. a directory: opens, then fails to read
    return absl::FailedPreconditionError(absl::StrCat("cannot read the TLS ", what, " ", path, ": ",
                                                      std::strerror(errno ? errno : EIO)));
  }
  std::string pem = text.str();
  if (pem.size() > kMaxPemBytes || !absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat("TLS ", what, " ", path, " is not a PEM file"));
  }
  return pem;
}

absl::Status CheckPairs(const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(
        "TLS: a certificate needs its private key and the reverse (give both cert and key)");
  }
  return absl::OkStatus();
}

// OpenSSL's most recent error, for a message ("" if none); clears its queue.
std::string OpenSslReason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return absl::StrCat(" (", text, ")");
}

// The certificate (first of the chain) and the key parse, and the key is the certificate's.
// Checked here because gRPC only finds out when it builds the server or the first handshake,
// and then says "cannot listen" or "unavailable" instead.
absl::Status CheckKeyMatchesCert(const std::string& cert_pem, const std::string& key_pem,
                                 const TlsFiles& files) {
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS certificate ", files.cert, " holds no certificate", OpenSslReason()));
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  // No passphrase callback: an encrypted key fails here rather than prompting on the terminal.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(
          key_bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr),
      EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key ", files.key,
                     " holds no usable private key (not a key, or encrypted: SRS needs it "
                     "unencrypted)",
                     OpenSslReason()));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("TLS key ", files.key,
                                                   " does not match the certificate ", files.cert,
                                                   " (it is the key of another certificate)"));
  }
  return absl::OkStatus();
}

absl::Mutex client_mu(absl::kConstInit);
std::shared_ptr<grpc::ChannelCredentials>* client_credentials ABSL_GUARDED_BY(client_mu) = nullptr;
bool client_tls ABSL_GUARDED_BY(client_mu) = false;

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files) {
  if (!files.any()) return grpc::InsecureServerCredentials();
  SRS_RETURN_IF_ERROR(CheckPairs(files));
  if (files.cert.empty()) {
    return absl::InvalidArgumentError(
        "TLS: --tls-ca on a server needs --tls-cert and --tls-key (its own certificate)");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  SRS_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(files.cert, "certificate"));
  SRS_ASSIGN_OR_RETURN(pair.private_key, ReadPem(files.key, "key"));
  SRS_RETURN_IF_ERROR(CheckKeyMatchesCert(pair.cert_chain, pair.private_key, files));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.ca.empty()) {
    SRS_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(files.ca, "CA"));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files) {
  if (!files.any()) return grpc::InsecureChannelCredentials();
  SRS_RETURN_IF_ERROR(CheckPairs(files));
  grpc::SslCredentialsOptions options;
  if (!files.ca.empty()) {
    SRS_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(files.ca, "CA"));
  }
  if (!files.cert.empty()) {
    SRS_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPem(files.cert, "certificate"));
    SRS_ASSIGN_OR_RETURN(options.pem_private_key, ReadPem(files.key, "key"));
    SRS_RETURN_IF_ERROR(
        CheckKeyMatchesCert(options.pem_cert_chain, options.pem_private_key, files));
  }
  return grpc::SslCredentials(options);
}

absl::Status SetClientTls(const TlsFiles& files) {
  SRS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       MakeChannelCredentials(files));
  absl::MutexLock lock(&client_mu);
  delete client_credentials;
  client_credentials = new std::shared_ptr<grpc::ChannelCredentials>(std::move(credentials));
  client_tls = files.any();
  return absl::OkStatus();
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() {
  absl::MutexLock lock(&client_mu);
  if (client_credentials == nullptr) return grpc::InsecureChannelCredentials();
  return *client_credentials;
}

bool ClientTlsEnabled() {
  absl::MutexLock lock(&client_mu);
  return client_tls;
}

std::string ConnectHint() {
  return ClientTlsEnabled()
             ? "; with TLS on, also check that the server's certificate is signed by tls_ca and "
               "names the address, and that it accepts tls_cert (mutual TLS)"
             : "; if the server requires TLS, set tls_ca (and tls_cert/tls_key for mutual TLS)";
}

bool IsLoopbackListen(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

absl::Status CheckListenSecurity(const std::string& listen, bool tls, bool insecure_allowed) {
  if (tls || IsLoopbackListen(listen)) return absl::OkStatus();
  if (!insecure_allowed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", listen,
        " without TLS: anyone on the network could read and alter checkpoints and tokens. "
        "Give --tls-cert and --tls-key (and --tls-ca for mutual TLS), listen on 127.0.0.1, or "
        "pass --insecure to accept plain text"));
  }
  SRS_LOG(WARNING) << "*** INSECURE: listening on " << listen
                   << " WITHOUT TLS (--insecure): tokens, capabilities and checkpoint data "
                      "travel in clear text and can be read or altered on the network ***";
  return absl::OkStatus();
}

}  // namespace tls
}  // namespace srs
