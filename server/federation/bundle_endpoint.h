// BundleEndpoint: the SPIFFE bundle endpoint of one zone (SPIFFE Trust Domain and Bundle §5),
// its own HTTPS listener (config `federation.bundle_endpoints`, issue 9).
//
// Every GET (any path; "/" is what federating servers use) answers the zone's bundle as
// OwnBundles::Published gives it (JSON, spiffe_refresh_hint set, `Content-Type:
// application/json`); HEAD is answered like GET without a body, other methods get 405. When
// the zone is gone (zone reload) or has no authority: 404 / 503 with {"error": "..."}.
//
// Profiles:
//   https_spiffe  the listener presents an X509-SVID of the zone itself,
//                 spiffe://<zone trust domain>/spinel/bundle-endpoint, signed by the zone's CA,
//                 written to <data_dir>/bundle-endpoint-<zone>.pem/.key (ServerSvid) and renewed
//                 once half its lifetime has passed (checked every second).
//   https_web     the configured certificate and key files, re-read when they change.
// Either way the TLS files are re-checked at every handshake (TlsFilePair); TLS 1.2+, no client
// certificate asked for. The bound address is written to <data_dir>/bundle-endpoint-<zone>.addr
// ("host:port\n") by Start().
//
// Create/Start/Stop must not be called concurrently; port() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "server/bundles/own_bundle.h"
#include "server/config.h"
#include "server/issuance/issuer.h"
#include "server/zones/zone_state.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace spinel::server {

class ServerSvid;
class TlsFilePair;

// spiffe://<td>/spinel/bundle-endpoint: the ID an https_spiffe bundle endpoint presents.
common::SpiffeId BundleEndpointId(const common::TrustDomain& td);

// The parts an endpoint uses (references; they must outlive it) and where it keeps its files.
struct BundleEndpointDeps {
  const ZoneState& zones;         // the zone it serves, looked up at every request
  const OwnBundles& own_bundles;  // the bundle it serves
  Issuer& issuer;                 // signs the https_spiffe SVID
  const common::Clock& clock;
  std::chrono::seconds svid_ttl{};  // config server_svid_ttl
  std::string data_dir;             // SVID files and the address file
};

class BundleEndpoint {
 public:
  // Checks the configuration against the current zones (InvalidArgument naming the zone when
  // it is unknown, or the profile/files when wrong), issues the zone SVID (https_spiffe),
  // loads the TLS pair and binds; nothing is served before Start(). Unavailable when the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<BundleEndpoint>> Create(BundleEndpointDeps deps,
                                                                BundleEndpointConfig config);
  ~BundleEndpoint();  // Stop()s

  BundleEndpoint(const BundleEndpoint&) = delete;
  BundleEndpoint& operator=(const BundleEndpoint&) = delete;

  // Serves on the listener thread (and renews the zone SVID on another), writes the address
  // file. FailedPrecondition when called twice.
  absl::Status Start();
  // Stops serving and renewing; waits for in-flight requests. Idempotent.
  void Stop();

  int port() const { return port_; }
  const BundleEndpointConfig& config() const { return config_; }
  // The bound "host:port" (what the address file holds).
  std::string address() const;

 private:
  BundleEndpoint(BundleEndpointDeps deps, BundleEndpointConfig config);
  absl::Status LoadTls();
  absl::Status MakeListener();
  void InstallRoutes();
  void RunRenewal();

  const BundleEndpointDeps deps_;
  const BundleEndpointConfig config_;
  std::unique_ptr<ServerSvid> svid_;  // https_spiffe only
  std::unique_ptr<TlsFilePair> tls_;  // outlives server_, whose SSL_CTX points to it
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  int listen_fd_ = -1;
  bool started_ = false;
  std::thread thread_;
  std::atomic<bool> listener_exited_{false};
  std::thread renewal_thread_;
  common::Mutex mutex_;
  common::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace spinel::server
