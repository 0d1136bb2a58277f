// The agent API audits what it refuses (server/api/agent/agent_service.cc,
// server/audit/audit_log.h): refused node attestations (used or unknown join token, banned agent)
// as agent.attestation_refused, and refused signings (another agent's entry, a CSR naming another
// SPIFFE ID, an evicted agent's old SVID) as x509_svid.refused, each with the reason and the
// presented identity and never the join token. Agents may not report these kinds themselves.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "server/audit/audit_log.h"
#include "server/datastore/records.h"
#include "tests/server/api/agent/agent_api_harness.h"

using spinel::server::AuditEvent;
using spinel::server::AuditFilter;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;

namespace {

std::vector<AuditEvent> EventsOfKind(AgentApiHarness& h, const std::string& kind) {
  auto events = h.fixture.datastore->ListAuditEvents(AuditFilter{.kind = kind});
  REQUIRE(events.ok());
  return *events;
}

spinel::v1::AttestParams TokenParams(const std::string& token) {
  spinel::v1::AttestParams params;
  params.mutable_join_token()->set_token(token);
  return params;
}

// Every text field of `event`, for "the token appears nowhere" checks.
std::string AllText(const AuditEvent& event) {
  return event.actor + "|" + event.zone + "|" + event.subject + "|" + event.kind + "|" +
         event.outcome + "|" + event.reason + "|" + event.details;
}

}  // namespace

TEST_CASE("agent API audit: refused attestations are recorded without the token") {
  AgentApiHarness h;
  auto token = spinel::server::CreateJoinToken(*h.fixture.datastore, h.fixture.config.trust_domain,
                                               std::chrono::minutes(10), h.fixture.clock.Now());
  REQUIRE(token.ok());
  AgentClient agent = h.ClientFor(TokenParams(token->token));
  CHECK(EventsOfKind(h, "agent.attestation_refused").empty());

  auto reused = h.Attest(TokenParams(token->token), NewKey());
  REQUIRE(reused.status().code() == absl::StatusCode::kPermissionDenied);
  auto unknown = h.Attest(TokenParams(std::string(64, 'a')), NewKey());
  REQUIRE(unknown.status().code() == absl::StatusCode::kPermissionDenied);

  std::vector<AuditEvent> events = EventsOfKind(h, "agent.attestation_refused");
  REQUIRE(events.size() == 2);
  CHECK(events[0].actor == spinel::server::kServerActor);
  CHECK(events[0].outcome == "refused");
  CHECK(Contains(events[0].reason, "already used"));
  CHECK(Contains(events[0].reason, agent.id.ToString()));  // the token's agent, not the token
  CHECK(Contains(events[1].reason, "not valid"));
  for (const AuditEvent& event : events) {
    nlohmann::json details = nlohmann::json::parse(event.details);
    CHECK(details["method"] == "join_token");
    CHECK(Contains(details["peer"].get<std::string>(), "127.0.0.1"));
    CHECK_FALSE(Contains(AllText(event), token->token));
    CHECK_FALSE(Contains(AllText(event), std::string(64, 'a')));
  }
}

TEST_CASE("agent API audit: a banned agent's re-attestation is recorded with its ID") {
  AgentApiHarness h;
  auto token = spinel::server::CreateJoinToken(*h.fixture.datastore, h.fixture.config.trust_domain,
                                               std::chrono::minutes(10), h.fixture.clock.Now());
  REQUIRE(token.ok());
  AgentClient agent = h.ClientFor(TokenParams(token->token));
  REQUIRE(h.fixture.datastore->SetAgentBanned(agent.id, true).ok());
  // A second token for the same agent ID, as `token generate --agent-path` makes.
  REQUIRE(h.fixture.datastore
              ->CreateJoinToken(
                  "second-token-for-the-same-agent", agent.id,
                  spinel::common::ToUnixSeconds(h.fixture.clock.Now() + std::chrono::hours(1)))
              .ok());
  auto banned = h.Attest(TokenParams("second-token-for-the-same-agent"), NewKey());
  REQUIRE(banned.status().code() == absl::StatusCode::kPermissionDenied);

  std::vector<AuditEvent> events = EventsOfKind(h, "agent.attestation_refused");
  REQUIRE(events.size() == 1);
  CHECK(events[0].subject == agent.id.ToString());
  CHECK(Contains(events[0].reason, "banned"));
  CHECK_FALSE(Contains(AllText(events[0]), "second-token-for-the-same-agent"));
}

TEST_CASE("agent API audit: refused signings name the agent, the entry and the reason") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  AgentClient other = h.AttestNewAgent();
  auto own = h.fixture.registry->Create(Entry(kModelServer, agent.id.ToString()));
  auto foreign = h.fixture.registry->Create(Entry(kToolRunner, other.id.ToString()));
  REQUIRE(own.ok());
  REQUIRE(foreign.ok());

  CHECK(h.SignOne(*agent.stub, own->id, kModelServer).error().empty());
  CHECK(!h.SignOne(*agent.stub, foreign->id, kToolRunner).error().empty());
  CHECK(
      !h.SignOne(*agent.stub, own->id, "spiffe://inference.ai.example.org/admin").error().empty());

  std::vector<AuditEvent> refused = EventsOfKind(h, "x509_svid.refused");
  REQUIRE(refused.size() == 2);
  CHECK(refused[0].actor == agent.id.ToString());
  CHECK(refused[0].subject.empty());  // another agent's entry is not disclosed
  CHECK(Contains(refused[0].reason, "not authorized for agent"));
  CHECK(nlohmann::json::parse(refused[0].details)["entry_id"] == foreign->id);
  CHECK(refused[1].subject == kModelServer);
  CHECK(refused[1].zone == "inference");
  CHECK(Contains(refused[1].reason, "CSR names"));
  nlohmann::json details = nlohmann::json::parse(refused[1].details);
  CHECK(details["entry_id"] == own->id);
  CHECK(details["csr_uris"] == nlohmann::json{"spiffe://inference.ai.example.org/admin"});
  CHECK(EventsOfKind(h, "x509_svid.issued").size() == 1);

  // Evicted: the old SVID still verifies, but the call is refused and recorded.
  REQUIRE(h.fixture.datastore->DeleteAttestedAgent(agent.id).ok());
  CHECK(h.Authenticate(*agent.stub).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  refused = EventsOfKind(h, "x509_svid.refused");
  REQUIRE(refused.size() == 3);
  CHECK(refused[2].actor == spinel::server::kUnauthenticatedActor);
  CHECK(refused[2].subject == agent.id.ToString());
  CHECK(Contains(refused[2].reason, "not attested"));
  CHECK(nlohmann::json::parse(refused[2].details)["presented_id"] == agent.id.ToString());

  // Without a certificate there is no identity to record.
  CHECK(h.Authenticate(*h.Stub()).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(EventsOfKind(h, "x509_svid.refused").size() == 3);
}

TEST_CASE("agent API audit: refusal kinds are the server's own") {
  CHECK(spinel::server::IsServerEventKind("agent.attestation_refused"));
  CHECK(spinel::server::IsServerEventKind("x509_svid.refused"));
  CHECK_FALSE(spinel::server::IsServerEventKind("authorize"));
}
