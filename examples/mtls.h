// Mutual TLS between example workloads with their X509-SVIDs, over loopback TCP.
//
// Each side presents its own SVID chain and key and accepts the peer only when the peer's
// X509-SVID verifies against the X.509 authorities of the peer's own trust domain among the
// bundles the Workload API gave this workload (its zone's bundle plus the federated bundles of
// peered zones; common::VerifyX509Svid, never pooled across trust domains). A workload of a
// zone that is not a peer is therefore refused in the TLS handshake: it holds no bundle for
// the other side, and the other side holds none for it.
//
// Connections carry newline-terminated text lines. Blocking sockets with a per-operation
// timeout. A connection is used by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/ssl_ptr.h"
#include "examples/workload_identity.h"

namespace spinel::examples {

class MtlsConnection {
 public:
  ~MtlsConnection();
  MtlsConnection(const MtlsConnection&) = delete;
  MtlsConnection& operator=(const MtlsConnection&) = delete;

  absl::Status WriteLine(const std::string& line);
  // Writes `data` as is (e.g. an HTTP request).
  absl::Status Write(const std::string& data);
  // Exactly `size` bytes (after any buffered by ReadLine); Unavailable when the peer closes first.
  absl::StatusOr<std::string> ReadBytes(size_t size);
  // One line without its '\n'. Unavailable when the peer closed or refused the connection
  // (e.g. a TLS 1.3 server rejecting our certificate after the client finished its handshake).
  absl::StatusOr<std::string> ReadLine();

  const std::string& peer_id() const { return peer_id_; }
  // The peer's chain as presented (leaf first), already verified.
  const std::vector<common::Certificate>& peer_chain() const { return peer_chain_; }

 private:
  friend class MtlsHandshake;
  MtlsConnection(int fd, common::SslPtr<SSL> ssl, std::string peer_id,
                 std::vector<common::Certificate> peer_chain);

  int fd_;
  common::SslPtr<SSL> ssl_;
  std::string peer_id_;
  std::vector<common::Certificate> peer_chain_;
  absl::Status Fill();

  std::string buffer_;
};

// Connects to "host:port" and completes the mTLS handshake. PermissionDenied with the reason
// when the handshake fails ("the peer's X509-SVID is not trusted: no X.509 bundle for trust
// domain ..." or the TLS alert the peer sent); Unavailable when the TCP connect fails.
absl::StatusOr<std::unique_ptr<MtlsConnection>> DialMtls(
    const std::string& host_port, std::shared_ptr<const WorkloadIdentity> identity,
    std::chrono::milliseconds timeout);

// Completes the server side of the handshake on an accepted socket `fd` (always closed).
absl::StatusOr<std::unique_ptr<MtlsConnection>> AcceptMtls(
    int fd, std::shared_ptr<const WorkloadIdentity> identity, std::chrono::milliseconds timeout);

// The current identity of a long-running workload (e.g. LiveIdentity::Current).
using IdentitySource = std::function<std::shared_ptr<const WorkloadIdentity>()>;

// Sets up `ctx` (made by a TLS server library, e.g. cpp-httplib's SSLServer) for SPIFFE mTLS:
// TLS >= 1.2, each handshake presents the X509-SVID `current` returns at that moment (so
// rotations apply to new connections) and requires a client X509-SVID verified against that
// identity's bundles, as AcceptMtls does. `current` must outlive `ctx`.
absl::Status SetUpServerContext(SSL_CTX& ctx, const IdentitySource& current);

// The SPIFFE ID of the verified peer of a connection set up by SetUpServerContext ("" when
// there is none).
std::string VerifiedPeerId(const SSL& ssl);

// A listening TCP socket on 127.0.0.1:`port` (0 = any free port); `bound_port` receives the port.
absl::StatusOr<int> ListenLoopback(int port, int* bound_port);

}  // namespace spinel::examples
