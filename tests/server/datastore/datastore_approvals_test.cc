// Contract tests for step-up approvals and batched audit appends, run against every backend.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/datastore/datastore.h"
#include "tests/server/datastore/datastore_test_util.h"
#include "trust-zones/approval.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server::testing {
namespace {

constexpr char kSubject[] = "spiffe://tools.example.org/agent-runner";
constexpr char kRequester[] = "spiffe://spinel.example.org/spinel/agent/join_token/n1";

zones::RequestContext Production() { return {{"environment", "production"}}; }

// A pending approval for invoking `resource`, created at the backend's now with a 10m TTL.
ApprovalRecord NewApproval(const common::Clock& clock, std::string id,
                           std::string resource = "tool:deploy.prod",
                           zones::RequestContext context = Production(),
                           std::string zone = "tool-execution") {
  auto binding = zones::ApprovalBinding::Make(kSubject, std::move(resource), "invoke", context);
  REQUIRE_MESSAGE(binding.ok(), binding.status().ToString());
  zones::NewApproval request{
      std::move(id),           *binding, kRequester, std::move(zone), "tool-execution/deploy",
      std::chrono::minutes(10)};
  auto created = zones::ApprovalRequest::Create(std::move(request), clock);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return ApprovalRecord{*created, std::move(context)};
}

zones::ApprovalBinding BindingOf(const ApprovalRecord& approval) {
  return approval.request.binding;
}

std::vector<std::string> Ids(const std::vector<ApprovalRecord>& approvals) {
  std::vector<std::string> out;
  for (const ApprovalRecord& a : approvals) out.push_back(a.request.id);
  return out;
}

TEST_CASE_TEMPLATE("approvals: create, get, and an identical live request is reused", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto created = ds.CreateApproval(NewApproval(backend.clock, "apr-1"));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(created->created);
  auto got = ds.GetApproval("apr-1");
  REQUIRE(got.ok());
  CHECK(got->request.binding == created->approval.request.binding);
  CHECK(got->context == Production());
  CHECK(got->request.requesting_agent == kRequester);
  CHECK(got->request.rule_id == "tool-execution/deploy");
  CHECK(got->request.state == zones::ApprovalState::kPending);
  CHECK(got->request.expires_at == backend.clock.Now() + std::chrono::minutes(10));

  // Same binding while the first is pending: the first comes back, nothing new is stored.
  backend.clock.Advance(std::chrono::minutes(1));
  auto again = ds.CreateApproval(NewApproval(backend.clock, "apr-2"));
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->approval.request.id == "apr-1");
  CHECK(ds.GetApproval("apr-2").status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.GetApproval("apr-2").status().message() == "approval \"apr-2\" not found");

  // A different context is a different request.
  auto other = ds.CreateApproval(
      NewApproval(backend.clock, "apr-3", "tool:deploy.prod", {{"environment", "staging"}}));
  REQUIRE(other.ok());
  CHECK(other->created);

  // Once the first expired, an identical request gets a new approval.
  backend.clock.Advance(std::chrono::minutes(10));
  auto fresh = ds.CreateApproval(NewApproval(backend.clock, "apr-4"));
  REQUIRE(fresh.ok());
  CHECK(fresh->created);
  CHECK(fresh->approval.request.id == "apr-4");
}

TEST_CASE_TEMPLATE("approvals: bad input is refused and stores nothing", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "apr-1")).ok());

  ApprovalRecord taken = NewApproval(backend.clock, "apr-1", "tool:other");
  CHECK(ds.CreateApproval(taken).status().code() == absl::StatusCode::kAlreadyExists);

  ApprovalRecord no_id = NewApproval(backend.clock, "apr-x", "tool:x");
  no_id.request.id.clear();
  CHECK(ds.CreateApproval(no_id).status().code() == absl::StatusCode::kInvalidArgument);

  ApprovalRecord wrong_context = NewApproval(backend.clock, "apr-9", "tool:y");
  wrong_context.context = {{"environment", "staging"}};
  auto refused = ds.CreateApproval(wrong_context);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(refused.status().message(), "does not match the context digest"));
  CHECK(ds.ListApprovals({})->size() == 1);
}

