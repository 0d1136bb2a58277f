#include "trust-zones/approval.h"

#include <doctest/doctest.h>

#include "tests/fakes/fake_clock.h"

using namespace std::chrono_literals;
using spinel::testing::FakeClock;
using spinel::zones::ApprovalBinding;
using spinel::zones::ApprovalRequest;
using spinel::zones::ApprovalState;
using spinel::zones::CanonicalContext;
using spinel::zones::ContextDigest;
using spinel::zones::NewApproval;
using spinel::zones::NewApprovalId;
using spinel::zones::RequestContext;

namespace {

const RequestContext kProd = {{"environment", "production"}, {"ticket", "OPS-1"}};

ApprovalBinding Binding(std::string subject = "spiffe://tools.ai.example.org/runner",
                        std::string resource = "tool:deploy.api", std::string action = "invoke",
                        const RequestContext& context = kProd) {
  absl::StatusOr<ApprovalBinding> b = ApprovalBinding::Make(subject, resource, action, context);
  REQUIRE(b.ok());
  return *std::move(b);
}

NewApproval New() {
  return NewApproval{"apr-1",
                     Binding(),
                     "spiffe://control.ai.example.org/agent/node-1",
                     "tool-execution",
                     "tool-execution/production-deploys",
                     10min};
}

ApprovalRequest Pending(const FakeClock& clock) {
  absl::StatusOr<ApprovalRequest> r = ApprovalRequest::Create(New(), clock);
  REQUIRE_MESSAGE(r.ok(), std::string(r.status().message()));
  return *std::move(r);
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("context digests are canonical and unambiguous") {
  CHECK(CanonicalContext({}) == "");
  CHECK(CanonicalContext({{"b", "2"}, {"a", "1"}}) == "1:a=1:1\n1:b=1:2\n");
  // Same text when joined naively, different contexts: different digests.
  CHECK(*ContextDigest({{"a", "b=c"}}) != *ContextDigest({{"a=b", "c"}}));
  CHECK(*ContextDigest({{"a", "1\nb=2"}}) != *ContextDigest({{"a", "1"}, {"b", "2"}}));
  CHECK(ContextDigest({})->size() == 64);
  CHECK(*ContextDigest({}) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // SHA-256("")
}

TEST_CASE("approve, then use exactly once") {
  FakeClock clock;
  ApprovalRequest r = Pending(clock);
  CHECK(r.state == ApprovalState::kPending);
  CHECK(r.expires_at == r.created_at + 10min);
  CHECK(r.StatusText(clock.Now()) == "pending");
  absl::Status s = r.Use(Binding(), clock);
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(Message(s).find("has not been approved") != std::string::npos);

  clock.Advance(1min);
  REQUIRE(r.Approve("alice", "change CHG-42", clock).ok());
  CHECK(r.state == ApprovalState::kApproved);
  CHECK(r.decided_by == "alice");
  CHECK(r.decided_at == clock.Now());
  CHECK(r.Approve("bob", "", clock).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(r.Deny("bob", "no", clock).code() == absl::StatusCode::kFailedPrecondition);

  clock.Advance(1min);
  REQUIRE(r.Use(Binding(), clock).ok());
  CHECK(r.state == ApprovalState::kUsed);
  CHECK(r.used_at == clock.Now());
  s = r.Use(Binding(), clock);
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(Message(s).find("already used at 2027-01-15T08:02:00Z") != std::string::npos);
}

TEST_CASE(
    "a use that differs in subject, resource, action or context fails and does not "
    "consume the approval") {
  struct Case {
    const char* what;
    ApprovalBinding presented;
    const char* reason;
  };
  RequestContext other_context = kProd;
  other_context["ticket"] = "OPS-2";
  RequestContext extra_key = kProd;
  extra_key["dry_run"] = "false";
  const Case cases[] = {
      {"other subject", Binding("spiffe://tools.ai.example.org/other"),
       "granted for subject \"spiffe://tools.ai.example.org/runner\", not "
       "\"spiffe://tools.ai.example.org/other\""},
      {"other resource", Binding("spiffe://tools.ai.example.org/runner", "tool:deploy.db"),
       "granted for resource \"tool:deploy.api\", not \"tool:deploy.db\""},
      {"other action", Binding("spiffe://tools.ai.example.org/runner", "tool:deploy.api", "call"),
       "granted for action \"invoke\", not \"call\""},
      {"other context value",
       Binding("spiffe://tools.ai.example.org/runner", "tool:deploy.api", "invoke", other_context),
       "request context differs"},
      {"extra context key",
       Binding("spiffe://tools.ai.example.org/runner", "tool:deploy.api", "invoke", extra_key),
       "request context differs"},
      {"empty context",
       Binding("spiffe://tools.ai.example.org/runner", "tool:deploy.api", "invoke", {}),
       "request context differs"},
  };
  FakeClock clock;
  ApprovalRequest r = Pending(clock);
  REQUIRE(r.Approve("alice", "", clock).ok());
  for (const Case& c : cases) {
    CAPTURE(c.what);
    absl::Status s = r.Use(c.presented, clock);
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    CHECK(Message(s).find(c.reason) != std::string::npos);
    CHECK(r.state == ApprovalState::kApproved);
  }
  CHECK(r.Use(Binding(), clock).ok());
}

TEST_CASE("expired approvals can be neither approved nor used") {
  FakeClock clock;
  ApprovalRequest pending = Pending(clock);
  ApprovalRequest approved = Pending(clock);
  REQUIRE(approved.Approve("alice", "", clock).ok());
  clock.Advance(10min - 1ms);
  CHECK(approved.StatusText(clock.Now()) == "approved");
  clock.Advance(1ms);  // expires_at is exclusive
  CHECK(approved.StatusText(clock.Now()) == "expired");
  CHECK(pending.StatusText(clock.Now()) == "expired");
  absl::Status s = approved.Use(Binding(), clock);
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(Message(s).find("expired at 2027-01-15T08:10:00Z") != std::string::npos);
  s = pending.Approve("alice", "", clock);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Message(s).find("expired") != std::string::npos);
  CHECK(pending.state == ApprovalState::kPending);
  // Refusing an expired request is harmless and records the operator's reason.
  CHECK(pending.Deny("alice", "too late", clock).ok());
}

TEST_CASE("a denied approval cannot be used or approved") {
  FakeClock clock;
  ApprovalRequest r = Pending(clock);
  CHECK(r.Deny("alice", "", clock).code() == absl::StatusCode::kInvalidArgument);  // reason
  CHECK(r.Deny("", "no", clock).code() == absl::StatusCode::kInvalidArgument);     // approver
  REQUIRE(r.Deny("alice", "not during the freeze", clock).ok());
  CHECK(r.state == ApprovalState::kDenied);
  CHECK(r.StatusText(clock.Now()) == "denied");
  absl::Status s = r.Use(Binding(), clock);
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(Message(s) ==
        "approval apr-1 cannot be used: it was denied by alice: not during the "
        "freeze");
  CHECK(r.Approve("bob", "", clock).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Create validates the request") {
  struct Case {
    const char* what;
    void (*mutate)(NewApproval&);
    const char* expected;
  };
  const Case cases[] = {
      {"empty id", [](NewApproval& n) { n.id.clear(); }, "approval id: must not be empty"},
      {"bad subject", [](NewApproval& n) { n.binding.subject = "web"; }, "approval subject:"},
      {"bad agent", [](NewApproval& n) { n.requesting_agent = ""; }, "approval requesting_agent:"},
      {"bad resource", [](NewApproval& n) { n.binding.resource = "x"; }, "approval resource:"},
      {"bad resource name", [](NewApproval& n) { n.binding.resource = "tool:a/../b"; },
       "approval resource: resource name"},
      {"bad action", [](NewApproval& n) { n.binding.action = "read"; }, "approval action:"},
      {"bad digest", [](NewApproval& n) { n.binding.context_digest = "abc"; },
       "approval context_digest:"},
      {"zero ttl", [](NewApproval& n) { n.ttl = {}; }, "approval ttl:"},
  };
  FakeClock clock;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    NewApproval n = New();
    c.mutate(n);
    absl::StatusOr<ApprovalRequest> r = ApprovalRequest::Create(n, clock);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(r.status()).find(c.expected) != std::string::npos);
  }
}

TEST_CASE("approval ids are random and well formed") {
  absl::StatusOr<std::string> a = NewApprovalId();
  absl::StatusOr<std::string> b = NewApprovalId();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == 36);
  CHECK(a->rfind("apr-", 0) == 0);
  CHECK(*a != *b);
}

namespace {

const char kRunner[] = "spiffe://tools.ai.example.org/runner";
const char kAgent[] = "spiffe://inference.ai.example.org/agent";

spinel::zones::DelegationContext OnBehalfOf(std::string user, std::vector<std::string> chain) {
  spinel::zones::DelegationContext out;
  out.user = std::move(user);
  out.user_issuer = "https://idp.example.org";
  for (const std::string& id : chain)
    out.actors.push_back({*spinel::common::SpiffeId::Parse(id), id});
  return out;
}

ApprovalBinding DelegatedBinding(std::string user, std::vector<std::string> chain) {
  const spinel::zones::DelegationContext delegation = OnBehalfOf(std::move(user), std::move(chain));
  auto b = ApprovalBinding::Make(kRunner, "tool:deploy.api", "invoke", kProd, &delegation);
  REQUIRE(b.ok());
  return *std::move(b);
}

}  // namespace

TEST_CASE("an approval for alice via a chain covers neither bob, another chain, nor nobody") {
  const ApprovalBinding alice = DelegatedBinding("alice", {kRunner, kAgent});
  CHECK(alice.delegated());
  CHECK(alice.user == "alice");
  CHECK(alice.user_issuer == "https://idp.example.org");
  CHECK(alice.actor_chain == std::vector<std::string>{kRunner, kAgent});
  NewApproval request = New();
  request.binding = alice;
  FakeClock clock;
  auto r = ApprovalRequest::Create(request, clock);
  REQUIRE_MESSAGE(r.ok(), Message(r.status()));
  REQUIRE(r->Approve("operator", "CHG-7 for alice", clock).ok());

  struct Case {
    const char* what;
    ApprovalBinding presented;
    const char* reason;
  };
  ApprovalBinding other_issuer = alice;
  other_issuer.user_issuer = "https://evil.example.org";
  const Case cases[] = {
      {"bob", DelegatedBinding("bob", {kRunner, kAgent}),
       "granted on behalf of \"alice\" of \"https://idp.example.org\", not \"bob\""},
      {"alice of another issuer", other_issuer, "granted on behalf of \"alice\""},
      {"another chain",
       DelegatedBinding("alice", {kRunner, "spiffe://inference.ai.example.org/other"}),
       "granted for the chain spiffe://tools.ai.example.org/runner <- "
       "spiffe://inference.ai.example.org/agent, not "},
      {"a shorter chain", DelegatedBinding("alice", {kRunner}), "granted for the chain"},
      {"nobody", Binding(),
       "granted on behalf of \"alice\" of \"https://idp.example.org\", not "
       "nobody"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    absl::Status s = r->Use(c.presented, clock);
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    CHECK_MESSAGE(Message(s).find(c.reason) != std::string::npos, Message(s));
    CHECK(r->state == ApprovalState::kApproved);
  }
  CHECK(r->Use(DelegatedBinding("alice", {kRunner, kAgent}), clock).ok());

  // And an approval for nobody does not cover alice.
  auto plain = ApprovalRequest::Create(New(), clock);
  REQUIRE(plain.ok());
  REQUIRE(plain->Approve("operator", "", clock).ok());
  CHECK(Message(plain->Use(alice, clock)).find("granted on behalf of nobody, not \"alice\"") !=
        std::string::npos);
}

TEST_CASE("Create validates the delegation of a binding") {
  FakeClock clock;
  auto invalid = [&](ApprovalBinding binding, const char* field) {
    NewApproval request = New();
    request.binding = std::move(binding);
    auto r = ApprovalRequest::Create(request, clock);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(Message(r.status()).find(field) != std::string::npos, Message(r.status()));
  };
  ApprovalBinding b = DelegatedBinding("alice", {kRunner, kAgent});
  b.user_issuer.clear();
  invalid(b, "approval user:");
  b = DelegatedBinding("alice", {kRunner});
  b.actor_chain.clear();
  invalid(b, "approval actor_chain:");
  b = DelegatedBinding("alice", {kAgent});  // the current actor is not the subject
  invalid(b, "approval actor_chain: the current actor");
  b = DelegatedBinding("alice", {kRunner});
  b.actor_chain.push_back("not-a-spiffe-id");
  invalid(b, "approval actor_chain:");
  b = Binding();
  b.actor_chain = {kRunner};  // a chain without a user
  invalid(b, "approval user:");
}
