#include "server/server.h"

#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "common/file_util.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service.h"
#include "server/api/agent/agent_service.h"
#include "server/bundles/bundle_merger.h"
#include "server/bundles/own_bundle.h"
#include "server/datastore/change_feed.h"
#include "server/datastore/postgres_datastore.h"
#include "server/datastore/sqlite_datastore.h"
#include "server/federation/bundle_endpoint.h"
#include "server/federation/federation_refresher.h"
#include "server/http/https_server.h"
#include "server/issuance/server_svid.h"
#include "server/metrics/server_metrics.h"
#include "server/sync/change_wakeup.h"
#include "server/sync/sync_stream.h"
#include "server/zones/zone_reload.h"

namespace spinel::server {

using common::StrCat;

struct Server::Impl {
  ServerConfig config;
  const common::Clock& clock;
  std::unique_ptr<Datastore> datastore;
  std::unique_ptr<ZoneState> zones;
  std::unique_ptr<CaManager> cas;
  std::unique_ptr<EntryRegistry> registry;
  std::unique_ptr<Issuer> issuer;
  std::unique_ptr<AgentView> view;
  std::unique_ptr<SyncHub> hub;
  std::unique_ptr<BundleMerger> merger;     // every replica's bundles, merged
  std::unique_ptr<OwnBundles> own_bundles;  // the own trust domains' bundles, from `merger`
  std::unique_ptr<ZoneReloader> reloader;   // the one reload path (SIGHUP and the admin API)
  TrustedIssuerKeyring issuer_keys;         // the zones' trusted user issuers (token exchange)
  Metrics metrics;
  std::unique_ptr<ServerSvid> server_svid;
  std::unique_ptr<AgentServiceImpl> agent_service;
  std::unique_ptr<grpc::Server> agent_server;
  std::unique_ptr<grpc::Service> admin_service;
  std::unique_ptr<grpc::Server> admin_server;
  std::unique_ptr<HttpsServer> https_server;
  std::unique_ptr<FederationRefresher> federation;
  std::vector<std::unique_ptr<BundleEndpoint>> bundle_endpoints;
  // Every change, of this replica and the others: the one thing that wakes the sync streams,
  // the bundle merger and the federation refresher. Declared after them: stopped (destroyed)
  // before the parts its subscribers call.
  std::unique_ptr<ChangeFeed> feed;
  int agent_port = 0;
  int https_port = 0;

  common::Mutex mutex;
  common::CondVar stopped_cv;
  bool stopped ABSL_GUARDED_BY(mutex) = false;
  std::thread svid_thread;

