// The agent API's audit trail and step-up approvals (server/api/agent/agent_service_approvals.cc
// and the issuance hooks in agent_service.cc) over real TLS gRPC and real components: every X.509
// and JWT issuance is audited with the entry that earned it; CreateApproval re-evaluates on the
// server's zones; UseApproval succeeds once; ReportAuditEvents stores an agent's batch.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/server/api/agent/agent_api_harness.h"
#include "trust-zones/audit_chain.h"

using spinel::server::AuditEvent;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

std::vector<AuditEvent> AuditLog(AgentApiHarness& h, const std::string& kind = "") {
  spinel::server::AuditFilter filter;
  if (!kind.empty()) filter.kind = kind;
  auto events = h.fixture.datastore->ListAuditEvents(filter);
  REQUIRE_MESSAGE(events.ok(), events.status().ToString());
  return *events;
}

spinel::v1::AccessRequest Deploy(const std::string& environment = "production") {
  spinel::v1::AccessRequest request;
  request.set_subject(kToolRunner);
  request.set_resource("tool:deploy.prod");
  request.set_action("invoke");
  (*request.mutable_context())["environment"] = environment;
  return request;
}

grpc::Status Create(AgentClient& agent, const spinel::v1::AccessRequest& access,
                    spinel::v1::Approval* out) {
  spinel::v1::CreateApprovalRequest request;
  *request.mutable_request() = access;
  return agent.stub->CreateApproval(AgentApiHarness::Context().get(), request, out);
}

grpc::Status Use(AgentClient& agent, const std::string& id, const spinel::v1::AccessRequest& access,
                 spinel::v1::Approval* out) {
  spinel::v1::UseApprovalRequest request;
  request.set_approval_id(id);
  *request.mutable_request() = access;
  return agent.stub->UseApproval(AgentApiHarness::Context().get(), request, out);
}

RegistrationEntry CreateEntry(AgentApiHarness& h, const std::string& spiffe_id,
                              const AgentClient& agent) {
  RegistrationEntry entry = Entry(spiffe_id, agent.id.ToString());
  auto created = h.fixture.registry->Create(entry);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return *created;
}

}  // namespace

TEST_CASE("agent API audit: each X.509 issuance is recorded with the entry that earned it") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  RegistrationEntry entry = CreateEntry(h, kModelServer, agent);

  spinel::v1::SignX509SvidsRequest request;
  for (const std::string& entry_id : {entry.id, std::string("not-this-agents")}) {
    spinel::v1::CsrForEntry* csr = request.add_csrs();
    csr->set_entry_id(entry_id);
    csr->set_csr(CsrDer(NewKey(), kModelServer));
  }
  spinel::v1::SignX509SvidsResponse response;
  REQUIRE(agent.stub->SignX509Svids(AgentApiHarness::Context().get(), request, &response).ok());
  REQUIRE(response.svids_size() == 2);
  REQUIRE(response.svids(0).error().empty());
  CHECK_FALSE(response.svids(1).error().empty());

  std::vector<AuditEvent> issued = AuditLog(h, "x509_svid.issued");
  REQUIRE(issued.size() == 1);  // the refused CSR earned nothing
  const AuditEvent& event = issued[0];
  CHECK(event.actor == agent.id.ToString());
  CHECK(event.zone == "inference");
  CHECK(event.subject == kModelServer);
  CHECK(event.outcome == "ok");
  auto leaf = spinel::common::Certificate::FromDer(response.svids(0).certificate_chain(0));
  REQUIRE(leaf.ok());
  const nlohmann::json details = nlohmann::json::parse(event.details);
  CHECK(details["entry_id"] == entry.id);
  CHECK(details["serial"] == leaf->SerialHex());
  CHECK(details["expires_at"] == response.svids(0).expires_at());
  CHECK(details["selectors"] == nlohmann::json::array({"unix:uid:1000"}));
}

