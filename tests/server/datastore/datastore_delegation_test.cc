// Contract tests for delegation in the datastore, run against every backend: approvals store
// the user (issuer and subject) and the exact actor chain they are bound to, an identical live
// request is reused only for the same user and chain, and an approval bound to one user and
// chain cannot be used for another; audit events keep their user and chain byte for byte, so
// the hash chain (canonical form v2 for delegated events) verifies, and are listed by user.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "server/datastore/datastore.h"
#include "tests/server/datastore/datastore_test_util.h"
#include "trust-zones/approval.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server::testing {
namespace {

constexpr char kRunner[] = "spiffe://tools.example.org/runner";
constexpr char kModel[] = "spiffe://inference.example.org/model-server";
constexpr char kRequester[] = "spiffe://spinel.example.org/spinel/agent/join_token/n1";
constexpr char kIssuer[] = "https://idp.example.org";

struct OnBehalf {
  std::string user_issuer;
  std::string user;
  std::vector<std::string> chain;
};

OnBehalf Alice() { return {kIssuer, "alice@example.org", {kRunner, kModel}}; }
OnBehalf Bob() { return {kIssuer, "bob@example.org", {kRunner, kModel}}; }
OnBehalf AliceDirect() { return {kIssuer, "alice@example.org", {kRunner}}; }

zones::ApprovalBinding Binding(const OnBehalf& who) {
  auto binding = zones::ApprovalBinding::Make(kRunner, "tool:deploy.prod", "invoke",
                                              {{"environment", "production"}});
  REQUIRE_MESSAGE(binding.ok(), binding.status().ToString());
  binding->user_issuer = who.user_issuer;
  binding->user = who.user;
  binding->actor_chain = who.chain;
  return *binding;
}

// A pending approval of `binding`, created at the backend's now with a 10m TTL.
ApprovalRecord NewApproval(const common::Clock& clock, std::string id,
                           const zones::ApprovalBinding& binding) {
  zones::NewApproval request{
      std::move(id),           binding, kRequester, "tool-execution", "tool-execution/deploy",
      std::chrono::minutes(10)};
  auto created = zones::ApprovalRequest::Create(std::move(request), clock);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return ApprovalRecord{*created, {{"environment", "production"}}};
}

AuditEvent Delegated(std::string kind, const OnBehalf& who) {
  AuditEvent e = Audit(std::move(kind), "ALLOW", "tool-execution");
  e.subject = kRunner;
  e.user_issuer = who.user_issuer;
  e.user = who.user;
  e.actor_chain = who.chain;
  return e;
}

TEST_CASE_TEMPLATE("delegation: an approval keeps its user and chain; reuse needs the same", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto alice = ds.CreateApproval(NewApproval(backend.clock, "apr-alice", Binding(Alice())));
  REQUIRE_MESSAGE(alice.ok(), alice.status().ToString());
  CHECK(alice->created);
  auto got = ds.GetApproval("apr-alice");
  REQUIRE(got.ok());
  CHECK(got->request.binding == Binding(Alice()));
  CHECK(got->request.binding.user == "alice@example.org");
  CHECK(got->request.binding.user_issuer == kIssuer);
  CHECK(got->request.binding.actor_chain == std::vector<std::string>{kRunner, kModel});

  // The same request for alice through the same chain is the live one.
  auto again = ds.CreateApproval(NewApproval(backend.clock, "apr-alice-2", Binding(Alice())));
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->approval.request.id == "apr-alice");

  // Another user, another chain, or nobody: each is a request of its own.
  const struct {
    const char* id;
    zones::ApprovalBinding binding;
  } others[] = {{"apr-bob", Binding(Bob())},
                {"apr-direct", Binding(AliceDirect())},
                {"apr-nobody", Binding({})}};
  for (const auto& other : others) {
    CAPTURE(other.id);
    auto created = ds.CreateApproval(NewApproval(backend.clock, other.id, other.binding));
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    CHECK(created->created);
    CHECK(ds.GetApproval(other.id)->request.binding == other.binding);
  }
  auto listed = ds.ListApprovals({});
  REQUIRE(listed.ok());
  CHECK(listed->size() == 4);
}