  Impl(ServerConfig c, const common::Clock& k) : config(std::move(c)), clock(k) {}
  absl::Status OpenState();
  absl::Status OpenDatastore();
  // Starts the change feed and makes it the source of every wake-up (see `feed`).
  absl::Status StartChangeFeed();
  void SubscribeToChanges();
  void CreateFederationRefresher();
  absl::Status StartAgentApi();
  absl::Status StartAdminApi();
  absl::Status StartHttps();
  absl::Status StartFederation();
  void RunSvidRenewal();
  // Waits up to `timeout` for Shutdown; true once it has begun.
  bool WaitForStop(std::chrono::seconds timeout) ABSL_LOCKS_EXCLUDED(mutex);
};

absl::Status Server::Impl::OpenDatastore() {
  if (config.datastore.rfind("sqlite:", 0) == 0) {
    SPINEL_ASSIGN_OR_RETURN(auto sqlite, SqliteDatastore::Open(config.datastore.substr(7), clock));
    datastore = std::move(sqlite);
  } else {
    // config.cc accepts only sqlite: and postgres(ql):// URIs.
    SPINEL_ASSIGN_OR_RETURN(auto postgres, PostgresDatastore::Open(config.datastore, clock));
    datastore = std::move(postgres);
  }
  return absl::OkStatus();
}

absl::Status Server::Impl::OpenState() {
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(config.data_dir, 0700));
  SPINEL_RETURN_IF_ERROR(OpenDatastore());
  SPINEL_ASSIGN_OR_RETURN(ZoneGeneration generation, LoadZoneGeneration(config));
  SPINEL_ASSIGN_OR_RETURN(cas, CaManager::Open(CaConfigs(config, generation.set),
                                               config.data_dir + "/authorities", clock));
  zones = std::make_unique<ZoneState>(std::move(generation));
  registry = std::make_unique<EntryRegistry>(*datastore, *zones, config.trust_domain);
  issuer = std::make_unique<Issuer>(*cas, *zones, config.trust_domain, clock);
  view = std::make_unique<AgentView>(*datastore, *zones, *cas, config.trust_domain, clock);
  hub = std::make_unique<SyncHub>();
  SPINEL_ASSIGN_OR_RETURN(std::string server_id,
                          LoadOrCreateServerId(config.server_id, config.data_dir));
  merger = std::make_unique<BundleMerger>(*datastore, *cas, server_id, clock);
  SPINEL_RETURN_IF_ERROR(merger->PublishAll());
  view->SetBundleMerger(merger.get());
  SPINEL_RETURN_IF_ERROR(StartChangeFeed());
  reloader = std::make_unique<ZoneReloader>(config, *datastore, *zones, *cas, *feed);
  own_bundles = std::make_unique<OwnBundles>(*cas, merger.get());
  RegisterServerMetrics(ServerMetricsDeps{.metrics = metrics,
                                          .agents = *datastore,
                                          .entries = *datastore,
                                          .cas = *cas,
                                          .hub = *hub,
                                          .clock = clock});
  DescribeSyncMetrics(metrics);
  CreateFederationRefresher();
  SubscribeToChanges();
  issuer->SetObserver([this](const IssuanceRecord& r) { RecordIssuance(metrics, *zones, r); });
  return absl::OkStatus();
}

absl::Status Server::Impl::StartChangeFeed() {
  // From the current revision: what was committed before is in the state just read.
  SPINEL_ASSIGN_OR_RETURN(feed, ChangeFeed::Start(*datastore, ChangeFeedOptions{}));
  cas->AddBundleListener([this](const common::TrustDomain& td) {
    // Published: its change event comes through the feed. Not published (logged; Tick()
    // retries): this replica's merged bundle changed all the same, so say so in-process.
    if (!merger->Publish(td).ok()) {
      feed->PublishLocal(ChangeEvent{.kind = ChangeKind::kBundle, .object_id = td.name()});
    }
  });
  return absl::OkStatus();
}

void Server::Impl::CreateFederationRefresher() {
  FederationRefresherOptions options;
  options.default_refresh_interval = config.federation.refresh_interval_default;
  federation =
      std::make_unique<FederationRefresher>(FederationRefresherDeps{.federations = *datastore,
                                                                    .bundles = *datastore,
                                                                    .own_bundles = *own_bundles,
                                                                    .metrics = metrics,
                                                                    .clock = clock},
                                            options);
}

void Server::Impl::SubscribeToChanges() {
  // Delivered in this order, on the feed's thread, before any API serves a request: the
  // merged bundles are refreshed before the streams woken by the same batch read them.
  feed->Subscribe([this](const ChangeBatch& batch) { merger->RefreshOnChanges(batch); });
  feed->Subscribe([this](const ChangeBatch& batch) { federation->WakeOnChanges(batch); });
  WakeSyncOnChanges(*feed, *hub, ServerId(config.trust_domain));
}

