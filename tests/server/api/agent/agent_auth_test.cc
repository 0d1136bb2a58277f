// Agent authentication on the agent API (server/api/agent/agent_auth.cc), through real TLS
// connections to the agent service: which client certificates are accepted as an agent's current
// SVID and the reason given for each one that is not.
#include <doctest/doctest.h>

#include "tests/fakes/test_ca.h"
#include "tests/server/api/agent/agent_api_harness.h"

using spinel::common::Certificate;
using spinel::common::PrivateKey;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

// A certificate for `id` signed by the server's own CA of `id`'s trust domain.
std::vector<Certificate> IssuedBy(AgentApiHarness& h, const std::string& id,
                                  const PrivateKey& key) {
  auto issued = h.fixture.issuer->SignX509Svid(Id(id), *key.Public(), 30min);
  REQUIRE_MESSAGE(issued.ok(), issued.status().ToString());
  std::vector<Certificate> chain;
  for (const std::string& der : issued->chain_der) chain.push_back(*Certificate::FromDer(der));
  return chain;
}

void CheckDenied(const grpc::Status& status, grpc::StatusCode code, const std::string& reason) {
  CHECK(status.error_code() == code);
  CHECK_MESSAGE(Contains(status.error_message(), reason), status.error_message());
}

}  // namespace

TEST_CASE("agent auth: the current SVID of an attested agent is accepted") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  CHECK(h.Authenticate(*agent.stub).ok());
}

TEST_CASE("agent auth: no certificate is UNAUTHENTICATED") {
  AgentApiHarness h;
  std::unique_ptr<AgentStub> anonymous = h.Stub();
  CheckDenied(h.Authenticate(*anonymous), grpc::StatusCode::UNAUTHENTICATED, "attest first");
}

TEST_CASE("agent auth: certificates that are not an agent's current SVID are refused") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  PrivateKey key = NewKey();

  SUBCASE("an agent ID signed by a CA outside the control bundle") {
    spinel::testing::TestCa rogue =
        spinel::testing::TestCa::Root("spinel.ai.example.org", h.fixture.clock.Now() - 1min);
    spinel::testing::TestLeaf leaf = rogue.Mint(agent.id.ToString(), h.fixture.clock.Now());
    auto stub = h.Stub({leaf.cert}, &leaf.key);
    CheckDenied(h.Authenticate(*stub), grpc::StatusCode::PERMISSION_DENIED, "agent SVID rejected");
  }
  SUBCASE("a zone workload's SVID") {
    auto stub = h.Stub(IssuedBy(h, kModelServer, key), &key);
    CheckDenied(h.Authenticate(*stub), grpc::StatusCode::PERMISSION_DENIED, "agent SVID rejected");
  }
  SUBCASE("a control-plane SVID that is not an agent ID") {
    auto stub = h.Stub(IssuedBy(h, "spiffe://spinel.ai.example.org/spinel/server", key), &key);
    CheckDenied(h.Authenticate(*stub), grpc::StatusCode::PERMISSION_DENIED, "not an agent ID");
  }
  SUBCASE("an agent ID that never attested") {
    auto stub = h.Stub(
        IssuedBy(h, "spiffe://spinel.ai.example.org/spinel/agent/join_token/ghost", key), &key);
    CheckDenied(h.Authenticate(*stub), grpc::StatusCode::PERMISSION_DENIED, "is not attested");
  }
  SUBCASE("the agent's previous SVID after a renewal") {
    PrivateKey renewed_key = NewKey();
    spinel::v1::RenewAgentSvidRequest request;
    request.set_csr(CsrDer(renewed_key, agent.id.ToString()));
    spinel::v1::RenewAgentSvidResponse response;
    grpc::Status renewed =
        agent.stub->RenewAgentSvid(AgentApiHarness::Context().get(), request, &response);
    REQUIRE_MESSAGE(renewed.ok(), renewed.error_message());
    CHECK(response.svid().spiffe_id() == agent.id.ToString());
    std::vector<Certificate> chain =
        AgentApiHarness::ParseChain(response.svid().certificate_chain());
    CHECK(chain[0].SerialHex() != agent.chain[0].SerialHex());
    CheckDenied(h.Authenticate(*agent.stub), grpc::StatusCode::PERMISSION_DENIED,
                "no longer current");
    CHECK(h.Authenticate(*h.Stub(chain, &renewed_key)).ok());
  }
  SUBCASE("an expired SVID") {
    h.fixture.clock.Advance(1h + 1s);
    CheckDenied(h.Authenticate(*agent.stub), grpc::StatusCode::PERMISSION_DENIED, "expired");
  }
  SUBCASE("a banned agent's SVID, and an evicted agent's") {
    REQUIRE(h.fixture.datastore->SetAgentBanned(agent.id, true).ok());
    CheckDenied(h.Authenticate(*agent.stub), grpc::StatusCode::PERMISSION_DENIED, "is banned");
    REQUIRE(h.fixture.datastore->DeleteAttestedAgent(agent.id).ok());
    CheckDenied(h.Authenticate(*agent.stub), grpc::StatusCode::PERMISSION_DENIED,
                "is not attested");
  }
}
