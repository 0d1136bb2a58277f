// Authorizer: decisions on the shipped zones with real SVIDs, the step-up approval path, the
// refusals, and the audit event every call produces.
#include "agent/authz/authorizer.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/server_client.h"
#include "tests/agent/authz/authz_fakes.h"
#include "tests/agent/authz/authz_world.h"

namespace spinel::agent {
namespace {

using spinel::testing::ApprovalLedger;
using spinel::testing::AuditInbox;
using spinel::testing::AuthzWorld;
using V = v1::AuthorizeResponse;
using namespace std::chrono_literals;

struct Harness {
  explicit Harness(bool push_policy = true) : world(push_policy) {}
  AuthzWorld world;
  ApprovalLedger approvals{world.clock};
  AuditInbox inbox;
  AuditForwarder audit{inbox, world.clock};
  Authorizer authorizer{world.cache, approvals, audit, world.clock};

  // The events recorded so far (delivered through the forwarder).
  std::vector<v1::AuditEvent> Events() {
    REQUIRE(audit.Flush().ok());
    return inbox.events();
  }
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct DecisionCase {
  const char* td;
  const char* path;
  const char* resource;
  const char* action;
  std::map<std::string, std::string> context;
  V::Verdict verdict;
  const char* rule;  // "" = no rule matched
};

TEST_CASE("authorizer: decisions on the shipped zones (JWT-SVID subjects)") {
  Harness h;
  const DecisionCase cases[] = {
      {AuthzWorld::kTraining,
       "/trainer",
       "dataset:training/imagenet/v2",
       "read",
       {},
       V::ALLOW,
       "training/read-training-data"},
      {AuthzWorld::kTraining,
       "/trainer",
       "dataset:checkpoints/run-7/step-100",
       "write",
       {},
       V::ALLOW,
       "training/checkpoints"},
      {AuthzWorld::kTraining,
       "/trainer",
       "tool:jira.create_ticket",
       "invoke",
       {{"environment", "production"}},
       V::DENY,
       "training/no-tools"},
      {AuthzWorld::kTraining,
       "/trainer",
       "dataset:models/production/llama",
       "read",
       {},
       V::DENY,
       ""},
      {AuthzWorld::kInference,
       "/model-server",
       "dataset:models/production/llama/weights",
       "read",
       {},
       V::ALLOW,
       "inference/read-model-weights"},
      {AuthzWorld::kInference,
       "/model-server",
       "dataset:models/production/llama/weights",
       "write",
       {},
       V::DENY,
       "inference/weights-are-read-only"},
      {AuthzWorld::kInference,
       "/model-server",
       "zone:retrieval",
       "call",
       {},
       V::ALLOW,
       "inference/call-retrieval"},
      {AuthzWorld::kInference, "/model-server", "zone:training", "call", {}, V::DENY, ""},
      {AuthzWorld::kInference,
       "/model-server",
       "tool:search.web",
       "invoke",
       {{"environment", "development"}},
       V::ALLOW,
       "inference/invoke-tools"},
      {AuthzWorld::kTools,
       "/runner",
       "tool:deploy.api",
       "invoke",
       {{"environment", "production"}},
       V::APPROVAL_REQUIRED,
       "tool-execution/production-deploys"},
      {AuthzWorld::kTools,
       "/runner",
       "tool:jira.create_ticket",
       "invoke",
       {{"environment", "production"}},
       V::APPROVAL_REQUIRED,
       "tool-execution/production-tickets"},
      {AuthzWorld::kTools,
       "/runner",
       "tool:deploy.api",
       "invoke",
       {{"environment", "staging"}},
       V::ALLOW,
       "tool-execution/invoke-tools"},
      {AuthzWorld::kTools, "/runner", "tool:deploy.api", "invoke", {}, V::DENY, ""},
      {AuthzWorld::kTools,
       "/runner",
       "dataset:models/production/llama",
       "read",
       {},
       V::DENY,
       "tool-execution/no-model-data"},
      {AuthzWorld::kTools, "/runner", "tool:deploy.api", "explode", {}, V::DENY, ""},
      {AuthzWorld::kRetrieval,
       "/retriever",
       "dataset:restricted/hr/salaries",
       "read",
       {{"on_behalf_of", "hr-analysts"}},  // context is not a verified user
       V::DENY,
       ""},
      {AuthzWorld::kRetrieval,
       "/retriever",
       "dataset:restricted/hr/salaries",
       "read",
       {{"on_behalf_of", "marketing"}},
       V::DENY,
       ""},
      {AuthzWorld::kRetrieval,
       "/retriever",
       "dataset:restricted/hr/salaries",
       "write",
       {{"on_behalf_of", "hr-analysts"}},
       V::DENY,
       "retrieval/restricted-read-only"},
      {AuthzWorld::kRetrieval,
       "/retriever",
       "secret:retrieval/confluence-token",
       "read",
       {},
       V::ALLOW,
       "retrieval/store-credentials"},
  };
  for (const DecisionCase& c : cases) {
    CAPTURE(c.resource);
    CAPTURE(c.action);
    CAPTURE(c.td);
    auto response = h.authorizer.Authorize(
        AuthzWorld::Request(h.world.Jwt(c.td, c.path), c.resource, c.action, c.context));
    REQUIRE_MESSAGE(response.ok(), response.status().ToString());
    CHECK(V::Verdict_Name(response->verdict()) == V::Verdict_Name(c.verdict));
    CHECK(response->rule() == c.rule);
    CHECK(response->subject() == std::string("spiffe://") + c.td + c.path);
    CHECK(!response->reason().empty());
    if (*c.rule != '\0') {
      CHECK(Contains(c.rule, response->zone() + "/"));
      CHECK(Contains(response->reason(), c.rule));
    } else {
      CHECK(response->zone().empty());
    }
    CHECK((response->verdict() == V::APPROVAL_REQUIRED) == !response->approval_id().empty());
  }
}

TEST_CASE("authorizer: an X509-SVID chain is as good a subject proof as a JWT-SVID") {
  Harness h;
  v1::AuthorizeRequest request;
  *request.mutable_x509_svid() = h.world.X509(AuthzWorld::kTraining, "/trainer");
  request.set_resource("tool:jira.create_ticket");
  request.set_action("invoke");
  auto denied = h.authorizer.Authorize(request);
  REQUIRE(denied.ok());
  CHECK(denied->verdict() == V::DENY);
  CHECK(denied->rule() == "training/no-tools");
  request.set_resource("dataset:training/imagenet");
  request.set_action("list");
  auto allowed = h.authorizer.Authorize(request);
  REQUIRE(allowed.ok());
  CHECK(allowed->verdict() == V::ALLOW);
  CHECK(allowed->subject() == "spiffe://training.ai.example.org/trainer");
}

TEST_CASE("authorizer: refusals carry the contract's codes and change nothing") {
  Harness h;
  const std::string token = h.world.Jwt(AuthzWorld::kTools, "/runner");
  struct Case {
    const char* name;
    v1::AuthorizeRequest request;
    absl::StatusCode code;
  };
  v1::AuthorizeRequest no_subject = AuthzWorld::Request(token, "tool:x", "invoke");
  no_subject.clear_jwt_svid();
  v1::AuthorizeRequest big_context = AuthzWorld::Request(token, "tool:x", "invoke");
  for (int i = 0; i <= 64; ++i) (*big_context.mutable_context())["k" + std::to_string(i)] = "v";
  const Case cases[] = {
      {"no subject", no_subject, absl::StatusCode::kInvalidArgument},
      {"empty resource", AuthzWorld::Request(token, "", "invoke"),
       absl::StatusCode::kInvalidArgument},
      {"empty action", AuthzWorld::Request(token, "tool:x", ""),
       absl::StatusCode::kInvalidArgument},
      {"too many context entries", big_context, absl::StatusCode::kInvalidArgument},
      {"wrong audience",
       AuthzWorld::Request(h.world.Jwt(AuthzWorld::kTools, "/runner", {"x"}), "tool:x", "invoke"),
       absl::StatusCode::kUnauthenticated},
      {"unknown trust domain",
       AuthzWorld::Request(h.world.Jwt(AuthzWorld::kOther, "/x"), "tool:x", "invoke"),
       absl::StatusCode::kUnauthenticated},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto refused = h.authorizer.Authorize(c.request);
    REQUIRE(!refused.ok());
    CHECK(refused.status().code() == c.code);
  }
  CHECK(h.approvals.creates() == 0);
  std::vector<v1::AuditEvent> events = h.Events();
  REQUIRE(events.size() == std::size(cases));
  for (const v1::AuditEvent& event : events) {
    CHECK(event.kind() == "authorize");
    CHECK(event.outcome() == "error");
    CHECK(event.subject().empty());  // never proved
    auto details = nlohmann::json::parse(event.details());
    CHECK(details.contains("error_code"));
  }
  CHECK(Contains(events.back().reason(), "UNAUTHENTICATED"));
}

TEST_CASE("authorizer: UNAVAILABLE until a policy with zone files has arrived") {
  Harness h(/*push_policy=*/false);
  const auto request = AuthzWorld::Request(h.world.Jwt(AuthzWorld::kTools, "/runner"), "tool:x",
                                           "invoke", {{"environment", "staging"}});
  CHECK(h.authorizer.Authorize(request).status().code() == absl::StatusCode::kUnavailable);
  // An older server's document (peers only, no zone_files) still leaves no zones.
  h.world.Push(spinel::testing::ShippedPolicyDocument(/*with_zone_files=*/false));
  CHECK(h.world.cache.Snapshot()->zones == nullptr);
  CHECK(!h.world.cache.Snapshot()->peers.empty());
  CHECK(h.authorizer.Authorize(request).status().code() == absl::StatusCode::kUnavailable);
  h.world.Push(spinel::testing::ShippedPolicyDocument());
  auto allowed = h.authorizer.Authorize(request);
  REQUIRE(allowed.ok());
  CHECK(allowed->verdict() == V::ALLOW);
}

TEST_CASE("authorizer: the step-up flow: requested, pending, approved once, then used") {
  Harness h;
  const std::map<std::string, std::string> prod = {{"environment", "production"}};
  const std::string token = h.world.Jwt(AuthzWorld::kTools, "/runner");
  auto request = AuthzWorld::Request(token, "tool:deploy.api", "invoke", prod);

  auto required = h.authorizer.Authorize(request);
  REQUIRE(required.ok());
  REQUIRE(required->verdict() == V::APPROVAL_REQUIRED);
  const std::string id = required->approval_id();
  CHECK(id.rfind("apr-", 0) == 0);
  CHECK(required->approval_expires_at() > common::ToUnixSeconds(h.world.clock.Now()));
  CHECK(Contains(required->reason(), id));

  request.set_approval_id(id);
  auto pending = h.authorizer.Authorize(request);
  REQUIRE(pending.ok());
  CHECK(pending->verdict() == V::DENY);
  CHECK(Contains(pending->reason(), "not been approved"));

  h.approvals.Approve(id);
  auto other_context = request;
  (*other_context.mutable_context())["environment"] = "production";
  (*other_context.mutable_context())["ticket"] = "OPS-1";
  auto mismatch = h.authorizer.Authorize(other_context);
  REQUIRE(mismatch.ok());
  CHECK(mismatch->verdict() == V::DENY);
  CHECK(Contains(mismatch->reason(), "context"));

  auto allowed = h.authorizer.Authorize(request);
  REQUIRE(allowed.ok());
  CHECK(allowed->verdict() == V::ALLOW);
  CHECK(allowed->approval_id() == id);
  CHECK(Contains(allowed->reason(), "approval " + id));
  CHECK(allowed->rule() == "tool-execution/production-deploys");

  auto again = h.authorizer.Authorize(request);
  REQUIRE(again.ok());
  CHECK(again->verdict() == V::DENY);
  CHECK(Contains(again->reason(), id));

  std::vector<v1::AuditEvent> events = h.Events();
  REQUIRE(events.size() == 5);
  CHECK(events[0].outcome() == "APPROVAL_REQUIRED");
  CHECK(events[3].outcome() == "ALLOW");
  CHECK(events[4].outcome() == "DENY");
  auto details = nlohmann::json::parse(events[3].details());
  CHECK(details["approval_id"] == id);
  CHECK(details["rule"] == "tool-execution/production-deploys");
  CHECK(details["resource"] == "tool:deploy.api");
  CHECK(details["action"] == "invoke");
  CHECK(details["proof"] == "jwt-svid");
  CHECK(details["context_digest"].get<std::string>().size() == 64);
  CHECK(events[3].subject() == "spiffe://tools.ai.example.org/runner");
  CHECK(events[3].zone() == "tool-execution");
  CHECK(events[3].time_ms() == std::chrono::duration_cast<std::chrono::milliseconds>(
                                   h.world.clock.Now().time_since_epoch())
                                   .count());
}

TEST_CASE("authorizer: an approval expires with the injected clock") {
  Harness h;
  auto request =
      AuthzWorld::Request(h.world.Jwt(AuthzWorld::kTools, "/runner", {"spinel-authorize"}, 1h),
                          "tool:jira.create_ticket", "invoke", {{"environment", "production"}});
  auto required = h.authorizer.Authorize(request);
  REQUIRE(required.ok());
  h.approvals.Approve(required->approval_id());
  h.world.clock.Advance(11min);  // the ledger's approvals live 10 minutes
  request.set_approval_id(required->approval_id());
  auto expired = h.authorizer.Authorize(request);
  REQUIRE(expired.ok());
  CHECK(expired->verdict() == V::DENY);
  CHECK(Contains(expired->reason(), "expired"));
}

TEST_CASE("authorizer: an approval id does not change an ALLOW or DENY and is not consumed") {
  Harness h;
  const std::string token = h.world.Jwt(AuthzWorld::kTools, "/runner");
  auto allow =
      AuthzWorld::Request(token, "tool:deploy.api", "invoke", {{"environment", "staging"}});
  allow.set_approval_id("apr-00000000000000000000000000000000");
  auto deny = AuthzWorld::Request(token, "dataset:models/x", "read");
  deny.set_approval_id("apr-00000000000000000000000000000000");
  CHECK(h.authorizer.Authorize(allow)->verdict() == V::ALLOW);
  CHECK(h.authorizer.Authorize(deny)->verdict() == V::DENY);
  CHECK(h.approvals.uses() == 0);
  CHECK(h.approvals.creates() == 0);
}

TEST_CASE("authorizer: the step-up path fails closed when the server does not answer") {
  Harness h;
  h.approvals.set_down(true);
  auto request = AuthzWorld::Request(h.world.Jwt(AuthzWorld::kInference, "/model-server"),
                                     "tool:deploy.api", "invoke", {{"environment", "production"}});
  auto no_id = h.authorizer.Authorize(request);
  REQUIRE(no_id.ok());
  CHECK(no_id->verdict() == V::DENY);
  CHECK(no_id->approval_id().empty());
  CHECK(Contains(no_id->reason(), "could not be created"));
  request.set_approval_id("apr-0123456789abcdef0123456789abcdef");
  auto with_id = h.authorizer.Authorize(request);
  REQUIRE(with_id.ok());
  CHECK(with_id->verdict() == V::DENY);
  CHECK(Contains(with_id->reason(), "could not be checked"));
}

// A loopback port with nothing listening (bound, then released).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_CASE("authorizer: with the real ServerClient and no server, step-up is DENY and audit waits") {
  AuthzWorld world;
  auto control = common::TrustDomain::Parse("control.spinel.test");
  REQUIRE(control.ok());
  spinel::testing::TestCa control_ca =
      spinel::testing::TestCa::Root("control.spinel.test", world.clock.Now());
  auto trust = std::make_shared<ControlTrust>(*control, std::vector{control_ca.root()});
  ServerClient client("127.0.0.1:" + std::to_string(ClosedPort()), trust,
                      common::SystemClock::Get());
  AuditForwarder audit(client, world.clock);
  Authorizer authorizer(world.cache, client, audit, world.clock);
  auto request = AuthzWorld::Request(world.Jwt(AuthzWorld::kTools, "/runner"), "tool:deploy.x",
                                     "invoke", {{"environment", "production"}});
  auto denied = authorizer.Authorize(request);
  REQUIRE(denied.ok());
  CHECK(denied->verdict() == V::DENY);
  CHECK(Contains(denied->reason(), "could not be created"));
  absl::Status flushed = audit.Flush();
  CHECK(flushed.code() == absl::StatusCode::kUnavailable);
  CHECK(audit.stats().queued == 1);
  CHECK(audit.stats().failed_sends == 1);
}

}  // namespace
}  // namespace spinel::agent
