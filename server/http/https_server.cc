#include "server/http/https_server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "common/log.h"
#include "common/secret_data.h"
#include "common/ssl_error.h"
#include "common/ssl_ptr.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/bundles/own_bundle.h"
#include "server/federation/federation_refresher.h"
#include "server/http/tls_file_pair.h"

namespace spinel::server {
namespace {

using common::StrCat;

// Mozilla "intermediate" (TLS 1.2 part; TLS 1.3 suites are OpenSSL's defaults), ECDHE only.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr time_t kKeepAliveSeconds = 1;
constexpr time_t kIoTimeoutSeconds = 3;
constexpr size_t kWorkerThreads = 4;
constexpr char kAllowedMethods[] = "GET, HEAD";
constexpr char kJson[] = "application/json";
constexpr char kText[] = "text/plain; charset=utf-8";
constexpr char kPrometheusText[] = "text/plain; version=0.0.4";

struct HostPort {
  std::string host;
  int port = 0;
};

// "host:port" or "[v6]:port"; an empty host means every IPv4 address.
absl::StatusOr<HostPort> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("HTTPS address ", common::Quote(address), " is not host:port"));
  }
  HostPort out;
  out.host = address.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  const std::string port = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(
        StrCat("HTTPS address ", common::Quote(address), " has no valid port (0-65535)"));
  }
  return out;
}

std::string JsonError(std::string_view message) {
  nlohmann::json body = {{"error", std::string(message)}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Runs `handler`, turning any exception into a 500 (exceptions must not reach httplib).
httplib::Server::Handler Guarded(std::string endpoint, httplib::Server::Handler handler) {
  return [endpoint = std::move(endpoint), handler = std::move(handler)](const httplib::Request& req,
                                                                        httplib::Response& res) {
    try {
      handler(req, res);
      return;
    } catch (const std::exception& e) {
      LOG_ERROR("HTTPS handler failed", {{"endpoint", endpoint}, {"error", e.what()}});
    } catch (...) {
      LOG_ERROR("HTTPS handler failed", {{"endpoint", endpoint}, {"error", "unknown exception"}});
    }
    res.status = 500;
    res.set_content("internal error\n", kText);
  };
}

bool IsOwnPath(const std::string& path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics" ||
         path.rfind("/bundle/", 0) == 0;
}

// Logging, the last-resort exception handler, and 405 for other methods on our paths.
void InstallCommonHandlers(httplib::Server& s) {
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("internal error\n", kText);
  });
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    if (!common::LogEnabled(common::LogLevel::kDebug)) return;
    LOG_DEBUG("HTTPS request", {{"method", req.method},
                                {"path", common::Quote(req.path)},
                                {"status", std::to_string(res.status)}});
  });
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD" || !IsOwnPath(req.path)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 405;
    res.set_header("Allow", kAllowedMethods);
    if (req.path.rfind("/bundle/", 0) == 0) {
      res.set_content(JsonError("method not allowed"), kJson);
    } else {
      res.set_content("method not allowed\n", kText);
    }
    return httplib::Server::HandlerResponse::Handled;
  });
}

// The snapshot served at /bundle/<name>: a trust domain the CaManager signs for, else a zone.
std::shared_ptr<const AuthoritySnapshot> FindSnapshot(const HttpsServerDeps& c,
                                                      const std::string& name) {
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(name);
  if (td.ok()) {
    if (auto snapshot = c.cas.Snapshot(*td)) return snapshot;
  }
  std::shared_ptr<const zones::ZoneSet> zones = c.zones.Get();
  const zones::Zone* zone = zones->Find(name);
  return zone == nullptr ? nullptr : c.cas.Snapshot(zone->trust_domain);
}

absl::Status CheckAuthority(const CaManager& cas, const common::TrustDomain& td,
                            common::TimePoint now) {
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas.Snapshot(td);
  if (snapshot == nullptr) {
    return absl::UnavailableError(StrCat("no authority for trust domain ", td.name()));
  }
  const X509Authority* x509 = snapshot->ActiveX509();
  if (!snapshot->x509_signer || x509 == nullptr || x509->NotAfter() <= now) {
    return absl::UnavailableError(StrCat("no active X.509 authority for ", td.name()));
  }
  if (!snapshot->jwt_signer || snapshot->active_jwt == nullptr ||
      snapshot->active_jwt->not_after <= now) {
    return absl::UnavailableError(StrCat("no active JWT authority for ", td.name()));
  }
  return absl::OkStatus();
}

}  // namespace

