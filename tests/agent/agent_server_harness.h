// AgentApiHarness: a real spinel-server agent API, in process, for agent unit tests. It wraps a
// ServerFixture (real SQLite, CAs, registry, issuer, sync hub; fake clock) and serves the real
// AgentServiceImpl over gRPC with TLS on 127.0.0.1, presenting a real server SVID, exactly as
// the composition root does. The agent side gets an AgentConfig pointing at it, the control
// bundle written to a file, and join tokens minted in the datastore.
//
// Stop()/Start() take the agent API down and bring it back on the same port (to test how the
// agent rides out an unreachable server). The server SVID lives 1h of fixture-clock time; a
// test that moves the clock further calls RenewServerSvid().
// Use inside a doctest test case; one test thread.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "agent/config.h"
#include "agent/node_session.h"
#include "agent/server_client.h"
#include "common/file_util.h"
#include "server/api/agent/agent_service.h"
#include "server/api/agent/node_attestation.h"
#include "server/issuance/server_svid.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

namespace spinel::agent::testing {

class AgentApiHarness {
 public:
  AgentApiHarness() {
    // Committed changes wake the sync streams through the fixture's change feed; a CA bundle
    // change (no bundle merger publishes it here) is published on the feed in-process.
    fixture.cas->AddBundleListener([this](const common::TrustDomain& td) {
      fixture.feed->PublishLocal(
          server::ChangeEvent{.kind = server::ChangeKind::kBundle, .object_id = td.name()});
    });
    svid_ = std::make_unique<server::ServerSvid>(*fixture.issuer, fixture.server_id(),
                                                 std::chrono::hours(1), fixture.dir, fixture.clock);
    absl::Status renewed = svid_->Renew();
    REQUIRE_MESSAGE(renewed.ok(), renewed.ToString());
    Start();
  }
  ~AgentApiHarness() {
    StopReplica();
    Stop();
    fixture.feed->Stop();
    fixture.hub->Stop();
  }
  AgentApiHarness(const AgentApiHarness&) = delete;
  AgentApiHarness& operator=(const AgentApiHarness&) = delete;

  // Serves the agent API (on the port it had before, or a free one the first time).
  void Start() {
    REQUIRE(server_ == nullptr);
    service_ = std::make_unique<server::AgentServiceImpl>(server::testing::AgentApiDepsOf(fixture),
                                                          nullptr);
    server_ = Serve(*service_, port_);
  }
  // A second agent API listener over the same components: a stand-in for another replica
  // sharing the datastore (and here the CAs), for fail-over tests. Same port on a restart.
  void StartReplica() {
    REQUIRE(replica_server_ == nullptr);
    replica_service_ = std::make_unique<server::AgentServiceImpl>(
        server::testing::AgentApiDepsOf(fixture), nullptr);
    replica_server_ = Serve(*replica_service_, replica_port_);
  }
  void StopReplica() { Halt(replica_server_, replica_service_); }
  std::string replica_address() const { return "127.0.0.1:" + std::to_string(replica_port_); }

