// Proving a forwarded WIMSE proof on the agent (workload_proof.h) with real WIT-SVIDs, WPTs and
// delegation tokens signed by the zones' keys in a real IdentityCache: the good proof, replays,
// unknown keys, a WIT copied without its key, bound delegation tokens (wrong presenter and
// audience refused), a delegated Authorize decided by an on_behalf_of rule, and
// VerifyWorkloadProof with its audit events.
#include "agent/authz/workload_proof.h"

#include <doctest/doctest.h>

#include "agent/authz/authorizer.h"
#include "agent/authz/workload_proof_verifier.h"
#include "tests/agent/authz/authz_fakes.h"
#include "tests/agent/authz/wimse_fixture.h"
#include "tests/trust-zones/zone_fixture.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuthzWorld;
using spinel::testing::ForgedWpt;
using spinel::testing::MakeDelegationToken;
using spinel::testing::MakeProof;
using spinel::testing::MakeWorkload;
using spinel::testing::MakeWpt;
using V = v1::AuthorizeResponse;

constexpr char kTarget[] = "https://tools.ai.example.org/mcp";
constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";

bool Contains(absl::string_view text, absl::string_view part) {
  return text.find(part) != absl::string_view::npos;
}

struct ProofHarness {
  AuthzWorld world;
  common::WptReplayCache replay;

  absl::StatusOr<ProvedWorkload> Prove(const v1::WorkloadProof& proof,
                                       const std::string& audience = "") {
    return ProveWorkloadProof(proof, audience, *world.cache.Snapshot(), replay, world.clock.Now());
  }
};

