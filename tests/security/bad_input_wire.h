// Raw wire helpers for the bad-input tests (listener_bad_input_test.cc): connect to a TCP or
// Unix listener and push malformed bytes at it, plainly or inside a real TLS session (OpenSSL,
// no certificate verification: the point is to reach the listener's parser, not to trust it),
// and build malformed HTTP/2 frames and cut TLS ClientHellos.
//
// Every read and write has a deadline (SO_RCVTIMEO, SO_SNDTIMEO) so a listener that keeps a
// connection open cannot hang a test. Writes use MSG_NOSIGNAL: a listener closing on us early is a
// valid answer. Not thread-safe; one test thread.
#pragma once

#include <doctest/doctest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "common/ssl_ptr.h"

namespace spinel::testing::wire {

using common::SslPtr;

// Read and write deadlines on `fd`; SIGPIPE ignored (SSL_write to a peer that hung up).
inline void SetReadTimeout(int fd, int seconds) {
  static const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// "host:port" -> a connected TCP socket (REQUIRE on failure).
inline int ConnectTcp(const std::string& address) {
  const size_t colon = address.rfind(':');
  REQUIRE(colon != std::string::npos);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  REQUIRE(::getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints,
                        &found) == 0);
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  REQUIRE_MESSAGE(connected, "cannot connect to " << address);
  SetReadTimeout(fd, 5);
  return fd;
}

inline int ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected =
      fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  REQUIRE_MESSAGE(connected, "cannot connect to " << path);
  SetReadTimeout(fd, 5);
  return fd;
}

// Writes `bytes` (stopping quietly if the peer closes), half-closes, reads until the peer closes
// or the read deadline passes, and closes `fd`. True when the connection was open to begin with.
inline bool SendRaw(int fd, const std::string& bytes) {
  if (fd < 0) return false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  while (::recv(fd, buf, sizeof(buf), 0) > 0) {
  }
  ::close(fd);
  return true;
}

// A client TLS context offering ALPN `alpn` ("h2", "http/1.1"), verifying nothing.
inline SslPtr<SSL_CTX> ClientContext() {
  SslPtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  return ctx;
}

inline void SetAlpn(SSL* ssl, const std::string& alpn) {
  std::string wire(1, static_cast<char>(alpn.size()));
  wire += alpn;
  REQUIRE(SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned>(wire.size())) == 0);
}

// The first half of a real TLS ClientHello (as OpenSSL would send it).
inline std::string HalfClientHello(const std::string& alpn) {
  SslPtr<SSL_CTX> ctx = ClientContext();
  SslPtr<SSL> ssl(SSL_new(ctx.get()));
  REQUIRE(ssl);
  SetAlpn(ssl.get(), alpn);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  REQUIRE((in != nullptr && out != nullptr));
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both BIOs from here
  SSL_set_connect_state(ssl.get());
  REQUIRE(SSL_do_handshake(ssl.get()) <= 0);  // wants the ServerHello
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  REQUIRE(size > 100);
  return std::string(data, static_cast<size_t>(size / 2));
}

// A TLS session to `address`; nullptr when the handshake fails. `fd` gets the socket.
inline SslPtr<SSL> TlsConnect(SSL_CTX* ctx, const std::string& address, const std::string& alpn,
                              int* fd) {
  *fd = ConnectTcp(address);
  SslPtr<SSL> ssl(SSL_new(ctx));
  REQUIRE(ssl);
  SetAlpn(ssl.get(), alpn);
  SSL_set_fd(ssl.get(), *fd);
  if (SSL_connect(ssl.get()) != 1) return nullptr;
  return ssl;
}

// Completes a TLS handshake with `address`, then writes `bytes` inside the session, reads until
// the peer closes (or the deadline) and closes. True when the handshake succeeded.
inline bool SendInTls(const std::string& address, const std::string& alpn,
                      const std::string& bytes) {
  SslPtr<SSL_CTX> ctx = ClientContext();
  int fd = -1;
  SslPtr<SSL> ssl = TlsConnect(ctx.get(), address, alpn, &fd);
  if (ssl) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      int n = SSL_write(ssl.get(), bytes.data() + sent,
                        static_cast<int>(std::min<size_t>(bytes.size() - sent, 1 << 20)));
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    SSL_shutdown(ssl.get());  // close_notify: the end of our input, like SHUT_WR
    char buf[4096];
    while (SSL_read(ssl.get(), buf, sizeof(buf)) > 0) {
    }
  }
  const bool ok = ssl != nullptr;
  ssl.reset();
  ::close(fd);
  return ok;
}

// GET `path` over TLS (HTTP/1.1, Connection: close): the whole response, "" on failure.
inline std::string HttpsGet(const std::string& address, const std::string& path) {
  SslPtr<SSL_CTX> ctx = ClientContext();
  int fd = -1;
  SslPtr<SSL> ssl = TlsConnect(ctx.get(), address, "http/1.1", &fd);
  std::string response;
  if (ssl) {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) > 0) {
      char buf[4096];
      int n = 0;
      while ((n = SSL_read(ssl.get(), buf, sizeof(buf))) > 0) response.append(buf, n);
    }
  }
  ssl.reset();
  ::close(fd);
  return response;
}

// HTTP/2 (RFC 9113) pieces.
inline std::string Http2Preface() { return "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; }

inline std::string FrameHeader(uint32_t length, uint8_t type, uint8_t flags, uint32_t stream) {
  std::string h;
  h += static_cast<char>((length >> 16) & 0xff);
  h += static_cast<char>((length >> 8) & 0xff);
  h += static_cast<char>(length & 0xff);
  h += static_cast<char>(type);
  h += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((stream >> shift) & 0xff);
  return h;
}

inline std::string SettingsFrame() { return FrameHeader(0, 0x4, 0, 0); }
// A SETTINGS frame announcing 18 bytes (three settings) that delivers 6.
inline std::string CutSettingsFrame() {
  return FrameHeader(18, 0x4, 0, 0) + std::string("\x00\x03\x00\x00\x00\x64", 6);
}
// HEADERS (END_HEADERS) on stream 1 whose block is `junk` instead of HPACK.
inline std::string GarbageHeadersFrame(const std::string& junk) {
  return FrameHeader(static_cast<uint32_t>(junk.size()), 0x1, 0x4, 1) + junk;
}
// DATA on stream 1 starting a gRPC message that claims 2 GiB - 1.
inline std::string HugeGrpcDataFrame() {
  const std::string prefix(
      "\x00\x7f\xff\xff\xff"
      "abc",
      8);
  return FrameHeader(static_cast<uint32_t>(prefix.size()), 0x0, 0, 1) + prefix;
}
// A DATA frame header announcing 16 MiB - 1, far above the default max frame size.
inline std::string OversizedFrameHeader() { return FrameHeader(0xffffff, 0x0, 0, 1); }

}  // namespace spinel::testing::wire
