// ExchangeToken (server/api/agent/agent_service_delegation.cc) over real TLS gRPC with the real
// CA, zones and datastore: a user token of the issuer the inference zone trusts becomes a
// delegation token signed with the zone's JWT key, bound to the workload's WIT key, naming the
// user and the chain; a delegation token becomes a deeper chain in a zone that allows it;
// every refusal (zone without delegation, another agent's entry, untrusted issuer, expired or
// wrong-audience subject token, chain too long) is the right status and audited; the issuer's
// keys are re-read when its JWKS file changes.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/delegation_token.h"
#include "common/jwk.h"
#include "common/private_jwk.h"
#include "server/audit/audit_log.h"
#include "tests/common/wimse_test_world.h"
#include "tests/fakes/temp_dir.h"
#include "tests/server/api/agent/agent_api_harness.h"
#include "trust-zones/audit_chain.h"

using spinel::server::AuditEvent;
using spinel::server::AuditFilter;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;
using nlohmann::json;

namespace {

// The user issuer the shipped inference zone trusts (audience spinel-inference); the test
// replaces its placeholder JWK Set with keys it holds.
constexpr char kIdp[] = "https://users.demo.spinel.example";
constexpr char kJwks[] = "demo-users.jwks.json";

// Appends `text` to the zone file `name` in `dir`.
void Append(const spinel::testing::TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream out(dir.File(name), std::ios::app);
  out << "\n" << text;
}

// The JWK Set document with `key` as "idp-<n>".
std::string Jwks(const spinel::common::PrivateKey& key, int n) {
  json jwk = *spinel::common::PublicKeyToJwk(*key.Public());
  jwk["kid"] = "idp-" + std::to_string(n);
  jwk["use"] = "sig";
  jwk["alg"] = "ES256";
  return json{{"keys", json::array({jwk})}}.dump();
}

// The shipped zones (inference trusts kIdp and allows chains of 3) with the issuer's keys
// replaced by the test's; tool-execution also allows chains of 2 and trusts no user issuer.
struct ExchangeWorld {
  spinel::testing::TempDir zones;
  spinel::common::PrivateKey idp_key = NewKey();
  ExchangeWorld() {
    for (const auto& file : std::filesystem::directory_iterator(ShippedZonesDir())) {
      std::filesystem::copy(file.path(), zones.File(file.path().filename().string()));
    }
    zones.Write(kJwks, Jwks(idp_key, 1));
    Append(zones, "tool-execution.yaml",
           "delegation: {max_chain: 2, token_ttl: {default: 2m, max: 5m}}\n");
  }
  ServerFixtureOptions Options() const {
    ServerFixtureOptions options;
    options.zones_dir = zones.path();
    return options;
  }
};

std::string UserToken(const spinel::common::PrivateKey& key, int kid, spinel::common::TimePoint now,
                      int64_t lifetime_seconds = 3600, const std::string& iss = kIdp) {
  const int64_t t = spinel::common::ToUnixSeconds(now);
  json claims = {{"iss", iss},
                 {"sub", "alice"},
                 {"aud", "spinel-inference"},
                 {"iat", t - 10},
                 {"exp", t + lifetime_seconds},
                 {"email", "alice@example.org"},
                 {"groups", json::array({"sre"})}};
  json header = {{"alg", "ES256"}, {"kid", "idp-" + std::to_string(kid)}, {"typ", "JWT"}};
  return spinel::testing::wimse::SignJwt(header, claims, key);
}

std::string CnfJwk(const spinel::common::PrivateKey& key) {
  auto jwk = spinel::common::ConfirmationJwk({*key.Public(), spinel::common::JwsAlgorithm::kEs256});
  REQUIRE(jwk.ok());
  return jwk->dump();
}

grpc::Status Exchange(AgentClient& agent, const std::string& entry_id,
                      const spinel::common::PrivateKey& workload, const std::string& subject,
                      const std::string& audience, spinel::v1::ExchangeTokenResponse* response) {
  spinel::v1::ExchangeTokenRequest request;
  request.set_entry_id(entry_id);
  request.set_workload_jwk(CnfJwk(workload));
  request.set_subject_token(subject);
  request.set_audience(audience);
  return agent.stub->ExchangeToken(AgentApiHarness::Context().get(), request, response);
}

RegistrationEntry CreateEntry(AgentApiHarness& h, RegistrationEntry entry) {
  auto created = h.fixture.registry->Create(std::move(entry));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return *created;
}

std::vector<AuditEvent> EventsOfKind(AgentApiHarness& h, const std::string& kind) {
  auto events = h.fixture.datastore->ListAuditEvents(AuditFilter{.kind = kind});
  REQUIRE(events.ok());
  return *events;
}

// The token validated as its receiver would: keys from the zones' bundles, presented by
// `presenter` with `key`.
spinel::common::DelegationToken Validate(AgentApiHarness& h, const std::string& token,
                                         const std::string& audience, const std::string& presenter,
                                         const spinel::common::PrivateKey& key) {
  spinel::server::OwnDelegationAuthorities keys(*h.fixture.own_bundles);
  spinel::common::DelegationValidationOptions options;
  options.audience = audience;
  options.presenter = spinel::common::DelegationPresenter{
      Id(presenter), {*key.Public(), spinel::common::JwsAlgorithm::kEs256}};
  auto validated =
      spinel::common::ValidateDelegationToken(token, keys, h.fixture.clock.Now(), options);
  REQUIRE_MESSAGE(validated.ok(), validated.status().ToString());
  return *validated;
}

}  // namespace

