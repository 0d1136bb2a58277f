// The Authorizer against the real server's agent API in process (AgentApiHarness: real
// AgentServiceImpl, SQLite, zone CAs, gRPC over mTLS): the policy document the server pushes
// (zone_files) becomes the agent's ZoneSet, JWT-SVIDs minted by the server prove subjects, the
// step-up flow goes through CreateApproval/UseApproval with an operator's approval in the
// datastore, and decision events are stored by ReportAuditEvents with the agent as actor. A
// request on behalf of a user binds its approval to that user and actor chain.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "agent/authz/authorizer.h"
#include "agent/identity_cache.h"
#include "server/api/approval_convert.h"
#include "tests/agent/agent_server_harness.h"
#include "tests/fakes/temp_dir.h"
#include "trust-zones/audit_chain.h"
#include "trust-zones/delegation_context.h"

namespace spinel::agent {
namespace {

using V = v1::AuthorizeResponse;
using namespace std::chrono_literals;

constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";

struct StepUpWorld {
  StepUpWorld() : side(Config(), harness.fixture.clock) {
    side.Attest();
    entry_id = harness.CreateEntry(side.session->agent_id(), kRunner, {"unix:uid:1000"}).id;
    SyncOnce();
  }

  AgentConfig Config() {
    AgentConfig config = harness.MakeAgentConfig(dir.path());
    config.join_token = harness.JoinToken();
    return config;
  }

  // Applies the server's first Sync message (the full snapshot with the policy) to the cache.
  void SyncOnce() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    absl::Status applied = absl::UnknownError("no update");
    // Ends CANCELLED once the first update is in; `applied` is what matters.
    absl::Status ended = side.client->Sync(&context, [&](const v1::SyncUpdate& update) {
      applied = cache.ApplySyncUpdate(update);
      context.TryCancel();
    });
    CAPTURE(ended.ToString());
    REQUIRE_MESSAGE(applied.ok(), applied.ToString());
  }

  std::string RunnerJwt() {
    auto minted = side.client->MintJwtSvid(entry_id, {"spinel-authorize"});
    REQUIRE_MESSAGE(minted.ok(), minted.status().ToString());
    return minted->token();
  }

  spinel::testing::TempDir dir;
  testing::AgentApiHarness harness;
  testing::AgentSide side;
  std::string entry_id;
  IdentityCache cache;
  AuditForwarder audit{*side.client, harness.fixture.clock};
  Authorizer authorizer{cache, *side.client, audit, harness.fixture.clock};
};

TEST_CASE("step-up against the real server: requested, approved, used once, audited") {
  StepUpWorld w;
  REQUIRE(w.cache.Snapshot()->zones != nullptr);
  CHECK(w.cache.Snapshot()->zones->Find("tool-execution") != nullptr);
  auto request = v1::AuthorizeRequest();
  request.set_jwt_svid(w.RunnerJwt());
  request.set_resource("tool:deploy.api");
  request.set_action("invoke");
  (*request.mutable_context())["environment"] = "production";

  auto required = w.authorizer.Authorize(request);
  REQUIRE(required.ok());
  REQUIRE_MESSAGE(required->verdict() == V::APPROVAL_REQUIRED, required->reason());
  const std::string id = required->approval_id();
  REQUIRE(!id.empty());
  CHECK(required->approval_expires_at() > common::ToUnixSeconds(w.harness.fixture.clock.Now()));

  request.set_approval_id(id);
  auto early = w.authorizer.Authorize(request);
  REQUIRE(early.ok());
  CHECK(early->verdict() == V::DENY);

  auto approved = w.harness.fixture.datastore->ApproveApproval(id, "operator", "ok");
  REQUIRE_MESSAGE(approved.ok(), approved.status().ToString());
  auto allowed = w.authorizer.Authorize(request);
  REQUIRE(allowed.ok());
  CHECK_MESSAGE(allowed->verdict() == V::ALLOW, allowed->reason());
  CHECK(allowed->reason().find(id) != std::string::npos);
  auto replay = w.authorizer.Authorize(request);
  REQUIRE(replay.ok());
  CHECK(replay->verdict() == V::DENY);
  CHECK(replay->reason().find(id) != std::string::npos);

  REQUIRE(w.audit.Flush().ok());
  server::AuditFilter filter;
  filter.kind = "authorize";
  auto stored = w.harness.fixture.datastore->ListAuditEvents(filter);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 4);
  CHECK((*stored)[0].outcome == "APPROVAL_REQUIRED");
  CHECK((*stored)[2].outcome == "ALLOW");
  CHECK((*stored)[3].outcome == "DENY");
  for (const auto& event : *stored) {
    CHECK(event.actor == w.side.session->agent_id().ToString());
    CHECK(event.subject == kRunner);
    CHECK(event.zone == "tool-execution");
  }
  CHECK(nlohmann::json::parse((*stored)[2].details)["approval_id"] == id);
}

