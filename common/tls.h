// TLS for every SRS channel (gRPC SSL credentials), in one place.
//
// Servers (srs-rss, srs-depot: --tls-cert, --tls-key, --tls-ca): a certificate and key make the
// server speak TLS; a CA in addition makes it require and verify a client certificate signed by
// that CA (mutual TLS). Clients (config keys tls_ca, tls_cert, tls_key; the daemons' own flags
// for their depot->RSS and RSS->depot channels): tls_ca turns TLS on and is the CA the server's
// certificate must chain to; tls_cert + tls_key are the client certificate for mutual TLS.
// Certificates must name the address clients dial (e.g. SAN IP:127.0.0.1 or DNS:node12).
//
// A process has one client TLS setting (SetClientTls): every channel it opens to an RSS or a
// depot uses ChannelCredentials(). Without TLS configured, channels are plain text: fine on
// loopback (the embedded default of `srs run`), refused by the daemons on other addresses
// unless --insecure.
//
//   tls::TlsFiles files{"ca.pem", "client.pem", "client.key"};
//   SRS_RETURN_IF_ERROR(tls::SetClientTls(files));
//   auto channel = grpc::CreateChannel(address, tls::ChannelCredentials());
#ifndef SRS_COMMON_TLS_H_
#define SRS_COMMON_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace srs {
namespace tls {

// Paths of PEM files; empty = not given.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
  bool any() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

// Server credentials: insecure when `files` is empty; TLS with cert+key; mutual TLS (client
// certificate required and verified against ca) when ca is also given. INVALID_ARGUMENT for a
// key without a cert (or the reverse), a CA without cert, a file that is not PEM, a certificate
// or key OpenSSL cannot parse, or a key that is not the certificate's ("TLS key K does not match
// the certificate C"); FAILED_PRECONDITION naming a file that cannot be read, and why (errno).
// The daemons call it before anything else and exit 2 (a usage error) on any of these.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

// Channel credentials: insecure when `files` is empty; TLS verifying the server against ca
// (the system's roots if ca is empty but a client cert is given); cert+key presented as the
// client certificate. Same errors as MakeServerCredentials.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

// Sets this process's client TLS (thread-safe; later calls replace it). Errors as above, and
// the previous setting stays.
absl::Status SetClientTls(const TlsFiles& files);
// The credentials every product channel uses: the last SetClientTls, else insecure.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials();
// Whether SetClientTls configured TLS.
bool ClientTlsEnabled();

// What to add to a "cannot connect" message: the TLS settings to check (with TLS on, a
// handshake failure looks like an unreachable server to gRPC's clients).
std::string ConnectHint();

// True when `listen` (HOST:PORT) binds only loopback (127.0.0.0/8, ::1, localhost).
bool IsLoopbackListen(const std::string& listen);

// A daemon's start-up check: listening on a non-loopback address without TLS is
// FAILED_PRECONDITION (the message says to configure --tls-cert/--tls-key or to pass
// --insecure), unless `insecure_allowed`, in which case a loud warning is logged.
absl::Status CheckListenSecurity(const std::string& listen, bool tls, bool insecure_allowed);

}  // namespace tls
}  // namespace srs

#endif  // SRS_COMMON_TLS_H_
