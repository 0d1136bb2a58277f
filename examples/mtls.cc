#include "examples/mtls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/x509_svid_validator.h"

namespace spinel::examples {
namespace {

using common::Certificate;
using common::SslPtr;
using common::StrCat;

// Per-handshake state, reachable from the verify callback through the SSL's ex_data.
struct HandshakeState {
  const WorkloadIdentity* identity = nullptr;
  absl::Status verify_status = absl::OkStatus();
  std::string peer_id;
  std::vector<Certificate> peer_chain;
};

int StateIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Certificate Borrow(X509* cert) {
  X509_up_ref(cert);  // the Certificate owns the new reference
  return Certificate::Adopt(SslPtr<X509>(cert));
}

// The peer chain as sent, leaf first.
std::vector<Certificate> PeerChain(X509_STORE_CTX* store_ctx) {
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  std::vector<Certificate> chain = {Borrow(leaf)};
  STACK_OF(X509)* untrusted = X509_STORE_CTX_get0_untrusted(store_ctx);
  for (int i = 0; untrusted != nullptr && i < sk_X509_num(untrusted); ++i) {
    X509* cert = sk_X509_value(untrusted, i);
    if (X509_cmp(cert, leaf) != 0) chain.push_back(Borrow(cert));
  }
  return chain;
}

// The SPIFFE X509-SVID rules against `identity`'s bundles for the chain in `store_ctx`.
absl::StatusOr<common::VerifiedX509Svid> VerifyChain(X509_STORE_CTX* store_ctx,
                                                     const WorkloadIdentity& identity,
                                                     std::vector<Certificate>* chain) {
  *chain = PeerChain(store_ctx);
  auto verified =
      common::VerifyX509Svid(*chain, identity.authorities, common::SystemClock::Get().Now());
  if (!verified.ok()) {
    X509_STORE_CTX_set_error(store_ctx,
                             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);  // unknown_ca
  }
  return verified;
}

// Replaces OpenSSL's chain verification: the SPIFFE X509-SVID rules against our bundles.
int VerifyPeer(X509_STORE_CTX* store_ctx, void* /*arg*/) {
  SSL* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* state = static_cast<HandshakeState*>(SSL_get_ex_data(ssl, StateIndex()));
  std::vector<Certificate> chain;
  auto verified = VerifyChain(store_ctx, *state->identity, &chain);
  if (!verified.ok()) {
    state->verify_status = verified.status();
    return 0;
  }
  state->peer_id = verified->id.ToString();
  state->peer_chain = std::move(chain);
  return 1;
}

// The same for a server context: the bundles of the identity current at handshake time.
int VerifyPeerLive(X509_STORE_CTX* store_ctx, void* arg) {
  const auto* current = static_cast<const IdentitySource*>(arg);
  std::vector<Certificate> chain;
  return VerifyChain(store_ctx, *(*current)(), &chain).ok() ? 1 : 0;
}

// Presents the X509-SVID current at handshake time.
int UseCurrentSvid(SSL* ssl, void* arg) {
  std::shared_ptr<const WorkloadIdentity> identity = (*static_cast<const IdentitySource*>(arg))();
  const std::vector<Certificate>& chain = identity->svid.chain;
  if (SSL_use_certificate(ssl, chain.front().x509()) != 1) return 0;  // takes its own ref
  SSL_clear_chain_certs(ssl);
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_add1_chain_cert(ssl, chain[i].x509()) != 1) return 0;
  }
  return SSL_use_PrivateKey(ssl, identity->svid.key.evp()) == 1 ? 1 : 0;  // takes its own ref
}

absl::StatusOr<SslPtr<SSL_CTX>> MakeContext(const WorkloadIdentity& identity, bool server) {
  SslPtr<SSL_CTX> ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) return common::SslError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  const std::vector<Certificate>& chain = identity.svid.chain;
  if (SSL_CTX_use_certificate(ctx.get(), chain.front().x509()) != 1) {  // takes its own ref
    return common::SslError("loading the X509-SVID");
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), chain[i].x509()) != 1) {
      return common::SslError("loading the X509-SVID chain");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), identity.svid.key.evp()) != 1 ||  // takes its own ref
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return common::SslError("loading the X509-SVID key");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx.get(), VerifyPeer, nullptr);
  return ctx;
}

void SetTimeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

