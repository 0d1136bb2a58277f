// MintWitSvids (server/api/agent/agent_service_wit.cc): WIT-SVIDs bound to the key the agent
// sends, only for the caller's entries, each issuance and refusal audited, lifetimes from the
// zone's wit_svid_ttl.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/bundle.h"
#include "common/jwk.h"
#include "common/private_jwk.h"
#include "common/wit_svid.h"
#include "server/audit/audit_log.h"
#include "tests/server/api/agent/agent_api_harness.h"

using spinel::server::AuditEvent;
using spinel::server::AuditFilter;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

std::vector<AuditEvent> EventsOfKind(AgentApiHarness& h, const std::string& kind) {
  auto events = h.fixture.datastore->ListAuditEvents(AuditFilter{.kind = kind});
  REQUIRE(events.ok());
  return *events;
}

// The cnf JWK text of `key` (ES256).
std::string CnfJwk(const spinel::common::PrivateKey& key) {
  auto jwk = spinel::common::ConfirmationJwk({*key.Public(), spinel::common::JwsAlgorithm::kEs256});
  REQUIRE(jwk.ok());
  return jwk->dump();
}

spinel::v1::MintWitSvidsResponse Mint(AgentClient& agent,
                                      const std::vector<std::pair<std::string, std::string>>& keys,
                                      grpc::StatusCode expected = grpc::StatusCode::OK) {
  spinel::v1::MintWitSvidsRequest request;
  for (const auto& [entry_id, jwk] : keys) {
    spinel::v1::WitKeyForEntry* key = request.add_keys();
    key->set_entry_id(entry_id);
    key->set_public_jwk(jwk);
  }
  spinel::v1::MintWitSvidsResponse response;
  grpc::Status status =
      agent.stub->MintWitSvids(AgentApiHarness::Context().get(), request, &response);
  REQUIRE_MESSAGE(status.error_code() == expected, status.error_message());
  return response;
}

RegistrationEntry CreateEntry(AgentApiHarness& h, RegistrationEntry entry) {
  auto created = h.fixture.registry->Create(std::move(entry));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return *created;
}

spinel::common::BundleSet OwnBundles(AgentApiHarness& h) {
  spinel::common::BundleSet set;
  for (const char* td : {"inference.ai.example.org", "tools.ai.example.org"}) {
    auto snapshot = h.fixture.cas->Snapshot(Td(td));
    REQUIRE(snapshot != nullptr);
    REQUIRE(set.Put(snapshot->ToBundle()).ok());
  }
  return set;
}

}  // namespace

TEST_CASE("agent API: a WIT-SVID is bound to the agent's key, for its entry, and audited") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  RegistrationEntry own = CreateEntry(h, Entry(kModelServer, agent.id.ToString()));
  spinel::common::PrivateKey workload = NewKey();
  auto response = Mint(agent, {{own.id, CnfJwk(workload)}});
  REQUIRE(response.svids_size() == 1);
  const spinel::v1::MintedWitSvid& minted = response.svids(0);
  REQUIRE_MESSAGE(minted.error().empty(), minted.error());
  CHECK(minted.entry_id() == own.id);
  CHECK(minted.spiffe_id() == kModelServer);
  // inference.yaml sets no wit_svid_ttl: the default 30m applies.
  const auto now = h.fixture.clock.Now();
  CHECK(minted.expires_at() == spinel::common::ToUnixSeconds(now + 30min));

  spinel::common::BundleSet bundles = OwnBundles(h);
  auto wit = spinel::common::ValidateWitSvid(minted.wit_svid(), bundles, now);
  REQUIRE_MESSAGE(wit.ok(), wit.status().ToString());
  CHECK(wit->subject.ToString() == kModelServer);
  CHECK(wit->confirmation.key.Equals(*workload.Public()));
  CHECK(wit->confirmation.algorithm == spinel::common::JwsAlgorithm::kEs256);
  // Signed by the zone's WIT key, never its JWT key.
  auto snapshot = h.fixture.cas->Snapshot(Td("inference.ai.example.org"));
  CHECK(wit->kid == snapshot->active_wit->kid);

  auto issued = EventsOfKind(h, "wit_svid.issued");
  REQUIRE(issued.size() == 1);
  CHECK(issued[0].actor == agent.id.ToString());
  CHECK(issued[0].subject == kModelServer);
  auto details = nlohmann::json::parse(issued[0].details);
  CHECK(details["entry_id"] == own.id);
  CHECK(details["cnf_jkt"] == *spinel::common::JwkThumbprint(*workload.Public()));
  CHECK(issued[0].details.find(minted.wit_svid()) == std::string::npos);
}

