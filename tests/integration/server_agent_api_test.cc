// Integration tests of the real spinel-server binary's agent API, driven over real TLS gRPC the
// way spinel-agent drives it (generated stubs, the server verified against the control bundle
// from `bundle show`), with the operator CLI for tokens, entries and rotation: join-token
// attestation, single-use tokens, CSR signing and its refusals, durability of agents across
// kill -9, and SVIDs across a forced rotation.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <nlohmann/json.hpp>
#include <string>

#include "agent.grpc.pb.h"
#include "common/certificate.h"
#include "common/csr.h"
#include "common/keys.h"
#include "common/x509_svid_validator.h"
#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::common::Certificate;
using spinel::common::PrivateKey;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;
using Stub = spinel::v1::AgentService::Stub;

namespace {

constexpr char kControl[] = "control.spinel.test";
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";

PrivateKey NewKey() {
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  return *std::move(key);
}

std::string CsrDer(const PrivateKey& key, const std::string& id) {
  auto id_parsed = spinel::common::SpiffeId::Parse(id);
  REQUIRE(id_parsed.ok());
  auto der = spinel::common::CreateCsrDer(key, *id_parsed);
  REQUIRE(der.ok());
  return *der;
}

std::vector<Certificate> ParsePem(const std::string& pem) {
  auto certs = Certificate::ParsePemChain(pem);
  REQUIRE_MESSAGE(certs.ok(), certs.status().ToString());
  return *certs;
}

std::vector<Certificate> ParseDer(const google::protobuf::RepeatedPtrField<std::string>& ders) {
  std::vector<Certificate> chain;
  for (const std::string& der : ders) {
    auto cert = Certificate::FromDer(der);
    REQUIRE(cert.ok());
    chain.push_back(*cert);
  }
  return chain;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

// The running server's agent API as an agent sees it.
class AgentApi {
 public:
  explicit AgentApi(const ServerProcess& server)
      : address_(spinel::testing::ReadWholeFile(server.data_dir() + "/agent-api.addr")),
        control_pem_(BundlePem(server, kControl)) {
    while (!address_.empty() && address_.back() == '\n') address_.pop_back();
    REQUIRE(!address_.empty());
  }

  static std::string BundlePem(const ServerProcess& server, const std::string& td) {
    CommandResult shown = server.Cli("bundle show --trust-domain " + td);
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.Describe());
    return shown.out;
  }

  // A stub that verifies the server against the control bundle and presents `chain`/`key`.
  std::unique_ptr<Stub> Connect(const std::vector<Certificate>& chain = {},
                                const PrivateKey* key = nullptr) const {
    grpc::experimental::TlsChannelCredentialsOptions options;
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (!chain.empty()) {
      pairs.push_back({std::string(key->ToPkcs8Pem()->view()), spinel::common::ConcatPem(chain)});
    }
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(control_pem_, pairs));
    options.watch_root_certs();
    if (!chain.empty()) options.watch_identity_key_cert_pairs();
    options.set_verify_server_certs(true);
    options.set_check_call_host(false);  // the server's identity is its URI SAN, checked below
    options.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    return spinel::v1::AgentService::NewStub(
        grpc::CreateChannel(address_, grpc::experimental::TlsCredentials(options)));
  }

  // Join-token attestation for `key`; the status, and the SVID when OK. `server_uri` receives
  // the URI SAN of the certificate the server presented.
  grpc::Status Attest(const std::string& token, const PrivateKey& key, spinel::v1::AgentSvid* svid,
                      std::string* server_uri = nullptr) const {
    std::unique_ptr<Stub> stub = Connect();
    auto context = Context();
    auto stream = stub->Attest(context.get());
    spinel::v1::AttestRequest request;
    request.mutable_params()->mutable_join_token()->set_token(token);
    request.mutable_params()->set_csr(CsrDer(key, std::string("spiffe://") + kControl + "/x"));
    stream->Write(request);
    stream->WritesDone();
    spinel::v1::AttestResponse response;
    while (stream->Read(&response)) {
      if (response.has_result()) *svid = response.result();
    }
    grpc::Status status = stream->Finish();
    if (server_uri != nullptr) {
      for (const grpc::string_ref& pem :
           context->auth_context()->FindPropertyValues("x509_pem_cert")) {
        *server_uri = ParsePem(std::string(pem.data(), pem.size()))[0].UriSans().at(0);
      }
    }
    return status;
  }

  const std::string& control_pem() const { return control_pem_; }

 private:
  std::string address_;
  std::string control_pem_;
};

struct Agent {
  std::string id;
  PrivateKey key;
  std::vector<Certificate> chain;
};

