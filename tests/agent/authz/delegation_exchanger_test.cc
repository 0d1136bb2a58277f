// DelegationExchanger (TokenExchange on the agent) with real WIT-SVIDs and WPTs against the
// zones' keys in a real IdentityCache. The server side is a recording ExchangeBackend here (the
// end-to-end exchange with the real server: tests/integration/token_exchange_test.cc).
#include "agent/authz/delegation_exchanger.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/mutex.h"
#include "tests/agent/authz/wimse_fixture.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuthzWorld;
using spinel::testing::MakeWorkload;
using spinel::testing::MakeWpt;
using namespace std::chrono_literals;

constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";
constexpr char kTarget[] = "spiffe://tools.ai.example.org/jira";

class RecordingBackend final : public ExchangeBackend {
 public:
  explicit RecordingBackend(const common::Clock& clock) : clock_(clock) {}

  absl::StatusOr<v1::ExchangeTokenResponse> ExchangeToken(
      const v1::ExchangeTokenRequest& request) override {
    common::MutexLock lock(mu_);
    calls_.push_back(request);
    if (!refusal_.ok()) return refusal_;
    v1::ExchangeTokenResponse response;
    response.set_token("delegation-" + std::to_string(calls_.size()));
    response.set_expires_at(common::ToUnixSeconds(clock_.Now() + 10min));
    response.mutable_delegation()->set_user_issuer("https://idp.example.org");
    response.mutable_delegation()->set_user("alice");
    response.mutable_delegation()->add_actor_chain(kRunner);
    return response;
  }

  std::vector<v1::ExchangeTokenRequest> calls() {
    common::MutexLock lock(mu_);
    return calls_;
  }
  void Refuse(absl::Status status) {
    common::MutexLock lock(mu_);
    refusal_ = std::move(status);
  }

 private:
  const common::Clock& clock_;
  common::Mutex mu_;
  std::vector<v1::ExchangeTokenRequest> calls_ ABSL_GUARDED_BY(mu_);
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
};

v1::Entry RunnerEntry() {
  v1::Entry entry;
  entry.set_id("entry-runner");
  entry.set_spiffe_id(kRunner);
  auto* selector = entry.add_selectors();
  selector->set_type("unix");
  selector->set_value("uid:1000");
  return entry;
}

struct ExchangeHarness {
  ExchangeHarness() {
    world.entries = {RunnerEntry()};
    world.Push(spinel::testing::ShippedPolicyDocument());
  }

  // A request from `workload` presenting `subject_token`, proved by a fresh WPT.
  v1::TokenExchangeRequest Request(const spinel::testing::TestWorkload& workload,
                                   const std::string& subject_token,
                                   const std::string& audience = kTarget) {
    v1::TokenExchangeRequest request;
    request.set_wit_svid(workload.wit);
    request.set_wpt(MakeWpt(world, workload, std::string(kTokenExchangeTarget), subject_token));
    request.set_subject_token(subject_token);
    request.set_subject_token_type(std::string(common::kTokenTypeJwt));
    request.set_audience(audience);
    return request;
  }

  AuthzWorld world{false};
  common::WptReplayCache replay;
  RecordingBackend backend{world.clock};
  DelegationExchanger exchanger{world.cache, replay, backend, world.clock};
};

TEST_CASE("token exchange: the proved workload's key and entry go to the server; cached after") {
  ExchangeHarness h;
  auto runner = MakeWorkload(h.world, AuthzWorld::kTools, "/runner");
  auto first = h.exchanger.Exchange(h.Request(runner, "user.token.x"));
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(first->access_token() == "delegation-1");
  CHECK(first->issued_token_type() == common::kTokenTypeJwt);
  CHECK(first->token_type() == "N_A");
  CHECK(first->expires_in() == 600);
  CHECK(first->user() == "alice");
  CHECK(first->actor_chain_size() == 1);
  auto calls = h.backend.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].entry_id() == "entry-runner");
  CHECK(calls[0].subject_token() == "user.token.x");
  CHECK(calls[0].audience() == kTarget);
  auto jwk = common::ParseConfirmationJwk(nlohmann::json::parse(calls[0].workload_jwk()));
  REQUIRE(jwk.ok());
  CHECK(common::SameConfirmationKey(*jwk, runner.confirmation));

  h.world.clock.Advance(4min);
  auto cached = h.exchanger.Exchange(h.Request(runner, "user.token.x"));
  REQUIRE(cached.ok());
  CHECK(cached->access_token() == "delegation-1");
  CHECK(cached->expires_in() == 360);
  CHECK(h.backend.calls().size() == 1);
  auto other_audience = h.exchanger.Exchange(h.Request(runner, "user.token.x", "spiffe://x/y"));
  REQUIRE(other_audience.ok());
  CHECK(other_audience->access_token() == "delegation-2");
  h.world.clock.Advance(2min);  // less than half of the first token's lifetime is left
  auto renewed = h.exchanger.Exchange(h.Request(runner, "user.token.x"));
  REQUIRE(renewed.ok());
  CHECK(renewed->access_token() == "delegation-3");
}

TEST_CASE("token exchange: refusals") {
  ExchangeHarness h;
  auto runner = MakeWorkload(h.world, AuthzWorld::kTools, "/runner");
  auto stranger = MakeWorkload(h.world, AuthzWorld::kTools, "/not-an-entry");
  SUBCASE("a replayed WPT") {
    const auto request = h.Request(runner, "tok");
    REQUIRE(h.exchanger.Exchange(request).ok());
    CHECK(h.exchanger.Exchange(request).status().code() == absl::StatusCode::kAlreadyExists);
  }
  SUBCASE("a WPT binding another subject token") {
    auto request = h.Request(runner, "tok");
    request.set_subject_token("another");
    auto refused = h.exchanger.Exchange(request);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(refused.status().message().find("WPT rejected: ath") != std::string::npos);
  }
  SUBCASE("a WPT for another target") {
    auto request = h.Request(runner, "tok");
    request.set_wpt(MakeWpt(h.world, runner, "https://tools.ai.example.org/", "tok"));
    CHECK(h.exchanger.Exchange(request).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SUBCASE("a workload that is not this agent's") {
    auto refused = h.exchanger.Exchange(h.Request(stranger, "tok"));
    CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
  }
  SUBCASE("a bad token type or audience") {
    auto request = h.Request(runner, "tok");
    request.set_subject_token_type("urn:ietf:params:oauth:token-type:saml2");
    CHECK(h.exchanger.Exchange(request).status().code() == absl::StatusCode::kInvalidArgument);
    request = h.Request(runner, "tok", "");
    CHECK(h.exchanger.Exchange(request).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SUBCASE("the server's refusal passes through and nothing is cached") {
    h.backend.Refuse(absl::PermissionDeniedError("zone allows no delegation"));
    auto refused = h.exchanger.Exchange(h.Request(runner, "tok"));
    CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(h.exchanger.exchange_cache().size() == 0);
  }
  CHECK(h.backend.calls().size() <= 1);
}

}  // namespace
}  // namespace spinel::agent