TEST_CASE_TEMPLATE("approvals: list filters by operator-visible state and zone", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  for (const char* id : {"a-pending", "a-approved", "a-denied", "a-used", "a-expired"}) {
    REQUIRE(ds.CreateApproval(NewApproval(backend.clock, id, std::string("tool:") + id)).ok());
    backend.clock.Advance(std::chrono::seconds(1));
  }
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "b-other-zone", "tool:other-zone",
                                        Production(), "training"))
              .ok());
  REQUIRE(ds.ApproveApproval("a-approved", "operator:alice", "ok").ok());
  REQUIRE(ds.DenyApproval("a-denied", "operator:alice", "no").ok());
  auto used = ds.GetApproval("a-used");
  REQUIRE(ds.ApproveApproval("a-used", "operator:alice", "ok").ok());
  REQUIRE(ds.UseApproval("a-used", BindingOf(*used)).ok());
  REQUIRE(ds.ApproveApproval("a-expired", "operator:alice", "ok").ok());
  // a-expired was created at +4s: move to just past its expiry, before b-other-zone's (+5s).
  backend.clock.Advance(std::chrono::minutes(10) - std::chrono::seconds(1));

  auto all = ds.ListApprovals({});
  REQUIRE(all.ok());
  CHECK(Ids(*all) == std::vector<std::string>{"b-other-zone", "a-expired", "a-used", "a-denied",
                                              "a-approved", "a-pending"});
  auto Listed = [&](const char* state) {
    auto listed = ds.ListApprovals({.state = state, .zone = "tool-execution"});
    REQUIRE_MESSAGE(listed.ok(), listed.status().ToString());
    return Ids(*listed);
  };
  // a-pending (+0s) and a-approved (+1s) expired too: created before a-expired.
  CHECK(Listed("pending") == std::vector<std::string>{});
  CHECK(Listed("expired") == std::vector<std::string>{"a-expired", "a-approved", "a-pending"});
  CHECK(Listed("denied") == std::vector<std::string>{"a-denied"});
  CHECK(Listed("used") == std::vector<std::string>{"a-used"});
  CHECK(Ids(*ds.ListApprovals({.state = "pending"})) == std::vector<std::string>{"b-other-zone"});
  CHECK(Ids(*ds.ListApprovals({.zone = "training"})) == std::vector<std::string>{"b-other-zone"});

  auto bad = ds.ListApprovals({.state = "granted"});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(bad.status().message(), "\"granted\""));
}

TEST_CASE_TEMPLATE("approvals: transitions follow the state machine and refusals change nothing", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "apr-1")).ok());
  const zones::ApprovalBinding binding = BindingOf(*ds.GetApproval("apr-1"));

  auto early = ds.UseApproval("apr-1", binding);
  CHECK(early.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(early.status().message(), "has not been approved"));

  backend.clock.Advance(std::chrono::seconds(30));
  auto approved = ds.ApproveApproval("apr-1", "operator:alice", "change ticket 42");
  REQUIRE(approved.ok());
  CHECK(approved->request.state == zones::ApprovalState::kApproved);
  CHECK(ds.GetApproval("apr-1")->request.state == zones::ApprovalState::kApproved);
  CHECK(ds.GetApproval("apr-1")->request.decided_at == approved->request.decided_at);
  CHECK(approved->request.decided_by == "operator:alice");
  CHECK(approved->request.decision_reason == "change ticket 42");
  CHECK(approved->request.decided_at == backend.clock.Now());
  CHECK(ds.DenyApproval("apr-1", "operator:bob", "late").status().code() ==
        absl::StatusCode::kFailedPrecondition);

  zones::ApprovalBinding other = binding;
  other.subject = "spiffe://tools.example.org/someone-else";
  auto mismatch = ds.UseApproval("apr-1", other);
  CHECK(mismatch.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(ds.GetApproval("apr-1")->request.state == zones::ApprovalState::kApproved);

  auto used = ds.UseApproval("apr-1", binding);
  REQUIRE(used.ok());
  CHECK(used->request.state == zones::ApprovalState::kUsed);
  CHECK(used->request.used_at == backend.clock.Now());
  auto twice = ds.UseApproval("apr-1", binding);
  CHECK(twice.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(twice.status().message(), "already used"));

  CHECK(ds.ApproveApproval("nope", "operator:alice", "").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(ds.UseApproval("nope", binding).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE_TEMPLATE("approvals: expired or denied approvals cannot be approved or used", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "late")).ok());
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "denied", "tool:other")).ok());
  auto empty_reason = ds.DenyApproval("denied", "operator:alice", "");
  CHECK(empty_reason.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(ds.DenyApproval("denied", "operator:alice", "not in a change window").ok());
  auto use_denied = ds.UseApproval("denied", BindingOf(*ds.GetApproval("denied")));
  CHECK(use_denied.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(use_denied.status().message(), "not in a change window"));

  backend.clock.Advance(std::chrono::minutes(10));
  auto approve_late = ds.ApproveApproval("late", "operator:alice", "");
  CHECK(approve_late.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(approve_late.status().message(), "expired"));
  CHECK(ds.GetApproval("late")->request.state == zones::ApprovalState::kPending);
}