Agent AttestNew(const ServerProcess& server, const AgentApi& api) {
  json token = ParseJsonOutput(server.Cli("token generate --ttl 5m --output json"));
  Agent agent{"", NewKey(), {}};
  spinel::v1::AgentSvid svid;
  grpc::Status status = api.Attest(token["token"], agent.key, &svid);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  agent.id = svid.spiffe_id();
  CHECK(agent.id == token["agent_spiffe_id"]);
  agent.chain = ParseDer(svid.certificate_chain());
  return agent;
}

std::string CreateEntry(const ServerProcess& server, const std::string& spiffe_id,
                        const std::string& parent) {
  json created =
      ParseJsonOutput(server.Cli("entry create --spiffe-id " + spiffe_id + " --parent-id " +
                                 parent + " --selector unix:uid:1000 --output json"));
  REQUIRE(created["results"][0]["status"] == "created");
  return created["results"][0]["entry"]["id"];
}

spinel::v1::SignedSvid Sign(Stub& stub, const std::string& entry_id, const std::string& csr_id) {
  spinel::v1::SignX509SvidsRequest request;
  request.add_csrs()->set_entry_id(entry_id);
  request.mutable_csrs(0)->set_csr(CsrDer(NewKey(), csr_id));
  spinel::v1::SignX509SvidsResponse response;
  grpc::Status status = stub.SignX509Svids(Context().get(), request, &response);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  REQUIRE(response.svids_size() == 1);
  return response.svids(0);
}

// Verifies `chain` as an X509-SVID of `td` against `bundle_pem`; the SPIFFE ID or the error.
std::string VerifyAgainst(const std::vector<Certificate>& chain, const std::string& td,
                          const std::string& bundle_pem) {
  spinel::common::X509AuthorityMap authorities;
  authorities.Set(*spinel::common::TrustDomain::Parse(td), ParsePem(bundle_pem));
  auto verified =
      spinel::common::VerifyX509Svid(chain, authorities, std::chrono::system_clock::now());
  return verified.ok() ? verified->id.ToString() : verified.status().ToString();
}

}  // namespace

TEST_CASE("agent API: a join token gives an agent SVID that verifies with the control bundle") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  AgentApi api(server);
  json token = ParseJsonOutput(server.Cli("token generate --ttl 5m --output json"));

  PrivateKey key = NewKey();
  spinel::v1::AgentSvid svid;
  std::string server_uri;
  grpc::Status status = api.Attest(token["token"], key, &svid, &server_uri);
  REQUIRE_MESSAGE(status.ok(), status.error_message() << "\n" << server.Log());
  CHECK(server_uri == std::string("spiffe://") + kControl + "/spinel/server");
  CHECK(svid.spiffe_id() == token["agent_spiffe_id"]);
  std::vector<Certificate> chain = ParseDer(svid.certificate_chain());
  CHECK(VerifyAgainst(chain, kControl, api.control_pem()) == svid.spiffe_id());
  CHECK(chain[0].NotAfter() > std::chrono::system_clock::now() + std::chrono::minutes(50));

  json agents = ParseJsonOutput(server.Cli("agent list --output json"));
  REQUIRE(agents["agents"].size() == 1);
  CHECK(agents["agents"][0]["spiffe_id"] == svid.spiffe_id());
  CHECK(agents["agents"][0]["svid_serial"] == chain[0].SerialHex());

  // The same token a second time.
  spinel::v1::AgentSvid second;
  grpc::Status reused = api.Attest(token["token"], NewKey(), &second);
  CHECK(reused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(reused.error_message(), "join token"));
  CHECK_FALSE(Contains(reused.error_message(), token["token"].get<std::string>()));
  CHECK_FALSE(Contains(server.Log(), token["token"].get<std::string>()));
  CHECK(ParseJsonOutput(server.Cli("agent list --output json"))["agents"].size() == 1);
}