TEST_CASE("agent API audit: a JWT-SVID mint is recorded, without the token") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  RegistrationEntry entry = CreateEntry(h, kToolRunner, agent);
  spinel::v1::MintJwtSvidRequest request;
  request.set_entry_id(entry.id);
  request.add_audience("jira");
  spinel::v1::MintJwtSvidResponse response;
  REQUIRE(agent.stub->MintJwtSvid(AgentApiHarness::Context().get(), request, &response).ok());
  std::vector<AuditEvent> minted = AuditLog(h, "jwt_svid.issued");
  REQUIRE(minted.size() == 1);
  CHECK(minted[0].actor == agent.id.ToString());
  CHECK(minted[0].zone == "tool-execution");
  CHECK(minted[0].subject == kToolRunner);
  CHECK(Contains(minted[0].details, entry.id));
  CHECK_FALSE(Contains(minted[0].details, response.token()));
}

TEST_CASE("agent API approvals: created only for APPROVAL_REQUIRED, identical requests reused") {
  ServerFixtureOptions options;
  options.approval_ttl = 90s;
  AgentApiHarness h("", 10000, options);
  AgentClient agent = h.AttestNewAgent();

  spinel::v1::Approval first;
  grpc::Status created = Create(agent, Deploy(), &first);
  REQUIRE_MESSAGE(created.ok(), created.error_message());
  CHECK(first.id().rfind("apr-", 0) == 0);
  CHECK(first.state() == "pending");
  CHECK(first.zone() == "tool-execution");
  CHECK(first.rule_id() == "tool-execution/production-deploys");
  CHECK(first.requesting_agent() == agent.id.ToString());
  CHECK(first.context().at("environment") == "production");
  CHECK(first.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now() + 90s));

  h.fixture.clock.Advance(10s);
  spinel::v1::Approval again;
  REQUIRE(Create(agent, Deploy(), &again).ok());
  CHECK(again.id() == first.id());

  // Staging deploys are allowed outright: nothing to approve.
  spinel::v1::Approval ignored;
  grpc::Status allowed = Create(agent, Deploy("staging"), &ignored);
  CHECK(allowed.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(Contains(allowed.error_message(), "ALLOW"));
  spinel::v1::AccessRequest bad = Deploy();
  bad.set_subject("not-an-id");
  grpc::Status malformed = Create(agent, bad, &ignored);
  CHECK(malformed.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(malformed.error_message(), "request.subject"));

  std::unique_ptr<AgentStub> anonymous = h.Stub();
  spinel::v1::CreateApprovalRequest call;
  *call.mutable_request() = Deploy();
  CHECK(anonymous->CreateApproval(AgentApiHarness::Context().get(), call, &ignored).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  std::vector<AuditEvent> log = AuditLog(h);
  REQUIRE(log.size() == 2);
  CHECK(log[0].kind == "approval.requested");
  CHECK(log[0].outcome == "APPROVAL_REQUIRED");
  CHECK(log[0].zone == "tool-execution");
  CHECK(Contains(log[0].details, first.id()));
  CHECK(log[1].kind == "approval.refused");
  CHECK(log[1].outcome == "DENY");
  CHECK(h.fixture.datastore->ListApprovals({})->size() == 1);
}

TEST_CASE("agent API approvals: used once, for exactly the approved request") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  spinel::v1::Approval approval;
  REQUIRE(Create(agent, Deploy(), &approval).ok());

  spinel::v1::Approval out;
  grpc::Status early = Use(agent, approval.id(), Deploy(), &out);
  CHECK(early.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(early.error_message(), "has not been approved"));
  REQUIRE(h.fixture.datastore->ApproveApproval(approval.id(), "operator:alice", "CHG-1").ok());

  spinel::v1::AccessRequest other = Deploy();
  (*other.mutable_context())["ticket"] = "CHG-2";
  grpc::Status different = Use(agent, approval.id(), other, &out);
  CHECK(different.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(different.error_message(), "context"));
  grpc::Status unknown = Use(agent, "apr-unknown", Deploy(), &out);
  CHECK(unknown.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(unknown.error_message(), "not found"));

  grpc::Status used = Use(agent, approval.id(), Deploy(), &out);
  REQUIRE_MESSAGE(used.ok(), used.error_message());
  CHECK(out.state() == "used");
  grpc::Status twice = Use(agent, approval.id(), Deploy(), &out);
  CHECK(twice.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(twice.error_message(), "already used"));

  std::vector<AuditEvent> refused = AuditLog(h, "approval.refused");
  CHECK(refused.size() == 4);
  std::vector<AuditEvent> ok = AuditLog(h, "approval.used");
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].outcome == "ALLOW");
  CHECK(ok[0].reason == "approved by operator:alice");
}

