// AgentApiHarness: the agent API service (server/api/agent/agent_service.cc) over a full set of
// real components (ServerFixture), served with gRPC TLS on 127.0.0.1 (port 0) with the server's own
// X509-SVID, exactly as the composition root serves it, and clients on real TLS channels that
// verify the server against the control bundle and present an agent SVID when given one.
//
// Helpers: Attest() runs join_token or x509pop attestation on the Attest stream; AgentClient
// is an attested agent (key, SVID chain, stub). Failures abort the current doctest case.
#pragma once

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent.grpc.pb.h"
#include "common/certificate.h"
#include "common/csr.h"
#include "common/file_util.h"
#include "common/grpc_status.h"
#include "common/keys.h"
#include "server/api/agent/agent_service.h"
#include "server/issuance/server_svid.h"
#include "tests/server/server_test_util.h"
#include "tests/server/service_deps.h"

namespace spinel::server::testing {

using AgentStub = spinel::v1::AgentService::Stub;

struct AgentClient {
  common::SpiffeId id;
  common::PrivateKey key;
  std::vector<common::Certificate> chain;  // leaf first
  std::unique_ptr<AgentStub> stub;         // presents `chain` and `key`
};

inline common::PrivateKey NewKey() {
  absl::StatusOr<common::PrivateKey> key = common::PrivateKey::Generate();
  REQUIRE(key.ok());
  return *std::move(key);
}

inline std::string CsrDer(const common::PrivateKey& key, const std::string& id) {
  absl::StatusOr<std::string> der = common::CreateCsrDer(key, Id(id));
  REQUIRE(der.ok());
  return *der;
}

class AgentApiHarness {
 public:
  // `x509pop_ca_pem`: the node CAs to trust for x509pop ("" disables it).
  // `options`: the fixture's (e.g. a zone directory of the test's own).
  explicit AgentApiHarness(const std::string& x509pop_ca_pem = "",
                           int signings_per_agent_per_second = 10000,
                           const ServerFixtureOptions& options = {})
      : fixture(options) {
    fixture.config.max_concurrent_signings = 2;
    fixture.config.signings_per_agent_per_second = signings_per_agent_per_second;
    fixture.config.agent_svid_ttl = std::chrono::hours(1);
    // Wired as the composition root (server.cc) wires them: committed changes wake the sync
    // streams through the fixture's change feed; a CA bundle change (not in the datastore here:
    // no bundle merger publishes it) is published on the feed in-process.
    ChangeFeed* feed = fixture.feed.get();
    fixture.cas->AddBundleListener([feed](const common::TrustDomain& td) {
      feed->PublishLocal(ChangeEvent{.kind = ChangeKind::kBundle, .object_id = td.name()});
    });
    svid = std::make_unique<ServerSvid>(*fixture.issuer, fixture.server_id(), std::chrono::hours(1),
                                        fixture.dir, fixture.clock);
    REQUIRE(svid->Renew().ok());
    std::unique_ptr<X509PopAttestor> x509pop;
    if (!x509pop_ca_pem.empty()) {
      auto attestor = X509PopAttestor::Create(x509pop_ca_pem, fixture.config.trust_domain);
      REQUIRE_MESSAGE(attestor.ok(), attestor.status().ToString());
      x509pop = std::move(*attestor);
    }
    service = std::make_unique<AgentServiceImpl>(AgentApiDepsOf(fixture), std::move(x509pop));
    StartServer();
  }
  ~AgentApiHarness() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    fixture.feed->Stop();
    fixture.hub->Stop();
  }

  // The control plane's X.509 authorities, PEM (what an agent is bootstrapped with).
  std::string ControlBundlePem() const {
    return common::ConcatPem(
        fixture.cas->Snapshot(fixture.config.trust_domain)->X509TrustAnchors());
  }