TEST_CASE("agent API: SignX509Svids signs the agent's entries and refuses the rest") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  AgentApi api(server);
  Agent agent = AttestNew(server, api);
  json other = ParseJsonOutput(server.Cli("token generate --ttl 5m --output json"));
  const std::string own = CreateEntry(server, kModel, agent.id);
  const std::string foreign =
      CreateEntry(server, "spiffe://tools.ai.example.org/runner", other["agent_spiffe_id"]);
  std::unique_ptr<Stub> stub = api.Connect(agent.chain, &agent.key);

  spinel::v1::SignedSvid signed_svid = Sign(*stub, own, kModel);
  REQUIRE_MESSAGE(signed_svid.error().empty(), signed_svid.error());
  const std::string inference_pem = AgentApi::BundlePem(server, "inference.ai.example.org");
  CHECK(VerifyAgainst(ParseDer(signed_svid.certificate_chain()), "inference.ai.example.org",
                      inference_pem) == kModel);
  // ...and not with another zone's bundle.
  CHECK(
      Contains(VerifyAgainst(ParseDer(signed_svid.certificate_chain()), "inference.ai.example.org",
                             AgentApi::BundlePem(server, "tools.ai.example.org")),
               "PERMISSION_DENIED"));

  spinel::v1::SignedSvid not_mine = Sign(*stub, foreign, "spiffe://tools.ai.example.org/runner");
  CHECK(not_mine.certificate_chain_size() == 0);
  CHECK(not_mine.error_code() == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  CHECK_MESSAGE(Contains(not_mine.error(), "not authorized for agent " + agent.id),
                not_mine.error());

  spinel::v1::SignedSvid wrong_id = Sign(*stub, own, "spiffe://inference.ai.example.org/admin");
  CHECK(wrong_id.certificate_chain_size() == 0);
  CHECK(wrong_id.error_code() == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  CHECK_MESSAGE(Contains(wrong_id.error(), "spiffe://inference.ai.example.org/admin"),
                wrong_id.error());

  // Without the agent SVID nothing is signed.
  spinel::v1::SignX509SvidsResponse response;
  grpc::Status anonymous =
      api.Connect()->SignX509Svids(Context().get(), spinel::v1::SignX509SvidsRequest(), &response);
  CHECK(anonymous.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("agent API: agents, their entries and used tokens survive kill -9 and a restart") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  Agent agent = AttestNew(server, AgentApi(server));
  const std::string own = CreateEntry(server, kModel, agent.id);
  json token = ParseJsonOutput(server.Cli("token generate --ttl 5m --output json"));
  const std::string agents_before = server.Cli("agent list --output json").out;

  server.Kill(SIGKILL);
  server.Start();
  AgentApi api(server);  // a new port; the same control CA

  CHECK(server.Cli("agent list --output json").out == agents_before);
  std::unique_ptr<Stub> stub = api.Connect(agent.chain, &agent.key);
  spinel::v1::SignedSvid signed_svid = Sign(*stub, own, kModel);
  CHECK_MESSAGE(signed_svid.error().empty(), signed_svid.error());
  // A token generated before the crash is still valid, once.
  spinel::v1::AgentSvid svid;
  grpc::Status status = api.Attest(token["token"], NewKey(), &svid);
  CHECK_MESSAGE(status.ok(), status.error_message());
  server.Kill(SIGKILL);
  server.Start();
  CHECK(AgentApi(server).Attest(token["token"], NewKey(), &svid).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("agent API: SVIDs from before and after a forced rotation verify with the bundle") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  AgentApi api(server);
  Agent agent = AttestNew(server, api);
  const std::string own = CreateEntry(server, kModel, agent.id);
  std::unique_ptr<Stub> stub = api.Connect(agent.chain, &agent.key);
  const std::string td = "inference.ai.example.org";
  auto sequence = [&] {
    return ParseJsonOutput(server.Cli("bundle show --trust-domain " + td +
                                      " --format spiffe"))["spiffe_sequence"]
        .get<int64_t>();
  };
  const int64_t sequence_before = sequence();
  spinel::v1::SignedSvid before = Sign(*stub, own, kModel);
  REQUIRE_MESSAGE(before.error().empty(), before.error());

  REQUIRE(server.Cli("localauthority prepare --trust-domain " + td).exit_code == 0);
  const int64_t sequence_prepared = sequence();
  CHECK(sequence_prepared > sequence_before);
  REQUIRE(server.Cli("localauthority activate --trust-domain " + td).exit_code == 0);
  CHECK(sequence() > sequence_prepared);

  spinel::v1::SignedSvid after = Sign(*stub, own, kModel);
  REQUIRE_MESSAGE(after.error().empty(), after.error());
  const std::string bundle = AgentApi::BundlePem(server, td);
  std::vector<Certificate> old_chain = ParseDer(before.certificate_chain());
  std::vector<Certificate> new_chain = ParseDer(after.certificate_chain());
  CHECK(VerifyAgainst(old_chain, td, bundle) == kModel);  // the old CA is still published
  CHECK(VerifyAgainst(new_chain, td, bundle) == kModel);
  // Signed by different CAs: each verifies only with its own.
  std::vector<Certificate> anchors = ParsePem(bundle);
  REQUIRE(anchors.size() == 2);
  int verified_by_first = 0;
  for (const auto& chain : {old_chain, new_chain}) {
    verified_by_first += VerifyAgainst(chain, td, anchors[0].ToPem()) == kModel ? 1 : 0;
  }
  CHECK(verified_by_first == 1);
}