// A delegation as a validated delegation token gives it: `user` of the test issuer, acting
// through `chain` (current actor first), actors named with the agent's zones.
zones::DelegationContext OnBehalfOf(const StepUpWorld& w, const std::string& user,
                                    const std::vector<std::string>& chain) {
  zones::DelegationContext delegation;
  delegation.user = user;
  delegation.user_issuer = "https://idp.example.org";
  delegation.claims = {{"groups", {"sre"}}};
  for (const std::string& actor : chain) {
    auto id = common::SpiffeId::Parse(actor);
    REQUIRE(id.ok());
    delegation.actors.push_back({*id, zones::ActorPolicyName(*w.cache.Snapshot()->zones, *id)});
  }
  return delegation;
}

TEST_CASE(
    "step-up on behalf of a user: the approval is bound to alice and her chain, shown "
    "with them, and refused for bob") {
  StepUpWorld w;
  auto request = v1::AuthorizeRequest();
  request.set_jwt_svid(w.RunnerJwt());
  request.set_resource("tool:deploy.api");
  request.set_action("invoke");
  (*request.mutable_context())["environment"] = "production";
  const std::vector<std::string> chain = {kRunner, kModel};
  const zones::DelegationContext alice = OnBehalfOf(w, "alice@example.org", chain);

  auto required = w.authorizer.Authorize(request, alice);
  REQUIRE(required.ok());
  REQUIRE_MESSAGE(required->verdict() == V::APPROVAL_REQUIRED, required->reason());
  const std::string id = required->approval_id();
  auto stored = w.harness.fixture.datastore->GetApproval(id);
  REQUIRE(stored.ok());
  // What `approval show` gets from the admin API.
  const v1::Approval shown = server::ApprovalToProto(*stored, w.harness.fixture.clock.Now());
  CHECK(shown.user() == "alice@example.org");
  CHECK(shown.user_issuer() == "https://idp.example.org");
  CHECK(std::vector<std::string>(shown.actor_chain().begin(), shown.actor_chain().end()) == chain);
  REQUIRE(w.harness.fixture.datastore->ApproveApproval(id, "operator:ops", "CHG-3").ok());

  request.set_approval_id(id);
  auto bob = w.authorizer.Authorize(request, OnBehalfOf(w, "bob@example.org", chain));
  REQUIRE(bob.ok());
  CHECK(bob->verdict() == V::DENY);
  CHECK_MESSAGE(bob->reason().find("on behalf of \"alice@example.org\"") != std::string::npos,
                bob->reason());
  auto shorter = w.authorizer.Authorize(request, OnBehalfOf(w, "alice@example.org", {kRunner}));
  REQUIRE(shorter.ok());
  CHECK(shorter->verdict() == V::DENY);
  auto nobody = w.authorizer.Authorize(request);
  REQUIRE(nobody.ok());
  CHECK(nobody->verdict() == V::DENY);
  auto allowed = w.authorizer.Authorize(request, alice);
  REQUIRE(allowed.ok());
  CHECK_MESSAGE(allowed->verdict() == V::ALLOW, allowed->reason());

  // The decisions reach the audit log with the user and chain they were made for.
  REQUIRE(w.audit.Flush().ok());
  auto decisions = w.harness.fixture.datastore->ListAuditEvents({.kind = "authorize"});
  REQUIRE(decisions.ok());
  REQUIRE(decisions->size() == 5);
  CHECK((*decisions)[0].user == "alice@example.org");
  CHECK((*decisions)[0].actor_chain == chain);
  CHECK((*decisions)[1].user == "bob@example.org");
  CHECK((*decisions)[3].user.empty());
  CHECK((*decisions)[4].outcome == "ALLOW");
  CHECK((*decisions)[4].user_issuer == "https://idp.example.org");
  auto bobs = w.harness.fixture.datastore->ListAuditEvents({.user = "bob@example.org"});
  REQUIRE(bobs.ok());
  CHECK(bobs->size() == 2);  // the refused use, by the server and by the agent's decision
  auto all = w.harness.fixture.datastore->ListAuditEvents({});
  REQUIRE(all.ok());
  CHECK(zones::VerifyChain(*all).ok());
}

TEST_CASE("step-up against the real server: a stopped server is DENY, audit events wait") {
  StepUpWorld w;
  auto request = v1::AuthorizeRequest();
  request.set_jwt_svid(w.RunnerJwt());
  request.set_resource("tool:jira.create_ticket");
  request.set_action("invoke");
  (*request.mutable_context())["environment"] = "production";
  w.harness.Stop();
  auto denied = w.authorizer.Authorize(request);
  REQUIRE(denied.ok());
  CHECK(denied->verdict() == V::DENY);
  CHECK(denied->approval_id().empty());
  // Local decisions go on without the server.
  request.mutable_context()->clear();
  (*request.mutable_context())["environment"] = "staging";
  auto allowed = w.authorizer.Authorize(request);
  REQUIRE(allowed.ok());
  CHECK(allowed->verdict() == V::ALLOW);
  CHECK(!w.audit.Flush().ok());
  CHECK(w.audit.stats().queued == 2);

  w.harness.Start();
  bool delivered = false;
  for (int i = 0; i < 100 && !delivered; ++i) {  // the channel reconnects with backoff
    delivered = w.audit.Flush().ok();
    if (!delivered) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(delivered);
  server::AuditFilter filter;
  filter.kind = "authorize";
  auto stored = w.harness.fixture.datastore->ListAuditEvents(filter);
  REQUIRE(stored.ok());
  CHECK(stored->size() == 2);
}

}  // namespace
}  // namespace spinel::agent