HttpsServer::HttpsServer(HttpsServerDeps deps, HttpsServerOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

HttpsServer::~HttpsServer() {
  Stop();
  // Never started: httplib does not close a bound but unused listening socket.
  if (!started_ && listen_fd_ >= 0) ::close(listen_fd_);
}

absl::StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Create(HttpsServerDeps deps,
                                                                 HttpsServerOptions options) {
  std::unique_ptr<HttpsServer> self(new HttpsServer(std::move(deps), std::move(options)));
  SPINEL_ASSIGN_OR_RETURN(HostPort address, ParseAddress(self->options_.address));
  SPINEL_RETURN_IF_ERROR(self->MakeListener());
  self->InstallRoutes();
  if (address.port == 0) {
    self->port_ = self->server_->bind_to_any_port(address.host);
  } else if (self->server_->bind_to_port(address.host, address.port)) {
    self->port_ = address.port;
  } else {
    self->port_ = -1;
  }
  if (self->port_ <= 0) {
    self->listen_fd_ = -1;  // httplib closed it
    return absl::UnavailableError(
        StrCat("cannot listen on HTTPS address ", common::Quote(self->options_.address)));
  }
  return self;
}

absl::Status HttpsServer::MakeListener() {
  if (options_.cert_path.empty() != options_.key_path.empty()) {
    return absl::InvalidArgumentError("the HTTPS listener needs both a certificate and a key");
  }
  if (options_.cert_path.empty()) {
    LOG_WARN("HTTPS listener serves plain HTTP (no certificate configured)",
             {{"address", options_.address}});
    server_ = std::make_unique<httplib::Server>();
  } else {
    SPINEL_ASSIGN_OR_RETURN(tls_, TlsFilePair::Load(options_.cert_path, options_.key_path));
    TlsFilePair* tls = tls_.get();
    server_ = std::make_unique<httplib::SSLServer>([tls](SSL_CTX& ctx) {
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_NONE, nullptr);  // no client authentication (G4)
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
      SSL_CTX_set_cert_cb(&ctx, &TlsFilePair::CertCallback, tls);
      return SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) == 1 &&
             SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) == 1;
    });
    if (!server_->is_valid()) return common::SslError("cannot set up the HTTPS TLS context");
  }
  server_->set_keep_alive_timeout(kKeepAliveSeconds);
  server_->set_read_timeout(kIoTimeoutSeconds, 0);
  server_->set_write_timeout(kIoTimeoutSeconds, 0);
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  // httplib's default also sets SO_REUSEPORT, which would let a second server share the port.
  server_->set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;
  });
  return absl::OkStatus();
}

void HttpsServer::InstallRoutes() {
  httplib::Server& s = *server_;
  InstallCommonHandlers(s);
  s.Get("/healthz", Guarded("healthz", [](const httplib::Request&, httplib::Response& res) {
          res.set_content("ok", kText);
        }));
  s.Get("/readyz", Guarded("readyz", [this](const httplib::Request&, httplib::Response& res) {
          absl::Status ready = CheckReady(deps_);
          res.status = ready.ok() ? 200 : 503;
          std::string body =
              ready.ok() ? std::string("ready") : StrCat("not ready: ", ready.message(), "\n");
          // Failing federations are reported but do not make the server unready.
          absl::StatusOr<std::vector<std::string>> failing = FailingFederations(deps_.federations);
          for (const std::string& problem : failing.ok() ? *failing : std::vector<std::string>{}) {
            common::StrAppend(&body, "\nfederation failing (last good bundle kept): ", problem);
          }
          res.set_content(body, kText);
        }));
  s.Get("/metrics", Guarded("metrics", [this](const httplib::Request&, httplib::Response& res) {
          res.set_content(deps_.metrics.Render(), kPrometheusText);
        }));
  s.Get(R"(/bundle/([^/]+))",
        Guarded("bundle", [this](const httplib::Request& req, httplib::Response& res) {
          ServeBundle(req.matches[1].str(), res);
        }));
}

void HttpsServer::ServeBundle(const std::string& name, httplib::Response& res) const {
  std::shared_ptr<const AuthoritySnapshot> snapshot = FindSnapshot(deps_, name);
  if (snapshot == nullptr) {
    res.status = 404;
    res.set_content(JsonError(StrCat("unknown trust domain or zone ", common::Quote(name))), kJson);
    return;
  }
  absl::StatusOr<common::Bundle> bundle = deps_.own_bundles.Published(snapshot->trust_domain);
  absl::StatusOr<std::string> json = bundle.ok() ? bundle->ToJson() : bundle.status();
  if (!json.ok()) {
    LOG_ERROR("cannot encode bundle", {{"trust_domain", snapshot->trust_domain.name()},
                                       {"error", std::string(json.status().message())}});
    res.status = 500;
    res.set_content(JsonError("cannot encode the bundle"), kJson);
    return;
  }
  res.set_content(*json, kJson);
}

absl::Status HttpsServer::Start() {
  common::MutexLock lock(lifecycle_mutex_);
  if (started_) return absl::FailedPreconditionError("the HTTPS listener was already started");
  started_ = true;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listener_exited_ = true;
  });
  // httplib's stop() is a no-op until the loop runs, so Start returns only once it does (it
  // starts at once: the socket is already bound) or the listener gave up.
  while (!server_->is_running() && !listener_exited_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) {
    thread_.join();
    return absl::InternalError(StrCat("the HTTPS listener on port ", port_, " did not start"));
  }
  LOG_INFO("HTTPS listener serving", {{"address", options_.address},
                                      {"port", std::to_string(port_)},
                                      {"tls", tls_ ? "true" : "false"}});
  return absl::OkStatus();
}

void HttpsServer::Stop() {
  common::MutexLock lock(lifecycle_mutex_);
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
  LOG_INFO("HTTPS listener stopped", {{"port", std::to_string(port_)}});
}

// ---------------------------------------------------------------------------------------------

absl::Status CheckReady(const HttpsServerDeps& deps) {
  absl::StatusOr<int64_t> revision = deps.changes.CurrentRevision();
  if (!revision.ok()) {
    return absl::UnavailableError(
        StrCat("datastore does not answer: ", revision.status().message()));
  }
  const common::TimePoint now = deps.clock.Now();
  SPINEL_RETURN_IF_ERROR(CheckAuthority(deps.cas, deps.control, now));
  std::shared_ptr<const zones::ZoneSet> zones = deps.zones.Get();
  for (const zones::Zone& zone : zones->zones()) {
    SPINEL_RETURN_IF_ERROR(CheckAuthority(deps.cas, zone.trust_domain, now));
  }
  return absl::OkStatus();
}

}  // namespace spinel::server
