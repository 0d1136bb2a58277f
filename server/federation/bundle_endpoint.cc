#include "server/federation/bundle_endpoint.h"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/log.h"
#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/bundles/own_bundle.h"
#include "server/http/tls_file_pair.h"
#include "server/issuance/server_svid.h"

namespace spinel::server {
namespace {

using common::StrCat;

constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kJson[] = "application/json";

std::string JsonError(std::string_view message) {
  nlohmann::json body = {{"error", std::string(message)}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "host:port" / "[v6]:port" -> host (brackets removed; "" = 0.0.0.0) and port.
absl::Status SplitAddress(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  const std::string port_text = colon == std::string::npos ? "" : address.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), *port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        StrCat("bundle endpoint address ", common::Quote(address), " is not host:port"));
  }
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (host->empty()) *host = "0.0.0.0";
  return absl::OkStatus();
}

}  // namespace

common::SpiffeId BundleEndpointId(const common::TrustDomain& td) {
  return *common::SpiffeId::FromPath(td, "/spinel/bundle-endpoint");
}

BundleEndpoint::BundleEndpoint(BundleEndpointDeps deps, BundleEndpointConfig config)
    : deps_(std::move(deps)), config_(std::move(config)) {}

BundleEndpoint::~BundleEndpoint() {
  Stop();
  if (!started_ && listen_fd_ >= 0) ::close(listen_fd_);  // bound, never served
}

absl::StatusOr<std::unique_ptr<BundleEndpoint>> BundleEndpoint::Create(
    BundleEndpointDeps deps, BundleEndpointConfig config) {
  std::unique_ptr<BundleEndpoint> self(new BundleEndpoint(std::move(deps), std::move(config)));
  std::string host;
  int port = 0;
  SPINEL_RETURN_IF_ERROR(SplitAddress(self->config_.address, &host, &port));
  SPINEL_RETURN_IF_ERROR(self->LoadTls());
  SPINEL_RETURN_IF_ERROR(self->MakeListener());
  self->InstallRoutes();
  self->port_ = port == 0 ? self->server_->bind_to_any_port(host)
                          : (self->server_->bind_to_port(host, port) ? port : -1);
  if (self->port_ <= 0) {
    self->listen_fd_ = -1;  // httplib closed it
    return absl::UnavailableError(StrCat("cannot listen on bundle endpoint address ",
                                         common::Quote(self->config_.address), " of zone ",
                                         self->config_.zone));
  }
  return self;
}

absl::Status BundleEndpoint::LoadTls() {
  const zones::Zone* zone = deps_.zones.Get()->Find(config_.zone);
  if (zone == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("federation.bundle_endpoints: ", common::Quote(config_.zone), " is not a zone"));
  }
  if (config_.profile == "https_web") {
    SPINEL_ASSIGN_OR_RETURN(tls_, TlsFilePair::Load(config_.cert_path, config_.key_path));
    return absl::OkStatus();
  }
  if (config_.profile != "https_spiffe") {
    return absl::InvalidArgumentError(StrCat("federation.bundle_endpoints: profile ",
                                             common::Quote(config_.profile), " of zone ",
                                             config_.zone, " is not https_spiffe or https_web"));
  }
  svid_ = std::make_unique<ServerSvid>(deps_.issuer, BundleEndpointId(zone->trust_domain),
                                       deps_.svid_ttl, deps_.data_dir, deps_.clock,
                                       StrCat("bundle-endpoint-", config_.zone));
  SPINEL_RETURN_IF_ERROR(svid_->Renew());
  SPINEL_ASSIGN_OR_RETURN(tls_, TlsFilePair::Load(svid_->cert_path(), svid_->key_path()));
  return absl::OkStatus();
}

absl::Status BundleEndpoint::MakeListener() {
  TlsFilePair* tls = tls_.get();
  server_ = std::make_unique<httplib::SSLServer>([tls](SSL_CTX& ctx) {
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_NONE, nullptr);  // bundles are public
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_cert_cb(&ctx, &TlsFilePair::CertCallback, tls);
    return SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) == 1 &&
           SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) == 1;
  });
  if (!server_->is_valid())
    return common::SslError("cannot set up the bundle endpoint TLS context");
  server_->set_keep_alive_timeout(1);
  server_->set_read_timeout(3, 0);
  server_->set_write_timeout(3, 0);
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server_->set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;
  });
  return absl::OkStatus();
}

void BundleEndpoint::InstallRoutes() {
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD")
      return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content(JsonError("method not allowed"), kJson);
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(JsonError("internal error"), kJson);
      });
  server_->Get(".*", [this](const httplib::Request&, httplib::Response& res) {
    const zones::Zone* zone = deps_.zones.Get()->Find(config_.zone);
    if (zone == nullptr) {
      res.status = 404;
      res.set_content(JsonError(StrCat("zone ", common::Quote(config_.zone), " is gone")), kJson);
      return;
    }
    absl::StatusOr<common::Bundle> bundle = deps_.own_bundles.Published(zone->trust_domain);
    absl::StatusOr<std::string> json =
        bundle.ok() ? bundle->ToJson() : absl::StatusOr<std::string>(bundle.status());
    if (!json.ok()) {
      LOG_ERROR("bundle endpoint cannot serve the bundle",
                {{"zone", config_.zone}, {"error", std::string(json.status().message())}});
      res.status = 503;
      res.set_content(JsonError("the bundle is not available"), kJson);
      return;
    }
    res.set_content(*json, kJson);
  });
}

std::string BundleEndpoint::address() const {
  std::string host = config_.address.substr(0, config_.address.rfind(':'));
  return StrCat(host, ":", port_);
}

absl::Status BundleEndpoint::Start() {
  if (started_) return absl::FailedPreconditionError("the bundle endpoint was already started");
  started_ = true;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listener_exited_ = true;
  });
  while (!server_->is_running() && !listener_exited_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) {
    thread_.join();
    return absl::InternalError(
        StrCat("the bundle endpoint of zone ", config_.zone, " did not start"));
  }
  if (svid_ != nullptr) renewal_thread_ = std::thread([this] { RunRenewal(); });
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(
      StrCat(deps_.data_dir, "/bundle-endpoint-", config_.zone, ".addr"), address() + "\n", 0644));
  LOG_INFO("bundle endpoint serving",
           {{"zone", config_.zone}, {"address", address()}, {"profile", config_.profile}});
  return absl::OkStatus();
}

void BundleEndpoint::Stop() {
  {
    common::MutexLock lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.NotifyAll();
  if (renewal_thread_.joinable()) renewal_thread_.join();
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

void BundleEndpoint::RunRenewal() {
  common::MutexLock lock(mutex_);
  while (!stop_cv_.WaitFor(mutex_, std::chrono::seconds(1),
                           [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_; })) {
    lock.Unlock();
    absl::StatusOr<bool> renewed = svid_->RenewIfDue();
    if (!renewed.ok()) {
      LOG_ERROR("bundle endpoint SVID renewal failed",
                {{"zone", config_.zone}, {"error", std::string(renewed.status().message())}});
    }
    lock.Lock();
  }
}

}  // namespace spinel::server