absl::Status Server::Impl::StartAgentApi() {
  server_svid = std::make_unique<ServerSvid>(*issuer, ServerId(config.trust_domain),
                                             config.server_svid_ttl, config.data_dir, clock);
  SPINEL_RETURN_IF_ERROR(server_svid->Renew());
  std::unique_ptr<X509PopAttestor> x509pop;
  if (!config.x509pop_ca_bundle.empty()) {
    SPINEL_ASSIGN_OR_RETURN(std::string pem, common::ReadFile(config.x509pop_ca_bundle));
    SPINEL_ASSIGN_OR_RETURN(x509pop, X509PopAttestor::Create(pem, config.trust_domain));
  }
  AgentApiDeps deps{.entries = *datastore,
                    .agents = *datastore,
                    .approvals = *datastore,
                    .audit = *datastore,
                    .changes = *datastore,
                    .zones = *zones,
                    .issuer = *issuer,
                    .view = *view,
                    .hub = *hub,
                    .own_bundles = *own_bundles,
                    .issuer_keys = issuer_keys,
                    .metrics = metrics,
                    .clock = clock,
                    .settings = AgentApiSettings::FromConfig(config)};
  agent_service = std::make_unique<AgentServiceImpl>(deps, std::move(x509pop));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      server_svid->key_path(), server_svid->cert_path(), /*refresh_interval_sec=*/1);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.agent_api_address,
                           grpc::experimental::TlsServerCredentials(options), &agent_port);
  builder.RegisterService(agent_service.get());
  builder.SetMaxReceiveMessageSize(4 << 20);
  // Agents ping every 10 s to notice a hung replica (agent/server_client.cc): allow it, also
  // on a connection whose only call is an idle sync stream; the server pings too, so the
  // streams of agents that vanished without closing are ended.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  agent_server = builder.BuildAndStart();
  if (!agent_server || agent_port == 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", config.agent_api_address));
  }
  std::string host = config.agent_api_address.substr(0, config.agent_api_address.rfind(':'));
  std::string address = StrCat(host, ":", agent_port);
  SPINEL_RETURN_IF_ERROR(
      common::WriteFileAtomic(config.data_dir + "/agent-api.addr", address + "\n", 0644));
  LOG_INFO("agent API listening", {{"address", address}});
  return absl::OkStatus();
}

absl::Status Server::Impl::StartHttps() {
  if (config.https_address.empty()) return absl::OkStatus();
  HttpsServerOptions options{config.https_address, server_svid->cert_path(),
                             server_svid->key_path()};
  HttpsServerDeps deps{.changes = *datastore,
                       .federations = *datastore,
                       .zones = *zones,
                       .cas = *cas,
                       .own_bundles = *own_bundles,
                       .metrics = metrics,
                       .clock = clock,
                       .control = config.trust_domain};
  SPINEL_ASSIGN_OR_RETURN(https_server, HttpsServer::Create(deps, options));
  SPINEL_RETURN_IF_ERROR(https_server->Start());
  https_port = https_server->port();
  std::string host = config.https_address.substr(0, config.https_address.rfind(':'));
  std::string address = StrCat(host, ":", https_port);
  SPINEL_RETURN_IF_ERROR(
      common::WriteFileAtomic(config.data_dir + "/https.addr", address + "\n", 0644));
  LOG_INFO("HTTPS listening (health, metrics, bundle endpoint)", {{"address", address}});
  return absl::OkStatus();
}

absl::Status Server::Impl::StartFederation() {
  for (const BundleEndpointConfig& endpoint_config : config.federation.bundle_endpoints) {
    BundleEndpointDeps deps{.zones = *zones,
                            .own_bundles = *own_bundles,
                            .issuer = *issuer,
                            .clock = clock,
                            .svid_ttl = config.server_svid_ttl,
                            .data_dir = config.data_dir};
    SPINEL_ASSIGN_OR_RETURN(auto endpoint, BundleEndpoint::Create(deps, endpoint_config));
    SPINEL_RETURN_IF_ERROR(endpoint->Start());
    bundle_endpoints.push_back(std::move(endpoint));
  }
  federation->Start();
  return absl::OkStatus();
}