TEST_CASE_TEMPLATE("approvals: of many concurrent uses exactly one succeeds", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateApproval(NewApproval(backend.clock, "apr-race")).ok());
  REQUIRE(ds.ApproveApproval("apr-race", "operator:alice", "ok").ok());
  const zones::ApprovalBinding binding = BindingOf(*ds.GetApproval("apr-race"));
  std::atomic<int> ok{0};
  std::atomic<int> denied{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        absl::StatusOr<ApprovalRecord> used = ds.UseApproval("apr-race", binding);
        if (used.ok()) ++ok;
        if (used.status().code() == absl::StatusCode::kPermissionDenied) ++denied;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(ok.load() == 1);
  CHECK(denied.load() == 39);
  CHECK(ds.GetApproval("apr-race")->request.state == zones::ApprovalState::kUsed);
}

TEST_CASE("approvals: two datastores on one file never both use an approval") {
  TempDir dir;
  spinel::testing::FakeClock clock;
  auto first = OpenSqlite(dir.File("spinel.db"), clock);
  auto second = OpenSqlite(dir.File("spinel.db"), clock);
  REQUIRE(first->CreateApproval(NewApproval(clock, "apr-x")).ok());
  REQUIRE(second->ApproveApproval("apr-x", "operator:alice", "ok").ok());
  const zones::ApprovalBinding binding = BindingOf(*first->GetApproval("apr-x"));
  std::atomic<int> ok{0};
  std::thread a([&] { ok += first->UseApproval("apr-x", binding).ok() ? 1 : 0; });
  std::thread b([&] { ok += second->UseApproval("apr-x", binding).ok() ? 1 : 0; });
  a.join();
  b.join();
  CHECK(ok.load() == 1);
}

TEST_CASE_TEMPLATE("audit: a batch is appended in one transaction, chained, or not at all", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.AppendAuditEvent(Audit("server.started")).ok());
  auto stored = ds.AppendAuditEvents(
      {Audit("authorize", "ALLOW", "inference"), Audit("authorize", "DENY", "training")});
  REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());
  REQUIRE(stored->size() == 2);
  CHECK((*stored)[0].sequence == 2);
  CHECK((*stored)[1].sequence == 3);
  CHECK((*stored)[1].prev_hash == (*stored)[0].hash);
  CHECK(ds.AppendAuditEvents({})->empty());

  AuditEvent bad = Audit("authorize");
  bad.actor = "line\nbreak";
  auto refused = ds.AppendAuditEvents({Audit("authorize"), bad});
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(refused.status().message(), "audit event 1"));

  auto all = ds.ListAuditEvents({});
  REQUIRE(all.ok());
  CHECK(all->size() == 3);  // nothing of the refused batch
  CHECK(zones::VerifyChain(*all).ok());
}

TEST_CASE_TEMPLATE("audit: list by kind, and the newest N in sequence order", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(ds.AppendAuditEvent(Audit(i % 2 == 0 ? "x509_svid.issued" : "authorize")).ok());
  }
  auto issued = ds.ListAuditEvents({.kind = "x509_svid.issued"});
  REQUIRE(issued.ok());
  REQUIRE(issued->size() == 3);
  CHECK((*issued)[2].sequence == 5);

  auto newest = ds.ListAuditEvents({.limit = 2, .newest = true});
  REQUIRE(newest.ok());
  REQUIRE(newest->size() == 2);
  CHECK((*newest)[0].sequence == 4);
  CHECK((*newest)[1].sequence == 5);
  auto oldest = ds.ListAuditEvents({.limit = 2});
  REQUIRE(oldest->size() == 2);
  CHECK((*oldest)[0].sequence == 1);
}

}  // namespace
}  // namespace spinel::server::testing