TEST_CASE("agent API: WIT-SVIDs for another agent's entry or a bad key are refused and audited") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  AgentClient other = h.AttestNewAgent();
  RegistrationEntry own = CreateEntry(h, Entry(kModelServer, agent.id.ToString()));
  RegistrationEntry foreign = CreateEntry(h, Entry(kToolRunner, other.id.ToString()));
  spinel::common::PrivateKey workload = NewKey();
  nlohmann::json with_private = nlohmann::json::parse(std::string(
      (*spinel::common::PrivateKeyToJwk(workload, spinel::common::JwsAlgorithm::kEs256)).view()));
  nlohmann::json no_alg = nlohmann::json::parse(CnfJwk(workload));
  no_alg.erase("alg");
  auto response = Mint(agent, {{foreign.id, CnfJwk(workload)},
                               {own.id, with_private.dump()},
                               {own.id, no_alg.dump()},
                               {"no-such-entry", CnfJwk(workload)},
                               {own.id, CnfJwk(workload)}});
  REQUIRE(response.svids_size() == 5);
  CHECK(response.svids(0).error_code() == static_cast<int>(absl::StatusCode::kPermissionDenied));
  CHECK(response.svids(0).wit_svid().empty());
  CHECK(response.svids(1).error_code() == static_cast<int>(absl::StatusCode::kInvalidArgument));
  CHECK(response.svids(2).error_code() == static_cast<int>(absl::StatusCode::kInvalidArgument));
  CHECK(response.svids(3).error_code() == static_cast<int>(absl::StatusCode::kPermissionDenied));
  CHECK(response.svids(4).error().empty());
  CHECK_FALSE(response.svids(4).wit_svid().empty());

  auto refused = EventsOfKind(h, "wit_svid.refused");
  REQUIRE(refused.size() == 4);
  for (const AuditEvent& event : refused) {
    CHECK(event.actor == agent.id.ToString());
    CHECK(event.outcome == "refused");
    CHECK_FALSE(event.reason.empty());
  }
  CHECK(nlohmann::json::parse(refused[0].details)["entry_id"] == foreign.id);
  CHECK(EventsOfKind(h, "wit_svid.issued").size() == 1);
  CHECK(spinel::server::IsServerEventKind("wit_svid.issued"));
  CHECK(spinel::server::IsServerEventKind("wit_svid.refused"));
}

TEST_CASE("issuer: WIT-SVID lifetimes are the zone default, capped at max and the key's expiry") {
  AgentApiHarness h;
  auto& issuer = *h.fixture.issuer;
  const auto id = Id(kModelServer);
  spinel::common::ConfirmationKey key{*NewKey().Public(), spinel::common::JwsAlgorithm::kEs256};
  CHECK(*issuer.EffectiveTtl(id, spinel::server::SvidKind::kWit, 0s) == 30min);
  CHECK(*issuer.EffectiveTtl(id, spinel::server::SvidKind::kWit, 10h) == 1h);
  CHECK(*issuer.EffectiveTtl(Id("spiffe://training.ai.example.org/trainer"),
                             spinel::server::SvidKind::kWit, 0s) == 30min);
  auto snapshot = h.fixture.cas->Snapshot(Td("inference.ai.example.org"));
  const auto key_end = snapshot->active_wit->not_after;
  h.fixture.clock.Set(key_end - 10min);
  auto minted = issuer.MintWitSvid(id, key, 0s);
  REQUIRE_MESSAGE(minted.ok(), minted.status().ToString());
  CHECK(minted->expires_at == key_end);
}