  // A stub on a TLS channel that verifies the server against the control bundle and presents
  // `chain`/`key` when `chain` is not empty.
  std::unique_ptr<AgentStub> Stub(const std::vector<common::Certificate>& chain = {},
                                  const common::PrivateKey* key = nullptr) const {
    grpc::experimental::TlsChannelCredentialsOptions options;
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (!chain.empty()) {
      pairs.push_back({std::string(key->ToPkcs8Pem()->view()), common::ConcatPem(chain)});
    }
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(ControlBundlePem(),
                                                                            pairs));
    options.watch_root_certs();
    if (!chain.empty()) options.watch_identity_key_cert_pairs();
    options.set_verify_server_certs(true);  // chain to the control bundle
    options.set_check_call_host(false);     // the server's identity is a URI SAN
    options.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    return spinel::v1::AgentService::NewStub(
        grpc::CreateChannel(address, grpc::experimental::TlsCredentials(options)));
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return context;
  }

  // Runs Attest with `params` (its csr is filled for `key`); `sign_challenge` answers an
  // x509pop challenge. Returns the agent SVID message or the call's status.
  absl::StatusOr<spinel::v1::AgentSvid> Attest(
      spinel::v1::AttestParams params, const common::PrivateKey& key,
      const std::function<std::string(const std::string&)>& sign_challenge = {}) {
    params.set_csr(CsrDer(key, "spiffe://" + fixture.config.trust_domain.name() + "/csr"));
    std::unique_ptr<AgentStub> stub = Stub();
    std::unique_ptr<grpc::ClientContext> context = Context();
    auto stream = stub->Attest(context.get());
    spinel::v1::AttestRequest first;
    *first.mutable_params() = params;
    stream->Write(first);
    spinel::v1::AttestResponse response;
    while (stream->Read(&response)) {
      if (response.has_result()) break;
      REQUIRE(response.step_case() == spinel::v1::AttestResponse::kChallenge);
      REQUIRE(sign_challenge);
      spinel::v1::AttestRequest answer;
      answer.set_challenge_response(sign_challenge(response.challenge()));
      stream->Write(answer);
    }
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    if (!status.ok()) return common::FromGrpcStatus(status);
    REQUIRE(response.has_result());
    return response.result();
  }

  // Creates a join token and attests with it; REQUIREs success.
  AgentClient AttestNewAgent() {
    auto token = CreateJoinToken(*fixture.datastore, fixture.config.trust_domain,
                                 std::chrono::minutes(10), fixture.clock.Now());
    REQUIRE(token.ok());
    spinel::v1::AttestParams params;
    params.mutable_join_token()->set_token(token->token);
    return ClientFor(params);
  }

  // Attests with `params` (REQUIREs success) and returns the agent with a stub presenting it.
  AgentClient ClientFor(const spinel::v1::AttestParams& params,
                        const std::function<std::string(const std::string&)>& sign = {}) {
    common::PrivateKey key = NewKey();
    absl::StatusOr<spinel::v1::AgentSvid> svid = Attest(params, key, sign);
    REQUIRE_MESSAGE(svid.ok(), svid.status().ToString());
    std::vector<common::Certificate> chain = ParseChain(svid->certificate_chain());
    std::unique_ptr<AgentStub> stub = Stub(chain, &key);
    return AgentClient{Id(svid->spiffe_id()), std::move(key), std::move(chain), std::move(stub)};
  }

  static std::vector<common::Certificate> ParseChain(
      const google::protobuf::RepeatedPtrField<std::string>& ders) {
    std::vector<common::Certificate> chain;
    for (const std::string& der : ders) {
      absl::StatusOr<common::Certificate> cert = common::Certificate::FromDer(der);
      REQUIRE(cert.ok());
      chain.push_back(*cert);
    }
    return chain;
  }

  // SignX509Svids with one CSR, for `entry_id`, of a fresh key for `csr_id`.
  spinel::v1::SignedSvid SignOne(AgentStub& stub, const std::string& entry_id,
                                 const std::string& csr_id) {
    spinel::v1::SignX509SvidsRequest request;
    spinel::v1::CsrForEntry* csr = request.add_csrs();
    csr->set_entry_id(entry_id);
    csr->set_csr(CsrDer(NewKey(), csr_id));
    spinel::v1::SignX509SvidsResponse response;
    grpc::Status status = stub.SignX509Svids(Context().get(), request, &response);
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    REQUIRE(response.svids_size() == 1);
    return response.svids(0);
  }

  // The status of a SignX509Svids call with no CSRs (authentication only).
  grpc::Status Authenticate(AgentStub& stub) {
    spinel::v1::SignX509SvidsResponse response;
    return stub.SignX509Svids(Context().get(), spinel::v1::SignX509SvidsRequest(), &response);
  }

  ServerFixture fixture;  // first: everything below refers to it
  std::unique_ptr<ServerSvid> svid;
  std::unique_ptr<AgentServiceImpl> service;
  std::string address;

 private:
  void StartServer() {
    absl::StatusOr<std::string> key = common::ReadFile(svid->key_path());
    absl::StatusOr<std::string> cert = common::ReadFile(svid->cert_path());
    REQUIRE((key.ok() && cert.ok()));
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs = {{*key, *cert}};
    grpc::experimental::TlsServerCredentialsOptions options(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(pairs));
    options.watch_identity_key_cert_pairs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::experimental::TlsServerCredentials(options),
                             &port);
    builder.RegisterService(service.get());
    server_ = builder.BuildAndStart();
    REQUIRE((server_ != nullptr && port != 0));
    address = "127.0.0.1:" + std::to_string(port);
  }

  std::unique_ptr<grpc::Server> server_;
};

}  // namespace spinel::server::testing
