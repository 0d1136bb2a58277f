// The agent API (server/api/agent/agent_service.cc) over real TLS gRPC and real components:
// attestation (join_token and x509pop, banned and evicted agents), CSR signing and JWT minting
// limited to the caller's entries, with the reason for every refusal.
#include <doctest/doctest.h>

#include "common/pop_signature.h"
#include "common/x509_svid_validator.h"
#include "server/datastore/records.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/api/agent/agent_api_harness.h"

using spinel::common::Certificate;
using spinel::common::PrivateKey;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

// Verifies `chain` as an X509-SVID of `td` against the bundle the server publishes for it.
absl::StatusOr<spinel::common::VerifiedX509Svid> VerifyWithBundle(
    AgentApiHarness& h, const std::vector<Certificate>& chain, const std::string& td) {
  spinel::common::X509AuthorityMap authorities;
  authorities.Set(Td(td), h.fixture.cas->Snapshot(Td(td))->ToBundle().x509_authorities);
  return spinel::common::VerifyX509Svid(chain, authorities, h.fixture.clock.Now());
}

RegistrationEntry CreateEntry(AgentApiHarness& h, RegistrationEntry entry) {
  auto created = h.fixture.registry->Create(std::move(entry));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return *created;
}

}  // namespace

TEST_CASE("agent API: a join token gives a verifiable agent SVID, once") {
  AgentApiHarness h;
  auto token = spinel::server::CreateJoinToken(*h.fixture.datastore, h.fixture.config.trust_domain,
                                               10min, h.fixture.clock.Now());
  REQUIRE(token.ok());
  spinel::v1::AttestParams params;
  params.mutable_join_token()->set_token(token->token);
  PrivateKey key = NewKey();
  auto svid = h.Attest(params, key);
  REQUIRE_MESSAGE(svid.ok(), svid.status().ToString());
  CHECK(svid->spiffe_id() == token->agent_id.ToString());
  std::vector<Certificate> chain = AgentApiHarness::ParseChain(svid->certificate_chain());
  auto verified = VerifyWithBundle(h, chain, "spinel.ai.example.org");
  REQUIRE_MESSAGE(verified.ok(), verified.status().ToString());
  CHECK(verified->id == token->agent_id);
  CHECK(chain[0].NotAfter() == h.fixture.clock.Now() + 1h);
  CHECK(svid->control_bundle().trust_domain() == "spinel.ai.example.org");

  auto record = h.fixture.datastore->GetAttestedAgent(token->agent_id);
  REQUIRE(record.ok());
  CHECK(record->attestation_type == "join_token");
  CHECK(record->serial_number == chain[0].SerialHex());

  auto again = h.Attest(params, NewKey());
  CHECK(again.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(again.status().message(), "join token"));

  spinel::v1::AttestParams no_method;
  CHECK(h.Attest(no_method, NewKey()).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("agent API: a malformed CSR is refused and does not use up the join token") {
  AgentApiHarness h;
  auto token = spinel::server::CreateJoinToken(*h.fixture.datastore, h.fixture.config.trust_domain,
                                               10min, h.fixture.clock.Now());
  REQUIRE(token.ok());
  spinel::v1::AttestRequest first;
  first.mutable_params()->mutable_join_token()->set_token(token->token);
  first.mutable_params()->set_csr("not a CSR");
  std::unique_ptr<AgentStub> stub = h.Stub();
  auto context = AgentApiHarness::Context();
  auto stream = stub->Attest(context.get());
  stream->Write(first);
  stream->WritesDone();
  spinel::v1::AttestResponse response;
  CHECK_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_FALSE(h.fixture.datastore->GetAttestedAgent(token->agent_id).ok());

  spinel::v1::AttestParams params;
  params.mutable_join_token()->set_token(token->token);
  auto svid = h.Attest(params, NewKey());
  CHECK_MESSAGE(svid.ok(), svid.status().ToString());
}

TEST_CASE("agent API: x509pop attestation; evicted agents re-attest, banned ones cannot") {
  const spinel::common::TimePoint now = WallClockSecond();
  spinel::testing::TestCa node_ca = spinel::testing::TestCa::Root("nodes.example.org", now - 1min);
  PrivateKey node_key = NewKey();
  spinel::testing::CertSpec spec;
  spec.subject = {{"CN", "gpu-node-1"}};
  spec.not_before = now - 1min;
  spec.not_after = now + 2h;
  Certificate node_cert =
      spinel::testing::CraftCertificate(spec, *node_key.Public(), node_ca.cert(), node_ca.key());
  AgentApiHarness h(node_ca.cert().ToPem());

  spinel::v1::AttestParams params;
  params.mutable_x509pop()->add_certificate_chain(node_cert.ToDer());
  auto sign_with = [](const PrivateKey& key) {
    return [&key](const std::string& nonce) {
      auto signature = spinel::common::SignPossessionProof(key, nonce);
      REQUIRE(signature.ok());
      return *signature;
    };
  };
  AgentClient agent = h.ClientFor(params, sign_with(node_key));
  CHECK(agent.id.ToString().rfind("spiffe://spinel.ai.example.org/spinel/agent/x509pop/", 0) == 0);
  auto record = h.fixture.datastore->GetAttestedAgent(agent.id);
  REQUIRE(record.ok());
  CHECK(record->selectors ==
        Selectors({"x509pop:subject:cn:gpu-node-1",
                   "x509pop:ca:fingerprint:" + spinel::server::Sha256Hex(node_ca.cert().ToDer()),
                   "x509pop:serialnumber:" + node_cert.SerialHex()}));

  PrivateKey wrong = NewKey();
  auto forged = h.Attest(params, NewKey(), sign_with(wrong));
  CHECK(forged.status().code() == absl::StatusCode::kPermissionDenied);

  // Evicted: the old SVID is refused, a new attestation is accepted.
  REQUIRE(h.fixture.datastore->DeleteAttestedAgent(agent.id).ok());
  grpc::Status evicted = h.Authenticate(*agent.stub);
  CHECK(evicted.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(evicted.error_message(), "not attested"));
  AgentClient again = h.ClientFor(params, sign_with(node_key));
  CHECK(again.id == agent.id);
  CHECK(h.Authenticate(*again.stub).ok());

  // Banned: refused on every call and at attestation.
  REQUIRE(h.fixture.datastore->SetAgentBanned(agent.id, true).ok());
  grpc::Status banned = h.Authenticate(*again.stub);
  CHECK(banned.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(banned.error_message(), "banned"));
  auto refused = h.Attest(params, NewKey(), sign_with(node_key));
  CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(refused.status().message(), "banned"));
}

TEST_CASE("agent API: x509pop is refused when not configured") {
  AgentApiHarness h;
  spinel::v1::AttestParams params;
  params.mutable_x509pop()->add_certificate_chain("x");
  CHECK(h.Attest(params, NewKey()).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("agent API: CSRs are signed only for the caller's entries") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  AgentClient other = h.AttestNewAgent();
  RegistrationEntry own = Entry(kModelServer, agent.id.ToString());
  own.dns_names = {"model.example.org"};
  own.x509_svid_ttl = 600;
  own = CreateEntry(h, own);
  RegistrationEntry foreign = CreateEntry(h, Entry(kToolRunner, other.id.ToString()));

  spinel::v1::SignedSvid signed_svid = h.SignOne(*agent.stub, own.id, kModelServer);
  REQUIRE_MESSAGE(signed_svid.error().empty(), signed_svid.error());
  std::vector<Certificate> chain = AgentApiHarness::ParseChain(signed_svid.certificate_chain());
  auto verified = VerifyWithBundle(h, chain, "inference.ai.example.org");
  REQUIRE_MESSAGE(verified.ok(), verified.status().ToString());
  CHECK(verified->id.ToString() == kModelServer);
  CHECK(chain[0].DnsSans() == std::vector<std::string>{"model.example.org"});
  CHECK(signed_svid.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now() + 10min));

  spinel::v1::SignedSvid not_mine = h.SignOne(*agent.stub, foreign.id, kToolRunner);
  CHECK(not_mine.certificate_chain_size() == 0);
  CHECK(not_mine.error_code() == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  CHECK(Contains(not_mine.error(), "not authorized for agent " + agent.id.ToString()));

  spinel::v1::SignedSvid wrong_id =
      h.SignOne(*agent.stub, own.id, "spiffe://inference.ai.example.org/admin");
  CHECK(wrong_id.certificate_chain_size() == 0);
  CHECK(wrong_id.error_code() == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  CHECK(Contains(wrong_id.error(), "CSR names"));

  spinel::v1::SignedSvid unknown = h.SignOne(*agent.stub, "no-such-entry", kModelServer);
  CHECK(unknown.error_code() == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));

  spinel::v1::SignX509SvidsRequest garbage;
  garbage.add_csrs()->set_entry_id(own.id);
  garbage.mutable_csrs(0)->set_csr("not a CSR");
  spinel::v1::SignX509SvidsResponse response;
  REQUIRE(agent.stub->SignX509Svids(AgentApiHarness::Context().get(), garbage, &response).ok());
  CHECK(response.svids(0).error_code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));

  // The other agent can have its own.
  CHECK(h.SignOne(*other.stub, foreign.id, kToolRunner).error().empty());
}

TEST_CASE("agent API: node-alias entries and entry expiry at signing time") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  // Join-token agents have no node selectors; give this one some, as x509pop would.
  auto record = h.fixture.datastore->GetAttestedAgent(agent.id);
  REQUIRE(record.ok());
  record->selectors = Selectors({"x509pop:subject:cn:gpu"});
  REQUIRE(h.fixture.datastore->UpdateAttestedAgent(*record).ok());
  RegistrationEntry alias =
      Entry("spiffe://spinel.ai.example.org/nodes/gpu", h.fixture.server_id().ToString());
  alias.selectors = Selectors({"x509pop:subject:cn:gpu"});
  CreateEntry(h, alias);
  RegistrationEntry via_alias =
      CreateEntry(h, Entry(kModelServer, "spiffe://spinel.ai.example.org/nodes/gpu"));
  CHECK(h.SignOne(*agent.stub, via_alias.id, kModelServer).error().empty());

  RegistrationEntry expiring = Entry(kToolRunner, agent.id.ToString());
  expiring.expires_at = spinel::common::ToUnixSeconds(h.fixture.clock.Now() + 1min);
  expiring = CreateEntry(h, expiring);
  CHECK(h.SignOne(*agent.stub, expiring.id, kToolRunner).error().empty());
  h.fixture.clock.Advance(2min);
  CHECK(h.SignOne(*agent.stub, expiring.id, kToolRunner).error_code() ==
        static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
}

TEST_CASE("agent API: JWT-SVIDs only for the caller's entries") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  AgentClient other = h.AttestNewAgent();
  RegistrationEntry own = CreateEntry(h, Entry(kModelServer, agent.id.ToString()));
  RegistrationEntry foreign = CreateEntry(h, Entry(kToolRunner, other.id.ToString()));
  spinel::v1::MintJwtSvidRequest request;
  request.set_entry_id(own.id);
  request.add_audience("retriever");
  spinel::v1::MintJwtSvidResponse response;
  grpc::Status minted =
      agent.stub->MintJwtSvid(AgentApiHarness::Context().get(), request, &response);
  REQUIRE_MESSAGE(minted.ok(), minted.error_message());
  CHECK(response.spiffe_id() == kModelServer);
  CHECK(response.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now() + 5min));

  request.set_entry_id(foreign.id);
  grpc::Status refused =
      agent.stub->MintJwtSvid(AgentApiHarness::Context().get(), request, &response);
  CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  request.set_entry_id(own.id);
  request.clear_audience();
  CHECK(
      agent.stub->MintJwtSvid(AgentApiHarness::Context().get(), request, &response).error_code() ==
      grpc::StatusCode::INVALID_ARGUMENT);
}
