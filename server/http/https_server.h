// HttpsServer: spinel-server's HTTP(S) listener (cpp-httplib) for health, metrics and the
// SPIFFE bundle endpoint of every trust domain the server signs for.
//
// Endpoints (GET; HEAD is answered like GET without a body; any other method on these paths
// is 405 with `Allow: GET, HEAD`, checklist G12):
//   /healthz            200 "ok" while the process serves.
//   /readyz             200 "ready" when CheckReady() passes; 503 with a plain-text reason.
//                       Either way one more line per failing federation relationship,
//                       "federation failing (last good bundle kept): <td>: <error>"
//                       (FailingFederations): it does not make the server unready.
//   /metrics            Metrics::Render(), `Content-Type: text/plain; version=0.0.4`.
//   /bundle/<name>      the SPIFFE bundle (JSON, `Content-Type: application/json`) of the trust
//                       domain <name>, or of the zone named <name> (a trust domain match wins).
//                       Every trust domain of the CaManager is served, the control plane's
//                       included (bundles are public; an https_spiffe client of this endpoint
//                       needs the control bundle to verify the server certificate).
//                       spiffe_refresh_hint is BundleRefreshHint() (server/bundles/own_bundle.h).
//                       Unknown name: 404 with
//                       {"error": "..."}; a bundle that cannot be encoded: 500, same shape.
//
// TLS (federation profile https_spiffe): with a certificate and key the listener serves TLS
// 1.2+ with the Mozilla "intermediate" cipher list and never asks for a client certificate
// (G4). The files (the server SVID, replaced atomically on renewal) are re-checked at every
// handshake: when the inode, size or mtime of either file changed they are re-read, and the
// new pair is used from that handshake on if the key matches the certificate. A pair that does
// not load or match (e.g. between the renames of key and certificate) keeps the previous one
// in service and is retried once either file changes again. Without a certificate the
// listener speaks plain HTTP: for tests and for operators who terminate TLS in a proxy (a
// warning is logged).
//
// Threads: the listener runs on its own thread with a small worker pool; handlers only read
// the thread-safe parts in HttpsServerDeps and never let an exception escape (500 instead).
// Stop() returns as soon as in-flight requests finish: idle keep-alive connections are dropped
// within 1 s and a stalled client is given up after the 3 s read/write timeout.
// Create/Start/Stop must not be called concurrently with each other; port() and is_tls() may
// be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "server/bundles/own_bundle.h"
#include "server/ca/ca_manager.h"
#include "server/ca/zone_authority.h"
#include "server/datastore/change_log.h"
#include "server/datastore/federation_store.h"
#include "server/metrics/metrics.h"
#include "server/zones/zone_state.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace spinel::server {

class TlsFilePair;  // server/http/tls_file_pair.h

struct HttpsServerOptions {
  std::string address;    // "host:port" or "[v6]:port"; port 0 picks a free port
  std::string cert_path;  // PEM certificate chain, leaf first; "" serves plain HTTP
  std::string key_path;   // PEM (PKCS#8) private key; required with cert_path
};

// What the listener reads (references; they must outlive the server).
struct HttpsServerDeps {
  ChangeLog& changes;             // readiness: the datastore answers (CurrentRevision)
  FederationStore& federations;   // /healthz: failing federations
  const ZoneState& zones;         // readiness, /bundle/<zone>
  const CaManager& cas;           // readiness, /bundle/<name>
  const OwnBundles& own_bundles;  // the bundle /bundle/<name> serves
  const Metrics& metrics;         // /metrics
  const common::Clock& clock;
  common::TrustDomain control;  // the control trust domain (readiness)
};

class HttpsServer {
 public:
  // Parses the address, loads the TLS pair (when given) and binds the listening socket; nothing
  // is served before Start(). InvalidArgument for a bad address or a key without certificate;
  // the load error for unreadable or mismatched TLS files; Unavailable when the address cannot
  // be bound.
  static absl::StatusOr<std::unique_ptr<HttpsServer>> Create(HttpsServerDeps deps,
                                                             HttpsServerOptions options);
  ~HttpsServer();  // Stop()s

  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Starts serving on the listener thread; returns once connections are accepted. Internal if
  // the listener does not come up; FailedPrecondition when called twice.
  absl::Status Start();
  // Stops accepting, waits for in-flight requests and joins the thread. Idempotent.
  void Stop();

  // The bound port (the chosen one when the address had port 0).
  int port() const { return port_; }
  bool is_tls() const { return tls_ != nullptr; }

 private:
  HttpsServer(HttpsServerDeps deps, HttpsServerOptions options);
  absl::Status MakeListener();
  void InstallRoutes();
  void ServeBundle(const std::string& name, httplib::Response& res) const;

  const HttpsServerDeps deps_;
  const HttpsServerOptions options_;
  std::unique_ptr<TlsFilePair> tls_;         // outlives server_, whose SSL_CTX points to it
  std::unique_ptr<httplib::Server> server_;  // httplib::SSLServer when tls_ is set
  int port_ = 0;
  int listen_fd_ = -1;  // set while binding, in Create
  common::Mutex lifecycle_mutex_;
  bool started_ ABSL_GUARDED_BY(lifecycle_mutex_) = false;
  std::thread thread_;
  std::atomic<bool> listener_exited_{false};
};

// Whether the server can do its job: the datastore answers a cheap read, and the control
// trust domain and every zone have an active, unexpired X.509 CA and JWT key. Unavailable
// with a reason naming the first problem otherwise.
absl::Status CheckReady(const HttpsServerDeps& deps);

}  // namespace spinel::server
