// The Authorization API and federation: a subject of a foreign trust domain that a zone
// federates with (its bundle delivered by the server) proves itself with its JWT-SVID or
// X509-SVID exactly like a peer's subject - the decision is then the policy's (it is in no
// zone of this deployment, so DENY) - and is refused (Unauthenticated) once the relationship,
// and so the bundle, is gone.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "agent/authz/authorizer.h"
#include "tests/agent/authz/authz_fakes.h"
#include "tests/agent/authz/authz_world.h"

namespace spinel::agent {
namespace {

using spinel::testing::ApprovalLedger;
using spinel::testing::AuditInbox;
using spinel::testing::AuthzWorld;
using V = v1::AuthorizeResponse;

constexpr char kForeignSubject[] = "spiffe://other.example.org/agent";

struct Harness {
  AuthzWorld world;
  ApprovalLedger approvals{world.clock};
  AuditInbox inbox;
  AuditForwarder audit{inbox, world.clock};
  Authorizer authorizer{world.cache, approvals, audit, world.clock};
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The shipped policy with inference federating with other.example.org (in "zones" and in
// inference.yaml), as a server sends it.
std::string FederatingPolicy() {
  nlohmann::json doc = nlohmann::json::parse(spinel::testing::ShippedPolicyDocument());
  for (auto& zone : doc["zones"]) {
    if (zone["name"] == "inference") zone["federates_with"] = {AuthzWorld::kOther};
  }
  for (auto& file : doc["zone_files"]) {
    if (file["file"] == "inference.yaml") {
      file["text"] = file["text"].get<std::string>() + "\nfederates_with: [other.example.org]\n";
    }
  }
  return doc.dump();
}

// A full snapshot: the shipped zones' bundles, other.example.org's when `foreign_bundle`, and
// the federating policy.
void PushFederated(AuthzWorld& world, bool foreign_bundle) {
  v1::SyncUpdate update;
  update.set_full_snapshot(true);
  std::vector<const char*> tds = {AuthzWorld::kTraining, AuthzWorld::kInference,
                                  AuthzWorld::kRetrieval, AuthzWorld::kTools};
  if (foreign_bundle) tds.push_back(AuthzWorld::kOther);
  for (const char* td : tds) {
    auto jwks = world.zone(td).MakeBundle().ToJson();
    REQUIRE(jwks.ok());
    v1::Bundle* bundle = update.add_bundles();
    bundle->set_trust_domain(td);
    bundle->set_jwks(*jwks);
  }
  update.set_policy(FederatingPolicy());
  absl::Status applied = world.cache.ApplySyncUpdate(update);
  REQUIRE_MESSAGE(applied.ok(), applied.ToString());
}

}  // namespace

TEST_CASE("authorizer: a federated trust domain's SVIDs prove the subject until the bundle goes") {
  Harness h;
  PushFederated(h.world, /*foreign_bundle=*/true);
  REQUIRE(h.world.cache.Snapshot()->zones->FederatesWith(
      "inference", *common::TrustDomain::Parse(AuthzWorld::kOther)));

  v1::AuthorizeRequest jwt = AuthzWorld::Request(h.world.Jwt(AuthzWorld::kOther, "/agent"),
                                                 "tool:jira.create_ticket", "invoke");
  v1::AuthorizeRequest x509 = jwt;
  *x509.mutable_x509_svid() = h.world.X509(AuthzWorld::kOther, "/agent");
  for (const v1::AuthorizeRequest* request : {&jwt, &x509}) {
    absl::StatusOr<V> decided = h.authorizer.Authorize(*request);
    REQUIRE_MESSAGE(decided.ok(), decided.status().ToString());  // proved, then decided
    CHECK(decided->subject() == kForeignSubject);
    CHECK(decided->verdict() == V::DENY);  // no zone of this deployment grants it anything
    CHECK(Contains(decided->reason(), "is in no known zone"));
  }

  // The relationship is deleted: the server stops sending the bundle; proofs are refused.
  PushFederated(h.world, /*foreign_bundle=*/false);
  for (const v1::AuthorizeRequest* request : {&jwt, &x509}) {
    absl::StatusOr<V> refused = h.authorizer.Authorize(*request);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
    CAPTURE(refused.status().ToString());
    CHECK(Contains(std::string(refused.status().message()), "other.example.org"));
  }
}

}  // namespace spinel::agent