TEST_CASE_TEMPLATE(
    "delegation: an approval for alice via a chain is refused for bob or another chain", B,
    SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "apr-1", Binding(Alice()))).ok());
  REQUIRE(ds.ApproveApproval("apr-1", "operator:ops", "CHG-7").ok());

  auto bob = ds.UseApproval("apr-1", Binding(Bob()));
  CHECK(bob.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(bob.status().message(), "on behalf of \"alice@example.org\""));
  auto direct = ds.UseApproval("apr-1", Binding(AliceDirect()));
  CHECK(direct.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(direct.status().message(), "chain"));
  auto nobody = ds.UseApproval("apr-1", Binding({}));
  CHECK(nobody.status().code() == absl::StatusCode::kPermissionDenied);
  // Refusals consumed nothing: alice through her chain uses it, once.
  CHECK(ds.GetApproval("apr-1")->request.state == zones::ApprovalState::kApproved);
  auto used = ds.UseApproval("apr-1", Binding(Alice()));
  REQUIRE_MESSAGE(used.ok(), used.status().ToString());
  CHECK(used->request.state == zones::ApprovalState::kUsed);
  CHECK(ds.UseApproval("apr-1", Binding(Alice())).status().code() ==
        absl::StatusCode::kPermissionDenied);
}

TEST_CASE_TEMPLATE(
    "delegation: delegated audit events round-trip byte for byte; the chain verifies", B,
    SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.AppendAuditEvent(Audit("server.started")).ok());
  OnBehalf unusual = Alice();
  unusual.user = "Zoë \"z\" O'Brien, 東京";  // quotes, commas and multi-byte UTF-8
  auto stored =
      ds.AppendAuditEvents({Delegated("authorize", Alice()), Audit("x509_svid.issued"),
                            Delegated("approval.used", unusual), Delegated("authorize", Bob())});
  REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());

  auto all = ds.ListAuditEvents({});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 5);
  for (size_t i = 1; i < all->size(); ++i) {
    const AuditEvent& listed = (*all)[i];
    const AuditEvent& appended = (*stored)[i - 1];
    CAPTURE(listed.sequence);
    CHECK(listed.user_issuer == appended.user_issuer);
    CHECK(listed.user == appended.user);
    CHECK(listed.actor_chain == appended.actor_chain);
    CHECK(listed.hash == appended.hash);
  }
  CHECK((*all)[3].user == unusual.user);
  CHECK((*all)[1].actor_chain == std::vector<std::string>{kRunner, kModel});
  CHECK((*all)[2].user.empty());
  CHECK((*all)[2].actor_chain.empty());
  CHECK(zones::VerifyChain(*all).ok());
  // The delegation is hashed: the same event without it has another hash.
  AuditEvent stripped = (*all)[1];
  stripped.user_issuer.clear();
  stripped.user.clear();
  stripped.actor_chain.clear();
  CHECK(*zones::ComputeEventHash(stripped) != (*all)[1].hash);

  auto alices = ds.ListAuditEvents({.user = "alice@example.org"});
  REQUIRE(alices.ok());
  REQUIRE(alices->size() == 1);
  CHECK((*alices)[0].sequence == 2);
  auto bobs = ds.ListAuditEvents({.kind = "authorize", .user = "bob@example.org"});
  REQUIRE(bobs.ok());
  REQUIRE(bobs->size() == 1);
  CHECK((*bobs)[0].sequence == 5);
  CHECK(ds.ListAuditEvents({.user = "carol@example.org"})->empty());
}

TEST_CASE_TEMPLATE("delegation: malformed delegation in an audit event is refused", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  AuditEvent no_user = Delegated("authorize", Alice());
  no_user.user.clear();
  AuditEvent control = Delegated("authorize", Alice());
  control.actor_chain[1] = "spiffe://x/y\n";
  AuditEvent empty_actor = Delegated("authorize", Alice());
  empty_actor.actor_chain.push_back("");
  AuditEvent too_long = Delegated("authorize", Alice());
  too_long.actor_chain.assign(17, kRunner);
  for (const AuditEvent* bad : {&no_user, &control, &empty_actor, &too_long}) {
    auto refused = ds.AppendAuditEvent(*bad);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(Contains(ds.AppendAuditEvent(no_user).status().message(), "needs the user"));
  CHECK(Contains(ds.AppendAuditEvent(too_long).status().message(), "more than 16 actors"));
  CHECK(ds.ListAuditEvents({})->empty());
}

}  // namespace
}  // namespace spinel::server::testing