absl::Status Server::Impl::StartAdminApi() {
  AdminHooks hooks{.reload_zones = [this] { return reloader->Reload(); }};
  AdminDeps deps{.registry = *registry,
                 .entries = *datastore,
                 .agents = *datastore,
                 .bundles = *datastore,
                 .federations = *datastore,
                 .approvals = *datastore,
                 .audit = *datastore,
                 .zones = *zones,
                 .cas = *cas,
                 .own_bundles = *own_bundles,
                 .issuer = *issuer,
                 .clock = clock,
                 .settings = AdminSettings::FromConfig(config),
                 .federation = federation.get()};
  SPINEL_ASSIGN_OR_RETURN(
      admin_server, StartAdminServer(deps, std::move(hooks), config.admin_socket, &admin_service));
  return absl::OkStatus();
}

bool Server::Impl::WaitForStop(std::chrono::seconds timeout) {
  common::MutexLock lock(mutex);
  return stopped_cv.WaitFor(mutex, timeout,
                            [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) { return stopped; });
}

void Server::Impl::RunSvidRenewal() {
  int ticks = 0;
  while (!WaitForStop(std::chrono::seconds(1))) {
    // Every 5 s: retry failed bundle publishes, drop expired authorities of other replicas.
    if (++ticks % 5 == 0) {
      absl::StatusOr<bool> changed = merger->Tick();
      if (!changed.ok()) {
        LOG_WARN("replica bundle refresh failed",
                 {{"error", std::string(changed.status().message())}});
      } else if (*changed) {
        // Not a datastore change (e.g. another replica's authority expired): said in-process.
        feed->PublishLocal(ChangeEvent{.kind = ChangeKind::kBundle});
      }
    }
    absl::StatusOr<bool> renewed = server_svid->RenewIfDue();
    if (!renewed.ok()) {
      LOG_ERROR("server SVID renewal failed", {{"error", std::string(renewed.status().message())}});
    }
  }
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerConfig config,
                                                      const common::Clock& clock) {
  ::umask(077);  // every file and socket the server creates is private unless made otherwise
  common::SetLogLevel(config.log_level);
  common::SetLogFormat(config.log_format);
  auto impl = std::make_unique<Impl>(std::move(config), clock);
  SPINEL_RETURN_IF_ERROR(impl->OpenState());
  SPINEL_RETURN_IF_ERROR(impl->StartAgentApi());
  SPINEL_RETURN_IF_ERROR(impl->StartAdminApi());
  SPINEL_RETURN_IF_ERROR(impl->StartHttps());
  SPINEL_RETURN_IF_ERROR(impl->StartFederation());
  impl->cas->StartRotation(std::chrono::seconds(5));
  Impl* raw = impl.get();
  impl->svid_thread = std::thread([raw] { raw->RunSvidRenewal(); });
  LOG_INFO("spinel-server started", {{"trust_domain", raw->config.trust_domain.name()},
                                     {"data_dir", raw->config.data_dir},
                                     {"zones", std::to_string(raw->zones->Get()->zones().size())}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

void Server::Wait() {
  Impl& impl = *impl_;
  common::MutexLock lock(impl.mutex);
  impl.stopped_cv.Wait(
      impl.mutex, [&impl]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl.mutex) { return impl.stopped; });
}

void Server::Shutdown() {
  {
    common::MutexLock lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->stopped_cv.NotifyAll();
  if (impl_->https_server) impl_->https_server->Stop();
  if (impl_->admin_server) {
    impl_->admin_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
  if (impl_->svid_thread.joinable()) impl_->svid_thread.join();
  impl_->federation->Stop();
  for (auto& endpoint : impl_->bundle_endpoints) endpoint->Stop();
  impl_->cas->Stop();
  if (impl_->agent_server) {
    impl_->agent_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
  impl_->feed->Stop();
  impl_->hub->Stop();
  LOG_INFO("spinel-server stopped");
}

absl::StatusOr<ZoneChanges> Server::ReloadZones() { return impl_->reloader->Reload(); }

int Server::agent_api_port() const { return impl_->agent_port; }
int Server::https_port() const { return impl_->https_port; }

}  // namespace spinel::server