TEST_CASE("workload proof: a WIT-SVID with its WPT proves the caller once; a replay is refused") {
  ProofHarness h;
  auto runner = MakeWorkload(h.world, AuthzWorld::kTools, "/runner");
  const auto proof = MakeProof(kTarget, runner.wit, MakeWpt(h.world, runner, kTarget));
  auto proved = h.Prove(proof);
  REQUIRE_MESSAGE(proved.ok(), proved.status().ToString());
  CHECK(proved->workload.subject.ToString() == kRunner);
  CHECK(!proved->delegation.has_value());
  auto replayed = h.Prove(proof);
  CHECK(replayed.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(Contains(replayed.status().message(), "WPT rejected: jti"));
}

TEST_CASE("workload proof: unknown WIT keys, a WIT copied without its key, the wrong target") {
  ProofHarness h;
  auto stranger_key = common::PrivateKey::Generate();
  REQUIRE(stranger_key.ok());
  auto stranger = common::WitSvidSigner::Create(h.world.zone(AuthzWorld::kTools).ca.td(),
                                                *stranger_key, "wit-stranger");
  REQUIRE(stranger.ok());
  auto forged = MakeWorkload(h.world, AuthzWorld::kTools, "/runner", stranger->get());
  auto other = MakeWorkload(h.world, AuthzWorld::kOther, "/agent");
  auto runner = MakeWorkload(h.world, AuthzWorld::kTools, "/runner");
  auto thief = common::PrivateKey::Generate();
  REQUIRE(thief.ok());
  struct Case {
    const char* name;
    v1::WorkloadProof proof;
    const char* message;
  } cases[] = {
      {"WIT signed by an unknown key",
       MakeProof(kTarget, forged.wit, MakeWpt(h.world, forged, kTarget)), "WIT-SVID rejected: key"},
      {"WIT of a trust domain without a bundle",
       MakeProof(kTarget, other.wit, MakeWpt(h.world, other, kTarget)), "WIT-SVID rejected: key"},
      {"a WIT copied without its key",
       MakeProof(kTarget, runner.wit, ForgedWpt(h.world, runner, kTarget, *thief)),
       "WPT rejected: signature"},
      {"another target", MakeProof(kTarget, runner.wit, MakeWpt(h.world, runner, "https://x/y")),
       "WPT rejected: aud"},
      {"an empty WPT", MakeProof(kTarget, runner.wit, ""), "rejected"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto proved = h.Prove(c.proof);
    CHECK(proved.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(Contains(proved.status().message(), c.message), proved.status().ToString());
  }
  v1::WorkloadProof with_txn = MakeProof(kTarget, runner.wit, MakeWpt(h.world, runner, kTarget));
  auto* txn = with_txn.add_headers();
  txn->set_name("Txn-Token");
  txn->set_value("a.b.c");
  auto refused = h.Prove(with_txn);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  v1::WorkloadProof bad_target = MakeProof("https://x/y?q=1", runner.wit, "w");
  CHECK(h.Prove(bad_target).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("workload proof: a bound delegation token names the user and the chain") {
  ProofHarness h;
  auto runner = MakeWorkload(h.world, AuthzWorld::kTools, "/runner");
  auto model = MakeWorkload(h.world, AuthzWorld::kInference, "/model-server");
  const std::string token =
      MakeDelegationToken(h.world, AuthzWorld::kTools, runner, {kRunner, kModel}, kTarget);
  auto proved =
      h.Prove(MakeProof(kTarget, runner.wit, MakeWpt(h.world, runner, kTarget, token), token));
  REQUIRE_MESSAGE(proved.ok(), proved.status().ToString());
  REQUIRE(proved->delegation.has_value());
  CHECK(proved->delegation->user == "alice");
  CHECK(proved->delegation->user_issuer == "https://idp.example.org");
  CHECK(proved->delegation->ActorIds() == std::vector<std::string>{kRunner, kModel});
  CHECK(proved->delegation->actors[0].name == "tool-execution/runner");

  SUBCASE("presented by another workload than its holder") {
    auto stolen =
        h.Prove(MakeProof(kTarget, model.wit, MakeWpt(h.world, model, kTarget, token), token));
    CHECK(stolen.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(stolen.status().message(), "delegation token rejected: presenter"));
  }
  SUBCASE("for another audience") {
    auto wrong =
        h.Prove(MakeProof(kTarget, runner.wit, MakeWpt(h.world, runner, kTarget, token), token),
                "https://elsewhere.example.org/");
    CHECK(Contains(wrong.status().message(), "delegation token rejected: aud"));
  }
  SUBCASE("not bound by the WPT") {
    auto unbound =
        h.Prove(MakeProof(kTarget, runner.wit, MakeWpt(h.world, runner, kTarget), token));
    CHECK(Contains(unbound.status().message(), "WPT rejected: ath"));
  }
}

// Zone "tool-execution" allows deploys only on behalf of SREs via inference workloads.
std::string DelegationPolicy() {
  const std::string tools = zones::testing::ZoneYaml("tool-execution", R"(resources:
  - name: sre-deploys
    resource: "tool:deploy.*"
    actions: [invoke]
    on_behalf_of: {groups: [sre]}
    via: ["inference/*", "tool-execution/*"]
)",
                                                     AuthzWorld::kTools);
  const std::string inference = zones::testing::ZoneYaml("inference", "", AuthzWorld::kInference);
  nlohmann::json doc = {{"zones",
                         {{{"name", "tool-execution"},
                           {"trust_domain", AuthzWorld::kTools},
                           {"peers", {"inference"}}},
                          {{"name", "inference"},
                           {"trust_domain", AuthzWorld::kInference},
                           {"peers", {"tool-execution"}}}}},
                        {"zone_files",
                         {{{"file", "tool-execution.yaml"}, {"text", tools}},
                          {{"file", "inference.yaml"}, {"text", inference}}}}};
  return doc.dump();
}

TEST_CASE("authorize: a workload_proof subject acting for a user is decided by on_behalf_of") {
  AuthzWorld world;
  world.Push(DelegationPolicy());
  spinel::testing::ApprovalLedger approvals{world.clock};
  spinel::testing::AuditInbox inbox;
  AuditForwarder audit{inbox, world.clock};
  common::WptReplayCache replay;
  Authorizer authorizer{world.cache, approvals, audit, world.clock, &replay};
  auto runner = MakeWorkload(world, AuthzWorld::kTools, "/runner");
  auto request_for = [&](const nlohmann::json& claims) {
    const std::string token =
        MakeDelegationToken(world, AuthzWorld::kTools, runner, {kRunner, kModel}, kTarget, claims);
    v1::AuthorizeRequest request;
    *request.mutable_workload_proof() =
        MakeProof(kTarget, runner.wit, MakeWpt(world, runner, kTarget, token), token);
    request.set_resource("tool:deploy.api");
    request.set_action("invoke");
    return request;
  };
  auto allowed = authorizer.Authorize(request_for({{"groups", {"sre", "dev"}}}));
  REQUIRE_MESSAGE(allowed.ok(), allowed.status().ToString());
  CHECK_MESSAGE(allowed->verdict() == V::ALLOW, allowed->reason());
  CHECK(allowed->rule() == "tool-execution/sre-deploys");
  CHECK(allowed->subject() == kRunner);
  CHECK(allowed->user() == "alice");
  CHECK(allowed->user_issuer() == "https://idp.example.org");
  CHECK(std::vector<std::string>(allowed->actor_chain().begin(), allowed->actor_chain().end()) ==
        std::vector<std::string>{kRunner, kModel});
  auto denied = authorizer.Authorize(request_for({{"groups", {"marketing"}}}));
  REQUIRE(denied.ok());
  CHECK(denied->verdict() == V::DENY);

  v1::AuthorizeRequest plain = request_for(nlohmann::json::object());
  *plain.mutable_workload_proof() = MakeProof(kTarget, runner.wit, MakeWpt(world, runner, kTarget));
  auto nobody = authorizer.Authorize(plain);
  REQUIRE(nobody.ok());
  CHECK(nobody->verdict() == V::DENY);
  CHECK(nobody->user().empty());
  auto replay_refused = authorizer.Authorize(plain);
  CHECK(replay_refused.status().code() == absl::StatusCode::kAlreadyExists);

  REQUIRE(audit.Flush().ok());
  auto events = inbox.events();
  REQUIRE(events.size() == 4);
  CHECK(nlohmann::json::parse(events[0].details())["proof"] == "wit-svid+wpt");
  CHECK(events[0].user() == "alice");
  CHECK(events[0].actor_chain_size() == 2);
  CHECK(events[2].user().empty());
  CHECK(events[3].outcome() == "error");
}

TEST_CASE("verify workload proof: the caller and its delegation, audited without tokens") {
  AuthzWorld world;
  spinel::testing::AuditInbox inbox;
  AuditForwarder audit{inbox, world.clock};
  common::WptReplayCache replay;
  WorkloadProofVerifier verifier{world.cache, replay, audit, world.clock};
  auto runner = MakeWorkload(world, AuthzWorld::kTools, "/runner");
  const std::string token =
      MakeDelegationToken(world, AuthzWorld::kTools, runner, {kRunner, kModel}, "aud-x");
  v1::VerifyWorkloadProofRequest request;
  *request.mutable_proof() =
      MakeProof(kTarget, runner.wit, MakeWpt(world, runner, kTarget, token), token);
  request.set_audience("aud-x");
  auto verified = verifier.Verify(request);
  REQUIRE_MESSAGE(verified.ok(), verified.status().ToString());
  CHECK(verified->spiffe_id() == kRunner);
  CHECK(verified->wit_expires_at() > common::ToUnixSeconds(world.clock.Now()));
  CHECK(verified->user() == "alice");
  CHECK(verified->actor_chain_size() == 2);
  auto replayed = verifier.Verify(request);
  CHECK(replayed.status().code() == absl::StatusCode::kAlreadyExists);

  REQUIRE(audit.Flush().ok());
  auto events = inbox.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind() == "workload_proof.verified");
  CHECK(events[0].subject() == kRunner);
  CHECK(events[0].zone() == "tool-execution");
  CHECK(events[0].user() == "alice");
  CHECK(events[1].kind() == "workload_proof.refused");
  CHECK(events[1].outcome() == "error");
  for (const auto& event : events) {
    CHECK(!Contains(event.details(), token));
    CHECK(!Contains(event.reason(), token));
    CHECK(!Contains(event.details(), runner.wit));
  }
}

}  // namespace
}  // namespace spinel::agent
