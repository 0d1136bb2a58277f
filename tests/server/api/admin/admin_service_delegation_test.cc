// The admin service on behalf of users, over real components and a real gRPC channel
// (admin_harness.h): an approval bound to a user and an actor chain is listed and shown with
// them (and one on behalf of nobody without), decision events keep them, and ListAuditEvents
// filters by user and refuses a malformed filter.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/server/api/admin/admin_harness.h"
#include "trust-zones/approval.h"

using spinel::server::ApprovalRecord;
using spinel::server::testing::AdminHarness;
using spinel::server::testing::kToolsId;
using Stub = spinel::v1::AdminService::Stub;

namespace {

constexpr char kAgent[] = "spiffe://spinel.ai.example.org/spinel/agent/join_token/node-1";
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kIssuer[] = "https://idp.example.org";

// A pending production deploy on behalf of `user` ("" for nobody) via the runner and the model
// server, stored as CreateApproval would store it.
std::string StoreApproval(AdminHarness& h, const std::string& user) {
  spinel::zones::RequestContext context = {{"environment", "production"}};
  auto binding =
      spinel::zones::ApprovalBinding::Make(kToolsId, "tool:deploy.prod", "invoke", context);
  REQUIRE(binding.ok());
  if (!user.empty()) {
    binding->user_issuer = kIssuer;
    binding->user = user;
    binding->actor_chain = {kToolsId, kModel};
  }
  auto id = spinel::zones::NewApprovalId();
  REQUIRE(id.ok());
  auto request = spinel::zones::ApprovalRequest::Create(
      {*id, *binding, kAgent, "tool-execution", "tool-execution/production-deploys",
       std::chrono::minutes(10)},
      h.fixture.clock);
  REQUIRE(request.ok());
  auto stored = h.fixture.datastore->CreateApproval(ApprovalRecord{*request, context});
  REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());
  return *id;
}

std::vector<std::string> Chain(const google::protobuf::RepeatedPtrField<std::string>& chain) {
  return {chain.begin(), chain.end()};
}

}  // namespace

TEST_CASE("admin delegation: approvals are listed and shown with their user and chain") {
  AdminHarness h;
  const std::string alice = StoreApproval(h, "alice@example.org");
  h.fixture.clock.Advance(std::chrono::seconds(1));
  const std::string nobody = StoreApproval(h, "");

  spinel::v1::ApprovalIdRequest show;
  show.set_id(alice);
  spinel::v1::Approval approval;
  REQUIRE(h.Call(&Stub::GetApproval, show, &approval).ok());
  CHECK(approval.user() == "alice@example.org");
  CHECK(approval.user_issuer() == kIssuer);
  CHECK(Chain(approval.actor_chain()) == std::vector<std::string>{kToolsId, kModel});

  spinel::v1::ListApprovalsResponse list;
  REQUIRE(h.Call(&Stub::ListApprovals, spinel::v1::ListApprovalsRequest(), &list).ok());
  REQUIRE(list.approvals_size() == 2);
  CHECK(list.approvals(0).id() == nobody);
  CHECK(list.approvals(0).user().empty());
  CHECK(list.approvals(0).actor_chain().empty());
  CHECK(list.approvals(1).user() == "alice@example.org");

  // The operator's decision is audited on behalf of the user the approval is bound to.
  grpc::ClientContext context;
  spinel::v1::ApprovalDecisionRequest approve;
  approve.set_id(alice);
  approve.set_reason("CHG-7");
  REQUIRE(h.stub->ApproveApproval(&context, approve, &approval).ok());
  CHECK(approval.user() == "alice@example.org");
  spinel::v1::ListAuditEventsRequest by_user;
  by_user.set_user("alice@example.org");
  spinel::v1::ListAuditEventsResponse events;
  REQUIRE(h.Call(&Stub::ListAuditEvents, by_user, &events).ok());
  REQUIRE(events.events_size() == 1);
  CHECK(events.events(0).kind() == "approval.approved");
  CHECK(events.events(0).user_issuer() == kIssuer);
  CHECK(Chain(events.events(0).actor_chain()) == std::vector<std::string>{kToolsId, kModel});
}

TEST_CASE("admin delegation: audit events are listed by user; a malformed filter is refused") {
  AdminHarness h;
  for (const char* user : {"alice@example.org", "", "bob@example.org", "alice@example.org"}) {
    spinel::server::AuditEvent event;
    event.kind = "authorize";
    event.outcome = "ALLOW";
    event.subject = kToolsId;
    if (*user != '\0') {
      event.user_issuer = kIssuer;
      event.user = user;
      event.actor_chain = {kToolsId};
    }
    REQUIRE(h.fixture.datastore->AppendAuditEvent(event).ok());
  }
  spinel::v1::ListAuditEventsRequest request;
  request.set_user("alice@example.org");
  spinel::v1::ListAuditEventsResponse response;
  REQUIRE(h.Call(&Stub::ListAuditEvents, request, &response).ok());
  REQUIRE(response.events_size() == 2);
  CHECK(response.events(0).sequence() == 1);
  CHECK(response.events(1).sequence() == 4);
  CHECK(response.events(1).user() == "alice@example.org");
  request.set_limit(1);  // the newest of alice's
  REQUIRE(h.Call(&Stub::ListAuditEvents, request, &response).ok());
  REQUIRE(response.events_size() == 1);
  CHECK(response.events(0).sequence() == 4);
  request.Clear();
  REQUIRE(h.Call(&Stub::ListAuditEvents, request, &response).ok());
  CHECK(response.events_size() == 4);

  // (Invalid UTF-8 cannot be sent at all: proto3 strings are UTF-8.)
  for (const std::string& bad : {std::string("alice\nbob"), std::string(4097, 'a')}) {
    request.set_user(bad);
    grpc::Status refused = h.Call(&Stub::ListAuditEvents, request, &response);
    CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(refused.error_message().rfind("user:", 0) == 0);
  }
}