TEST_CASE("agent API approvals: an expired approval cannot be used") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  spinel::v1::Approval approval;
  REQUIRE(Create(agent, Deploy(), &approval).ok());
  REQUIRE(h.fixture.datastore->ApproveApproval(approval.id(), "operator:alice", "").ok());
  h.fixture.clock.Advance(h.fixture.config.approval_ttl);
  spinel::v1::Approval out;
  grpc::Status late = Use(agent, approval.id(), Deploy(), &out);
  CHECK(late.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(late.error_message(), "expired"));
}

TEST_CASE("agent API approvals: of concurrent uses over gRPC exactly one succeeds") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  spinel::v1::Approval approval;
  REQUIRE(Create(agent, Deploy(), &approval).ok());
  REQUIRE(h.fixture.datastore->ApproveApproval(approval.id(), "operator:alice", "").ok());
  std::atomic<int> ok{0};
  std::atomic<int> denied{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      spinel::v1::Approval out;
      grpc::Status status = Use(agent, approval.id(), Deploy(), &out);
      if (status.ok()) ++ok;
      if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) ++denied;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(ok.load() == 1);
  CHECK(denied.load() == 5);
}

TEST_CASE("agent API audit: reported events are stored as the caller's, in one batch") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  spinel::v1::ReportAuditEventsRequest request;
  for (const char* outcome : {"ALLOW", "DENY"}) {
    spinel::v1::AuditEvent* event = request.add_events();
    event->set_kind("authorize");
    event->set_actor("spiffe://spinel.ai.example.org/someone-else");  // overridden
    event->set_zone("inference");
    event->set_subject(kModelServer);
    event->set_outcome(outcome);
    event->set_time_ms(1'700'000'000'123);
    event->set_sequence(99);  // assigned by the server
  }
  request.set_dropped(3);
  spinel::v1::ReportAuditEventsResponse response;
  REQUIRE(agent.stub->ReportAuditEvents(AgentApiHarness::Context().get(), request, &response).ok());
  CHECK(response.stored() == 2);

  std::vector<AuditEvent> log = AuditLog(h);
  REQUIRE(log.size() == 3);
  CHECK(log[0].sequence == 1);
  CHECK(log[0].actor == agent.id.ToString());
  CHECK(log[1].outcome == "DENY");
  CHECK(log[1].time == spinel::common::TimePoint(std::chrono::milliseconds(1'700'000'000'123)));
  CHECK(log[2].kind == "audit.dropped");
  CHECK(log[2].actor == agent.id.ToString());
  CHECK(Contains(log[2].reason, "dropped 3"));
  CHECK(spinel::zones::VerifyChain(log).ok());

  // An agent cannot forge the server's own records; the whole batch is refused.
  spinel::v1::ReportAuditEventsRequest forged;
  forged.add_events()->set_kind("authorize");
  forged.add_events()->set_kind("x509_svid.issued");
  grpc::Status refused =
      agent.stub->ReportAuditEvents(AgentApiHarness::Context().get(), forged, &response);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(refused.error_message(), "events[1].kind"));
  spinel::v1::ReportAuditEventsRequest bad_time;
  bad_time.add_events()->set_kind("authorize");
  bad_time.mutable_events(0)->set_time_ms(-5);
  refused = agent.stub->ReportAuditEvents(AgentApiHarness::Context().get(), bad_time, &response);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(refused.error_message(), "events[0].time_ms"));
  CHECK(AuditLog(h).size() == 3);
}