TEST_CASE("agent API exchange: alice's token becomes a delegation token bound to the workload") {
  ExchangeWorld world;
  AgentApiHarness h("", 10000, world.Options());
  AgentClient agent = h.AttestNewAgent();
  RegistrationEntry model = CreateEntry(h, Entry(kModelServer, agent.id.ToString()));
  RegistrationEntry runner = CreateEntry(h, Entry(kToolRunner, agent.id.ToString()));
  spinel::common::PrivateKey model_key = NewKey();
  spinel::common::PrivateKey runner_key = NewKey();
  const spinel::common::TimePoint now = h.fixture.clock.Now();

  spinel::v1::ExchangeTokenResponse hop1;
  grpc::Status status =
      Exchange(agent, model.id, model_key, UserToken(world.idp_key, 1, now), kToolRunner, &hop1);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(hop1.delegation().user() == "alice");
  CHECK(hop1.delegation().user_issuer() == kIdp);
  CHECK(hop1.delegation().actor_chain().size() == 1);
  CHECK(hop1.delegation().user_claims().at("groups").values(0) == "sre");
  CHECK(hop1.expires_at() == spinel::common::ToUnixSeconds(now) + 300);  // the zone default
  spinel::common::DelegationToken token =
      Validate(h, hop1.token(), kToolRunner, kModelServer, model_key);
  CHECK(token.issuer.name() == "inference.ai.example.org");
  CHECK(token.kid ==
        h.fixture.cas->Snapshot(spinel::server::testing::Td("inference.ai.example.org"))
            ->active_jwt->kid);
  CHECK(token.may_act.has_value());

  // Hop 2: the runner exchanges the token it received; the chain grows, the user stays.
  spinel::v1::ExchangeTokenResponse hop2;
  status = Exchange(agent, runner.id, runner_key, hop1.token(), "https://jira.example.org", &hop2);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(hop2.delegation().user() == "alice");
  REQUIRE(hop2.delegation().actor_chain().size() == 2);
  CHECK(hop2.delegation().actor_chain(0) == kToolRunner);
  CHECK(hop2.delegation().actor_chain(1) == kModelServer);
  CHECK(hop2.expires_at() == spinel::common::ToUnixSeconds(now) + 120);  // tool-execution's

  std::vector<AuditEvent> exchanged = EventsOfKind(h, "delegation.exchanged");
  REQUIRE(exchanged.size() == 2);
  CHECK(exchanged[0].user == "alice");
  CHECK(exchanged[0].user_issuer == kIdp);
  CHECK(exchanged[1].actor_chain == std::vector<std::string>{kToolRunner, kModelServer});
  CHECK(exchanged[1].details.find(hop2.token()) == std::string::npos);  // never the token
  auto all = h.fixture.datastore->ListAuditEvents({});
  REQUIRE(all.ok());
  CHECK(spinel::zones::VerifyChain(*all).ok());
}

