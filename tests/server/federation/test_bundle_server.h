// TestBundleServer: a real HTTPS server (cpp-httplib SSLServer on 127.0.0.1, any free port)
// presenting a given certificate chain and key, answering every GET with a body and status the
// test sets (and may change at any time) — a foreign trust domain's bundle endpoint, or a
// misbehaving one. Also ClosedPort(): a loopback port nothing listens on.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "common/bundle.h"
#include "common/certificate.h"
#include "common/keys.h"
#include "common/mutex.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_ca.h"

namespace spinel::testing {

class TestBundleServer {
 public:
  TestBundleServer(const std::vector<common::Certificate>& chain, const common::PrivateKey& key)
      : cert_file_(dir_.Write("server.pem", common::ConcatPem(chain))),
        key_file_(dir_.Write("server.key", std::string(key.ToPkcs8Pem()->view()))),
        server_(cert_file_.c_str(), key_file_.c_str()) {
    REQUIRE(server_.is_valid());
    server_.Get(".*", [this](const httplib::Request&, httplib::Response& res) {
      spinel::common::MutexLock lock(mutex_);
      ++requests_;
      res.status = status_;
      res.set_content(body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestBundleServer() {
    server_.stop();
    thread_.join();
  }

  void Serve(std::string body, int status = 200) {
    spinel::common::MutexLock lock(mutex_);
    body_ = std::move(body);
    status_ = status;
  }
  int requests() {
    spinel::common::MutexLock lock(mutex_);
    return requests_;
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  TempDir dir_;
  std::string cert_file_;
  std::string key_file_;
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  spinel::common::Mutex mutex_;
  std::string body_ ABSL_GUARDED_BY(mutex_);
  int status_ ABSL_GUARDED_BY(mutex_) = 200;
  int requests_ ABSL_GUARDED_BY(mutex_) = 0;
};

// A loopback port that was free a moment ago (bound, then closed).
inline int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The bundle JSON of `ca`'s trust domain with `ca`'s root as X.509 authority.
inline std::string BundleJsonOf(const TestCa& ca, std::optional<uint64_t> sequence = std::nullopt,
                                std::optional<int64_t> refresh_hint = std::nullopt) {
  common::Bundle bundle;
  bundle.trust_domain = ca.td();
  bundle.x509_authorities = {ca.root()};
  bundle.sequence = sequence;
  bundle.refresh_hint_seconds = refresh_hint;
  auto json = bundle.ToJson();
  REQUIRE(json.ok());
  return *json;
}

}  // namespace spinel::testing
