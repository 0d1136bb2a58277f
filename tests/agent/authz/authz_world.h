// Shared world for the Authorization API tests: the four shipped zones (trust-zones/zones,
// loaded as the server pushes them: a policy document with "zones" and "zone_files"), each
// with a real test CA and JWT signing key whose bundle is in a real IdentityCache (filled with
// ApplySyncUpdate); a zone unknown to the agent ("other.example.org") whose credentials must
// never be accepted; and helpers minting real JWT-SVIDs and X509-SVID chains at a FakeClock's
// now. Failures abort the current doctest case (REQUIRE).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/bundle.h"
#include "common/jwt_svid.h"
#include "common/wit_svid.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_ca.h"
#include "tests/trust-zones/zone_fixture.h"

namespace spinel::testing {

using namespace std::chrono_literals;

struct AuthzZone {
  TestCa ca;
  common::PrivateKey jwt_key;
  std::string kid;
  std::unique_ptr<common::JwtSvidSigner> signer;
  common::PrivateKey wit_key;  // the zone's WIT-SVID signing key, kid "wit-" + kid
  std::unique_ptr<common::WitSvidSigner> wit_signer;

  common::Bundle MakeBundle() const {
    common::Bundle bundle;
    bundle.trust_domain = ca.td();
    bundle.x509_authorities = {ca.root()};
    bundle.jwt_authorities.emplace(kid, *jwt_key.Public());
    bundle.wit_authorities.emplace(wit_signer->kid(), *wit_key.Public());
    return bundle;
  }
};

inline AuthzZone MakeAuthzZone(const std::string& td, const std::string& kid,
                               common::TimePoint now) {
  TestCa ca = TestCa::Root(td, now - 1h, 48h);
  auto key = common::PrivateKey::Generate();
  REQUIRE(key.ok());
  auto signer = common::JwtSvidSigner::Create(ca.td(), *key, kid);
  REQUIRE(signer.ok());
  auto wit_key = common::PrivateKey::Generate();
  REQUIRE(wit_key.ok());
  auto wit_signer = common::WitSvidSigner::Create(ca.td(), *wit_key, "wit-" + kid);
  REQUIRE(wit_signer.ok());
  return AuthzZone{std::move(ca),      std::move(*key),     kid,
                   std::move(*signer), std::move(*wit_key), std::move(*wit_signer)};
}

// The policy document the server pushes: {"zones":[...],"zone_files":[{"file","text"}]}.
inline std::string ShippedPolicyDocument(bool with_zone_files = true) {
  auto sources = zones::ReadZoneDir(zones::testing::ShippedZonesDir());
  REQUIRE(sources.ok());
  auto set = zones::BuildZoneSet(*sources);
  REQUIRE(set.ok());
  nlohmann::json doc = {{"zones", nlohmann::json::array()}};
  for (const zones::Zone& zone : set->zones()) {
    doc["zones"].push_back(
        {{"name", zone.name}, {"trust_domain", zone.trust_domain.name()}, {"peers", zone.peers}});
  }
  if (with_zone_files) {
    doc["zone_files"] = nlohmann::json::array();
    for (const zones::ZoneSource& source : *sources) {
      std::string base = source.file.substr(source.file.rfind('/') + 1);
      doc["zone_files"].push_back({{"file", base}, {"text", source.text}});
    }
  }
  return doc.dump();
}

class AuthzWorld {
 public:
  // Trust domains of the shipped zones.
  static constexpr char kTraining[] = "training.ai.example.org";
  static constexpr char kInference[] = "inference.ai.example.org";
  static constexpr char kRetrieval[] = "retrieval.ai.example.org";
  static constexpr char kTools[] = "tools.ai.example.org";
  static constexpr char kOther[] = "other.example.org";  // not known to the agent

  explicit AuthzWorld(bool push_policy = true) {
    const common::TimePoint now = clock.Now();
    for (const char* td : {kTraining, kInference, kRetrieval, kTools, kOther}) {
      zones_.emplace(td, MakeAuthzZone(td, std::string("kid-") + td, now));
    }
    if (push_policy) Push(ShippedPolicyDocument());
  }

  // A full snapshot with the bundles of the four shipped zones, `entries` and `policy`.
  void Push(const std::string& policy) {
    spinel::v1::SyncUpdate update;
    update.set_full_snapshot(true);
    for (const char* td : {kTraining, kInference, kRetrieval, kTools}) {
      auto jwks = zones_.at(td).MakeBundle().ToJson();
      REQUIRE(jwks.ok());
      auto* bundle = update.add_bundles();
      bundle->set_trust_domain(td);
      bundle->set_jwks(*jwks);
    }
    for (const spinel::v1::Entry& entry : entries) *update.add_entries() = entry;
    update.set_policy(policy);
    absl::Status applied = cache.ApplySyncUpdate(update);
    REQUIRE_MESSAGE(applied.ok(), applied.ToString());
  }

  AuthzZone& zone(const std::string& td) { return zones_.at(td); }

  // A JWT-SVID for spiffe://<td><path>, minted by `td`'s key at now + `offset`.
  std::string Jwt(const std::string& td, const std::string& path,
                  std::vector<std::string> audience = {"spinel-authorize"},
                  common::Duration ttl = 5min, common::Duration offset = {}) {
    common::JwtSvidClaims claims;
    auto id = common::SpiffeId::Parse("spiffe://" + td + path);
    REQUIRE(id.ok());
    claims.subject = *id;
    claims.audience = std::move(audience);
    claims.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(clock.Now() + offset);
    claims.expires_at = claims.issued_at + ttl;
    auto token = zone(td).signer->Mint(claims);
    REQUIRE(token.ok());
    return *token;
  }

  // The X509-SVID chain (DER, leaf first) of spiffe://<td><path>, valid for `ttl` from now.
  spinel::v1::X509SvidChain X509(const std::string& td, const std::string& path,
                                 common::Duration ttl = 1h) {
    TestLeaf leaf = zone(td).ca.Mint("spiffe://" + td + path, clock.Now(), ttl);
    spinel::v1::X509SvidChain chain;
    for (const common::Certificate& cert : zone(td).ca.ChainFor(leaf.cert)) {
      chain.add_certificates(cert.ToDer());
    }
    return chain;
  }

  static spinel::v1::AuthorizeRequest Request(const std::string& jwt, const std::string& resource,
                                              const std::string& action,
                                              std::map<std::string, std::string> context = {}) {
    spinel::v1::AuthorizeRequest request;
    request.set_jwt_svid(jwt);
    request.set_resource(resource);
    request.set_action(action);
    for (const auto& [k, v] : context) (*request.mutable_context())[k] = v;
    return request;
  }

  FakeClock clock{common::SystemClock::Get().Now()};
  agent::IdentityCache cache;
  std::vector<spinel::v1::Entry> entries;  // sent by Push

 private:
  std::map<std::string, AuthzZone> zones_;
};

}  // namespace spinel::testing