TEST_CASE("agent API exchange: refusals have the right status and are audited") {
  ExchangeWorld world;
  AgentApiHarness h("", 10000, world.Options());
  AgentClient agent = h.AttestNewAgent();
  AgentClient other = h.AttestNewAgent();
  RegistrationEntry model = CreateEntry(h, Entry(kModelServer, agent.id.ToString()));
  RegistrationEntry runner = CreateEntry(h, Entry(kToolRunner, agent.id.ToString()));
  spinel::common::PrivateKey key = NewKey();
  const spinel::common::TimePoint now = h.fixture.clock.Now();
  const std::string alice = UserToken(world.idp_key, 1, now);
  spinel::v1::ExchangeTokenResponse response;

  grpc::Status status = Exchange(other, model.id, key, alice, kToolRunner, &response);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // tool-execution trusts no user issuer: a user token is not trusted there.
  status = Exchange(agent, runner.id, key, alice, "https://jira.example.org", &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("not a trusted issuer") != std::string::npos);
  status = Exchange(agent, model.id, key, UserToken(world.idp_key, 1, now, 3600, "https://evil"),
                    kToolRunner, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  status = Exchange(agent, model.id, key, UserToken(NewKey(), 1, now), kToolRunner, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);  // forged signature
  status = Exchange(agent, model.id, key, UserToken(world.idp_key, 1, now, -120), kToolRunner,
                    &response);
  CHECK(status.error_code() != grpc::StatusCode::OK);  // expired
  status = Exchange(agent, model.id, key, alice, "", &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // A delegation token for the runner, presented by the model server: not its audience.
  spinel::v1::ExchangeTokenResponse hop1;
  REQUIRE(Exchange(agent, model.id, key, alice, kToolRunner, &hop1).ok());
  status = Exchange(agent, model.id, key, hop1.token(), kToolRunner, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_MESSAGE(status.error_message().find("delegation token rejected: aud") != std::string::npos,
                status.error_message());

  std::vector<AuditEvent> refused = EventsOfKind(h, "delegation.refused");
  CHECK(refused.size() == 7);
  for (const AuditEvent& event : refused) {
    CHECK(event.outcome == "refused");
    CHECK(event.details.find(alice) == std::string::npos);
  }
}

TEST_CASE("agent API exchange: the issuer's keys are re-read when its JWKS file changes") {
  ExchangeWorld world;
  AgentApiHarness h("", 10000, world.Options());
  AgentClient agent = h.AttestNewAgent();
  RegistrationEntry model = CreateEntry(h, Entry(kModelServer, agent.id.ToString()));
  spinel::common::PrivateKey key = NewKey();
  const spinel::common::TimePoint now = h.fixture.clock.Now();
  spinel::v1::ExchangeTokenResponse response;
  REQUIRE(Exchange(agent, model.id, key, UserToken(world.idp_key, 1, now), kToolRunner, &response)
              .ok());

  spinel::common::PrivateKey rotated = NewKey();
  const std::string path = world.zones.File(kJwks);
  world.zones.Write("next.jwks.json", Jwks(rotated, 2));
  std::filesystem::rename(world.zones.File("next.jwks.json"), path);
  grpc::Status status =
      Exchange(agent, model.id, key, UserToken(rotated, 2, now), kToolRunner, &response);
  CHECK_MESSAGE(status.ok(), status.error_message());
  status = Exchange(agent, model.id, key, UserToken(world.idp_key, 1, now), kToolRunner, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);  // the old key is gone

  // A broken file leaves the last good keys in force.
  world.zones.Write(kJwks, "{\"keys\": []}");
  status = Exchange(agent, model.id, key, UserToken(rotated, 2, now), kToolRunner, &response);
  CHECK_MESSAGE(status.ok(), status.error_message());
}