absl::StatusOr<sockaddr_in> ParseLoopbackAddress(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  int port = 0;
  if (colon == std::string::npos ||
      inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1 ||
      (port = std::atoi(host_port.c_str() + colon + 1)) <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        StrCat("expected an IPv4 address and port such as 127.0.0.1:8443, got ",
               common::Quote(host_port)));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

// Runs one handshake on a connected socket and builds the connection.
class MtlsHandshake {
 public:
  static absl::StatusOr<std::unique_ptr<MtlsConnection>> Run(
      int fd, std::shared_ptr<const WorkloadIdentity> identity, bool server) {
    auto ctx = MakeContext(*identity, server);
    if (!ctx.ok()) {
      ::close(fd);
      return ctx.status();
    }
    SslPtr<SSL> ssl(SSL_new(ctx->get()));  // the SSL keeps its own reference to the context
    HandshakeState state;
    state.identity = identity.get();
    if (!ssl || SSL_set_ex_data(ssl.get(), StateIndex(), &state) != 1 ||
        SSL_set_fd(ssl.get(), fd) != 1) {
      ::close(fd);
      return common::SslError("setting up the TLS connection");
    }
    int rc = server ? SSL_accept(ssl.get()) : SSL_connect(ssl.get());
    SSL_set_ex_data(ssl.get(), StateIndex(), nullptr);
    if (rc != 1) {
      std::string detail =
          state.verify_status.ok()
              ? StrCat("the peer refused the handshake: ", common::DrainSslErrors())
              : StrCat("the peer's X509-SVID is not trusted: ", state.verify_status.message());
      common::ClearSslErrors();
      ::close(fd);
      return absl::PermissionDeniedError(StrCat("TLS handshake failed: ", detail));
    }
    return std::unique_ptr<MtlsConnection>(new MtlsConnection(
        fd, std::move(ssl), std::move(state.peer_id), std::move(state.peer_chain)));
  }
};

MtlsConnection::MtlsConnection(int fd, SslPtr<SSL> ssl, std::string peer_id,
                               std::vector<Certificate> peer_chain)
    : fd_(fd),
      ssl_(std::move(ssl)),
      peer_id_(std::move(peer_id)),
      peer_chain_(std::move(peer_chain)) {}

MtlsConnection::~MtlsConnection() {
  SSL_shutdown(ssl_.get());
  ssl_.reset();
  ::close(fd_);
}

absl::Status MtlsConnection::Write(const std::string& data) {
  size_t written = 0;
  if (SSL_write_ex(ssl_.get(), data.data(), data.size(), &written) != 1 || written != data.size()) {
    return absl::UnavailableError(StrCat("TLS write failed: ", common::DrainSslErrors()));
  }
  return absl::OkStatus();
}

absl::Status MtlsConnection::WriteLine(const std::string& line) { return Write(line + "\n"); }

absl::Status MtlsConnection::Fill() {
  char chunk[4096];
  size_t got = 0;
  if (SSL_read_ex(ssl_.get(), chunk, sizeof(chunk), &got) != 1) {
    std::string errors = common::DrainSslErrors();
    return absl::UnavailableError(
        StrCat("the peer closed the connection", errors.empty() ? "" : ": ", errors));
  }
  buffer_.append(chunk, got);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MtlsConnection::ReadLine() {
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (buffer_.size() > 64 * 1024) return absl::InvalidArgumentError("line too long");
    SPINEL_RETURN_IF_ERROR(Fill());
  }
}

absl::StatusOr<std::string> MtlsConnection::ReadBytes(size_t size) {
  while (buffer_.size() < size) SPINEL_RETURN_IF_ERROR(Fill());
  std::string data = buffer_.substr(0, size);
  buffer_.erase(0, size);
  return data;
}

absl::StatusOr<std::unique_ptr<MtlsConnection>> DialMtls(
    const std::string& host_port, std::shared_ptr<const WorkloadIdentity> identity,
    std::chrono::milliseconds timeout) {
  SPINEL_ASSIGN_OR_RETURN(sockaddr_in addr, ParseLoopbackAddress(host_port));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(StrCat("socket: ", std::strerror(errno)));
  SetTimeouts(fd, timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string error = std::strerror(errno);
    ::close(fd);
    return absl::UnavailableError(StrCat("cannot connect to ", host_port, ": ", error));
  }
  return MtlsHandshake::Run(fd, std::move(identity), /*server=*/false);
}

absl::StatusOr<std::unique_ptr<MtlsConnection>> AcceptMtls(
    int fd, std::shared_ptr<const WorkloadIdentity> identity, std::chrono::milliseconds timeout) {
  SetTimeouts(fd, timeout);
  return MtlsHandshake::Run(fd, std::move(identity), /*server=*/true);
}

absl::Status SetUpServerContext(SSL_CTX& ctx, const IdentitySource& current) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  // No session resumption: every connection presents and verifies an X509-SVID against the
  // bundles current at that moment (a resumed session would skip the peer's rotated or revoked
  // SVID; and without a session id context OpenSSL aborts such a handshake with
  // internal_error, as clients that resume, like node's, found out).
  SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(&ctx, 0);
  SSL_CTX_set_cert_cb(&ctx, UseCurrentSvid, const_cast<IdentitySource*>(&current));
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(&ctx, VerifyPeerLive, const_cast<IdentitySource*>(&current));
  return absl::OkStatus();
}

std::string VerifiedPeerId(const SSL& ssl) {
  SslPtr<X509> leaf(SSL_get1_peer_certificate(&ssl));
  if (!leaf) return "";
  std::vector<std::string> uris = Certificate::Adopt(std::move(leaf)).UriSans();
  return uris.size() == 1 ? uris.front() : "";
}

absl::StatusOr<int> ListenLoopback(int port, int* bound_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string error = std::strerror(errno);
    ::close(fd);
    return absl::UnavailableError(StrCat("cannot listen on 127.0.0.1:", port, ": ", error));
  }
  *bound_port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace spinel::examples
