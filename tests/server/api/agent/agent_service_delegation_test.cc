// The agent API's step-up approvals and audit trail for requests made on behalf of a user
// (AccessRequest.delegation, server/api/delegation_convert.h), over real TLS gRPC and real
// components: the approval is bound to the user and the exact actor chain and shown with them,
// an identical request is reused only for the same user and chain, a use for another user or
// chain is refused, every approval step is audited with the user and chain (the hash chain
// verifies), the server's own policy decides with the delegation (on_behalf_of, via), and
// malformed delegations are refused.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "tests/server/api/agent/agent_api_harness.h"
#include "trust-zones/audit_chain.h"

using spinel::server::AuditEvent;
using namespace spinel::server::testing;

namespace {

constexpr char kIssuer[] = "https://idp.example.org";

std::vector<AuditEvent> AuditLog(AgentApiHarness& h) {
  auto events = h.fixture.datastore->ListAuditEvents({});
  REQUIRE_MESSAGE(events.ok(), events.status().ToString());
  return *events;
}

// A production deploy by the runner on behalf of `user` through `chain` (current actor first).
spinel::v1::AccessRequest DeployFor(const std::string& user, std::vector<std::string> chain,
                                    const std::string& resource = "tool:deploy.prod") {
  spinel::v1::AccessRequest request;
  request.set_subject(kToolRunner);
  request.set_resource(resource);
  request.set_action("invoke");
  (*request.mutable_context())["environment"] = "production";
  if (!user.empty()) {
    spinel::v1::Delegation* delegation = request.mutable_delegation();
    delegation->set_user_issuer(kIssuer);
    delegation->set_user(user);
    for (const std::string& actor : chain) delegation->add_actor_chain(actor);
  }
  return request;
}

spinel::v1::AccessRequest AliceViaModel() {
  return DeployFor("alice@example.org", {kToolRunner, kModelServer});
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

std::vector<std::string> Chain(const spinel::v1::Approval& approval) {
  return {approval.actor_chain().begin(), approval.actor_chain().end()};
}

// The shipped zones plus one rule in tool-execution: paging needs approval, and only for SREs
// acting through inference or tool-execution workloads.
std::string ZonesWithPagerRule(const spinel::testing::TempDir& dir) {
  for (const auto& file : std::filesystem::directory_iterator(ShippedZonesDir())) {
    std::filesystem::copy(file.path(), dir.File(file.path().filename().string()));
  }
  std::ifstream in(dir.File("tool-execution.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string anchor = "resources:\n";
  const size_t at = yaml.find(anchor);
  REQUIRE(at != std::string::npos);
  yaml.insert(at + anchor.size(),
              "  - name: pager-for-sre\n"
              "    resource: \"tool:pager.page\"\n"
              "    actions: [invoke]\n"
              "    on_behalf_of: {groups: [sre]}\n"
              "    via: [\"tool-execution/*\", \"inference/*\"]\n"
              "    approval: required\n");
  dir.Write("tool-execution.yaml", yaml);
  return dir.path();
}

}  // namespace

TEST_CASE(
    "agent API delegation: an approval for alice via a chain is bound to both, refused "
    "for bob or another chain") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  spinel::v1::Approval alice;
  grpc::Status created = Create(agent, AliceViaModel(), &alice);
  REQUIRE_MESSAGE(created.ok(), created.error_message());
  CHECK(alice.user() == "alice@example.org");
  CHECK(alice.user_issuer() == kIssuer);
  CHECK(Chain(alice) == std::vector<std::string>{kToolRunner, kModelServer});

  // The same request for alice is the same approval; for bob, through another chain, or on
  // behalf of nobody it is a request of its own.
  spinel::v1::Approval again;
  REQUIRE(Create(agent, AliceViaModel(), &again).ok());
  CHECK(again.id() == alice.id());
  for (const auto& other : {DeployFor("bob@example.org", {kToolRunner, kModelServer}),
                            DeployFor("alice@example.org", {kToolRunner}), DeployFor("", {})}) {
    spinel::v1::Approval separate;
    REQUIRE(Create(agent, other, &separate).ok());
    CHECK(separate.id() != alice.id());
  }
  CHECK(h.fixture.datastore->ListApprovals({})->size() == 4);

  REQUIRE(h.fixture.datastore->ApproveApproval(alice.id(), "operator:ops", "CHG-9").ok());
  spinel::v1::Approval out;
  grpc::Status bob =
      Use(agent, alice.id(), DeployFor("bob@example.org", {kToolRunner, kModelServer}), &out);
  CHECK(bob.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(bob.error_message(), "on behalf of \"alice@example.org\""));
  grpc::Status direct = Use(agent, alice.id(), DeployFor("alice@example.org", {kToolRunner}), &out);
  CHECK(direct.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Contains(direct.error_message(), "chain"));
  grpc::Status nobody = Use(agent, alice.id(), DeployFor("", {}), &out);
  CHECK(nobody.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status used = Use(agent, alice.id(), AliceViaModel(), &out);
  REQUIRE_MESSAGE(used.ok(), used.error_message());
  CHECK(out.state() == "used");
  CHECK(out.user() == "alice@example.org");

  // Every step is audited on behalf of whom it was asked; the chain (v2 events) verifies.
  std::vector<AuditEvent> log = AuditLog(h);
  REQUIRE(log.size() == 8);  // 4 requested, 3 refused, 1 used
  CHECK(log[0].kind == "approval.requested");
  CHECK(log[0].user == "alice@example.org");
  CHECK(log[0].user_issuer == kIssuer);
  CHECK(log[0].actor_chain == std::vector<std::string>{kToolRunner, kModelServer});
  CHECK(log[3].user.empty());  // the request on behalf of nobody
  CHECK(log[4].kind == "approval.refused");
  CHECK(log[4].user == "bob@example.org");
  CHECK(log[7].kind == "approval.used");
  CHECK(log[7].user == "alice@example.org");
  CHECK(spinel::zones::VerifyChain(log).ok());
  auto bobs = h.fixture.datastore->ListAuditEvents({.user = "bob@example.org"});
  REQUIRE(bobs.ok());
  CHECK(bobs->size() == 2);  // bob's request, and the refused use of alice's approval
}

TEST_CASE("agent API delegation: the server's policy decides with the user's claims and chain") {
  spinel::testing::TempDir zones;
  ServerFixtureOptions options;
  options.zones_dir = ZonesWithPagerRule(zones);
  AgentApiHarness h("", 10000, options);
  AgentClient agent = h.AttestNewAgent();

  spinel::v1::AccessRequest sre =
      DeployFor("alice@example.org", {kToolRunner, kModelServer}, "tool:pager.page");
  (*sre.mutable_delegation()->mutable_user_claims())["groups"].add_values("sre");
  sre.mutable_context()->clear();  // no environment: the broad invoke-tools rule does not match
  spinel::v1::Approval approval;
  grpc::Status created = Create(agent, sre, &approval);
  REQUIRE_MESSAGE(created.ok(), created.error_message());
  CHECK(approval.rule_id() == "tool-execution/pager-for-sre");

  // Not an SRE, nobody at all, or a chain through a workload outside the allowed zones: the
  // server's policy denies, naming the rule whose delegation conditions failed, and no
  // approval is created.
  spinel::v1::AccessRequest dev = sre;
  (*dev.mutable_delegation()->mutable_user_claims())["groups"].set_values(0, "dev");
  spinel::v1::AccessRequest nobody = sre;
  nobody.clear_delegation();
  spinel::v1::AccessRequest foreign = sre;
  foreign.mutable_delegation()->add_actor_chain("spiffe://partner.example/agent");
  for (const auto* refused : {&dev, &nobody, &foreign}) {
    spinel::v1::Approval ignored;
    grpc::Status status = Create(agent, *refused, &ignored);
    CAPTURE(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(Contains(status.error_message(), "answers DENY"));
    CHECK(Contains(status.error_message(), "pager-for-sre"));
  }
  CHECK(h.fixture.datastore->ListApprovals({})->size() == 1);
}

TEST_CASE("agent API delegation: malformed delegations and reported events are refused") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  auto with = [](auto&& change) {
    spinel::v1::AccessRequest request = AliceViaModel();
    change(*request.mutable_delegation());
    return request;
  };
  const struct {
    spinel::v1::AccessRequest request;
    const char* field;
  } cases[] = {
      {with([](spinel::v1::Delegation& d) { d.clear_user(); }), "request.delegation.user"},
      {with([](spinel::v1::Delegation& d) { d.clear_user_issuer(); }),
       "request.delegation.user_issuer"},
      {with([](spinel::v1::Delegation& d) { d.clear_actor_chain(); }),
       "request.delegation.actor_chain"},
      {with([](spinel::v1::Delegation& d) { d.set_actor_chain(0, kModelServer); }),
       "is not the subject"},
      {with([](spinel::v1::Delegation& d) { d.set_actor_chain(1, "not-an-id"); }),
       "request.delegation.actor_chain[1]"},
      {with([](spinel::v1::Delegation& d) {
         for (int i = 0; i < 16; ++i) d.add_actor_chain(kModelServer);
       }),
       "1 to 16"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    spinel::v1::Approval ignored;
    grpc::Status status = Create(agent, c.request, &ignored);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Contains(status.error_message(), c.field));
    CHECK(Use(agent, "apr-x", c.request, &ignored).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Reported decision events keep their user and chain; a chain without a user is refused.
  spinel::v1::ReportAuditEventsRequest report;
  spinel::v1::AuditEvent* event = report.add_events();
  event->set_kind("authorize");
  event->set_subject(kToolRunner);
  event->set_outcome("ALLOW");
  event->set_user_issuer(kIssuer);
  event->set_user("alice@example.org");
  event->add_actor_chain(kToolRunner);
  event->add_actor_chain(kModelServer);
  spinel::v1::ReportAuditEventsResponse response;
  REQUIRE(agent.stub->ReportAuditEvents(AgentApiHarness::Context().get(), report, &response).ok());
  std::vector<AuditEvent> log = AuditLog(h);
  REQUIRE(log.size() == 1);
  CHECK(log[0].user == "alice@example.org");
  CHECK(log[0].actor_chain == std::vector<std::string>{kToolRunner, kModelServer});
  CHECK(spinel::zones::VerifyChain(log).ok());
  report.mutable_events(0)->clear_user();
  grpc::Status refused =
      agent.stub->ReportAuditEvents(AgentApiHarness::Context().get(), report, &response);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(refused.error_message(), "needs the user"));
  CHECK(AuditLog(h).size() == 1);
}