 private:
  std::unique_ptr<grpc::Server> Serve(server::AgentServiceImpl& service, int& port) {
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        svid_->key_path(), svid_->cert_path(), /*refresh_interval_sec=*/1);
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_identity_key_cert_pairs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    grpc::ServerBuilder builder;
    int bound = 0;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                             grpc::experimental::TlsServerCredentials(options), &bound);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    REQUIRE(bound != 0);
    port = bound;
    return server;
  }
  static void Halt(std::unique_ptr<grpc::Server>& server,
                   std::unique_ptr<server::AgentServiceImpl>& service) {
    if (!server) return;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server->Wait();
    server.reset();
    service.reset();
  }

 public:
  // Stops serving; open streams are cancelled.
  void Stop() { Halt(server_, service_); }

  // Issues a fresh server SVID at the fixture clock's current time and restarts serving with it
  // (for tests that move the clock past the old one's lifetime).
  void RenewServerSvid() {
    absl::Status renewed = svid_->Renew();
    REQUIRE_MESSAGE(renewed.ok(), renewed.ToString());
    Stop();
    Start();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // The control plane's current X.509 authorities, as PEM.
  std::string ControlBundlePem() {
    auto snapshot = fixture.cas->Snapshot(fixture.config.trust_domain);
    REQUIRE(snapshot != nullptr);
    return common::ConcatPem(snapshot->X509TrustAnchors());
  }

  // A fresh join token (valid 10 minutes); its agent ID goes to `agent_id` when given.
  std::string JoinToken(common::SpiffeId* agent_id = nullptr) {
    auto created = server::CreateJoinToken(*fixture.datastore, fixture.config.trust_domain,
                                           std::chrono::minutes(10), fixture.clock.Now());
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    if (agent_id != nullptr) *agent_id = created->agent_id;
    return created->token;
  }

  // An agent config for data directory `dir` (created by the caller), with the control bundle
  // written to <dir>/bootstrap.pem.
  AgentConfig MakeAgentConfig(const std::string& dir) {
    AgentConfig config;
    config.trust_domain = fixture.config.trust_domain;
    config.server_address = address();
    config.trust_bundle_path = dir + "/bootstrap.pem";
    REQUIRE(common::WriteFileAtomic(config.trust_bundle_path, ControlBundlePem(), 0644).ok());
    config.data_dir = dir + "/data";
    config.socket_path = dir + "/workload.sock";
    config.reconnect_min = std::chrono::milliseconds(50);
    config.reconnect_max = std::chrono::milliseconds(400);
    return config;
  }

  // Registers `spiffe_id` under `parent` with `selectors` ("type:value"); returns the entry.
  server::RegistrationEntry CreateEntry(const common::SpiffeId& parent,
                                        const std::string& spiffe_id,
                                        const std::vector<std::string>& selectors,
                                        int64_t x509_ttl_seconds = 0) {
    server::RegistrationEntry entry;
    auto id = common::SpiffeId::Parse(spiffe_id);
    REQUIRE(id.ok());
    entry.spiffe_id = *id;
    entry.parent_id = parent;
    for (const std::string& s : selectors) {
      auto selector = common::Selector::Parse(s);
      REQUIRE(selector.ok());
      entry.selectors.push_back(*selector);
    }
    entry.x509_svid_ttl = x509_ttl_seconds;
    auto created = fixture.registry->Create(entry);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    return *created;
  }

  server::testing::ServerFixture fixture;

 private:
  std::unique_ptr<server::ServerSvid> svid_;
  std::unique_ptr<server::AgentServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<server::AgentServiceImpl> replica_service_;
  std::unique_ptr<grpc::Server> replica_server_;
  int replica_port_ = 0;
};

// One agent process's worth of objects over `config`: control trust, server client and node
// session (not yet established).
struct AgentSide {
  AgentSide(const AgentConfig& c, const common::Clock& clock) : config(c) {
    auto authorities = NodeSession::LoadControlAuthorities(config);
    REQUIRE_MESSAGE(authorities.ok(), authorities.status().ToString());
    trust = std::make_shared<ControlTrust>(config.trust_domain, std::move(*authorities));
    std::vector<std::string> servers = config.servers;
    if (servers.empty()) servers = {config.server_address};
    client = std::make_unique<ServerClient>(servers, trust, clock, config.reconnect_max);
    session = std::make_unique<NodeSession>(config, *client, trust, clock);
  }
  // Establish(), REQUIREd to succeed.
  void Attest() {
    absl::Status established = session->Establish();
    REQUIRE_MESSAGE(established.ok(), established.ToString());
  }
  AgentConfig config;
  std::shared_ptr<ControlTrust> trust;
  std::unique_ptr<ServerClient> client;
  std::unique_ptr<NodeSession> session;
};

}  // namespace spinel::agent::testing
