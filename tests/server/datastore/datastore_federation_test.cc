// Contract tests for federation relationships and the replicas' own bundles, run against
// every backend.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include "server/datastore/datastore.h"
#include "tests/server/datastore/datastore_test_util.h"

namespace spinel::server::testing {
namespace {

constexpr char kPartnerBundle[] = R"({"keys":[],"spiffe_sequence":3})";

FederationRelationship SpiffeRelationship(std::string_view td = "partner.example.com") {
  FederationRelationship r;
  r.trust_domain = Td(td);
  r.bundle_endpoint_url = "https://bundles.partner.example.com:8443/bundle";
  r.profile = "https_spiffe";
  r.endpoint_spiffe_id = Id("spiffe://partner.example.com/spinel/bundle-endpoint");
  return r;
}

FederationRelationship WebRelationship(std::string_view td) {
  FederationRelationship r;
  r.trust_domain = Td(td);
  r.bundle_endpoint_url = "https://example.net/";
  r.profile = "https_web";
  return r;
}

TEST_CASE_TEMPLATE("federation: create with initial bundle, get, list, update, delete", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  const common::TrustDomain partner = Td("partner.example.com");
  auto created = ds.CreateFederationRelationship(SpiffeRelationship(),
                                                 BundleRecord{partner, kPartnerBundle, 3, 0});
  REQUIRE_MESSAGE(created.ok(), std::string(created.status().message()));
  CHECK(created->created_at == 1'800'000'000);
  CHECK(created->updated_at == 1'800'000'000);
  CHECK(created->refresh == FederationRefreshState{});
  CHECK(*ds.GetFederationRelationship(partner) == *created);
  CHECK(ds.GetBundle(partner)->bundle_json == kPartnerBundle);
  CHECK(ds.GetBundle(partner)->sequence == 3);

  REQUIRE(ds.CreateFederationRelationship(WebRelationship("acme.com"), std::nullopt).ok());
  CHECK(ds.GetBundle(Td("acme.com")).status().code() == absl::StatusCode::kNotFound);
  auto all = ds.ListFederationRelationships();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].trust_domain.name() == "acme.com");
  CHECK(!(*all)[0].endpoint_spiffe_id.has_value());
  CHECK((*all)[1] == *created);

  // A refresh state, then an update: the endpoint changes, the state is kept but due now.
  FederationRefreshState state{1'800'000'010, 1'800'000'010, 1'800'000'310, "", 0};
  REQUIRE(ds.RecordFederationRefresh(partner, state).ok());
  backend.clock.Advance(std::chrono::seconds(20));
  FederationRelationship changed = SpiffeRelationship();
  changed.bundle_endpoint_url = "https://other.partner.example.com/";
  auto updated = ds.UpdateFederationRelationship(changed);
  REQUIRE(updated.ok());
  CHECK(updated->created_at == 1'800'000'000);
  CHECK(updated->updated_at == 1'800'000'020);
  CHECK(updated->refresh.last_success_at == 1'800'000'010);
  CHECK(updated->refresh.next_refresh_at == 0);
  CHECK(*ds.GetFederationRelationship(partner) == *updated);

  const int64_t revision = *ds.CurrentRevision();
  CHECK(ds.DeleteFederationRelationship(partner).ok());
  CHECK(ds.GetFederationRelationship(partner).status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.GetBundle(partner).status().code() == absl::StatusCode::kNotFound);
  auto changes = ds.ListChanges(revision, 0);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);
  CHECK((*changes)[0].kind == ChangeKind::kBundle);
  CHECK((*changes)[0].deleted);
  auto again = ds.DeleteFederationRelationship(partner);
  CHECK(again.code() == absl::StatusCode::kNotFound);
  CHECK(again.message() == "federation relationship with \"partner.example.com\" not found");
}

TEST_CASE_TEMPLATE("federation: refusals change nothing", B, SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateFederationRelationship(SpiffeRelationship(), std::nullopt).ok());
  auto dup = ds.CreateFederationRelationship(SpiffeRelationship(), std::nullopt);
  CHECK(dup.status().code() == absl::StatusCode::kAlreadyExists);

  FederationRelationship http = WebRelationship("a.test");
  http.bundle_endpoint_url = "http://a.test/";
  FederationRelationship userinfo = WebRelationship("b.test");
  userinfo.bundle_endpoint_url = "https://user@b.test/";
  FederationRelationship no_id = SpiffeRelationship("c.test");
  no_id.endpoint_spiffe_id.reset();
  FederationRelationship web_with_id = WebRelationship("d.test");
  web_with_id.endpoint_spiffe_id = Id("spiffe://d.test/x");
  FederationRelationship bad_profile = WebRelationship("e.test");
  bad_profile.profile = "https_mystery";
  for (const FederationRelationship& bad : {http, userinfo, no_id, web_with_id, bad_profile}) {
    auto refused = ds.CreateFederationRelationship(bad, std::nullopt);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(refused.status().message(), bad.trust_domain.name()));
  }
  auto wrong_td = ds.CreateFederationRelationship(WebRelationship("f.test"),
                                                  BundleRecord{Td("g.test"), kPartnerBundle, 1, 0});
  CHECK(wrong_td.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(wrong_td.status().message(), "g.test"));
  auto not_json = ds.CreateFederationRelationship(WebRelationship("f.test"),
                                                  BundleRecord{Td("f.test"), "[1]", 1, 0});
  CHECK(not_json.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ds.ListFederationRelationships()->size() == 1);
  CHECK(ds.ListBundles()->empty());

  auto missing = ds.UpdateFederationRelationship(WebRelationship("zz.test"));
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  auto gone = ds.RecordFederationRefresh(Td("zz.test"), FederationRefreshState{});
  CHECK(gone.status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.ListFederationRelationships()->size() == 1);
}

TEST_CASE_TEMPLATE("server bundles: publish per replica, never roll back, delete a replica", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  const common::TrustDomain zone = Td("inference.example.org");
  const common::TrustDomain control = Td("control.example.org");
  REQUIRE(ds.PublishServerBundle({"replica-b", zone, R"({"keys":[1]})", 4, 0}).ok());
  REQUIRE(ds.PublishServerBundle({"replica-a", zone, R"({"keys":[2]})", 2, 0}).ok());
  REQUIRE(ds.PublishServerBundle({"replica-a", control, R"({"keys":[]})", 1, 0}).ok());
  auto all = ds.ListServerBundles();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].trust_domain == control);
  CHECK((*all)[1].server_id == "replica-a");
  CHECK((*all)[2].server_id == "replica-b");
  CHECK((*all)[2].updated_at == 1'800'000'000);

  const int64_t revision = *ds.CurrentRevision();
  auto stale = ds.PublishServerBundle({"replica-b", zone, R"({"keys":[]})", 3, 0});
  CHECK(stale.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(stale.status().message(), "replica-b"));
  auto same = ds.PublishServerBundle({"replica-b", zone, R"({"keys":[1]})", 4, 0});
  REQUIRE(same.ok());
  CHECK(*ds.CurrentRevision() == revision);  // unchanged: nobody woken

  backend.clock.Advance(std::chrono::seconds(3));
  REQUIRE(ds.PublishServerBundle({"replica-b", zone, R"({"keys":[5]})", 5, 0}).ok());
  CHECK(*ds.CurrentRevision() > revision);
  CHECK(ds.ListServerBundles()->at(2).updated_at == 1'800'000'003);

  CHECK(ds.PublishServerBundle({"", zone, "{}", 1, 0}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ds.PublishServerBundle({"replica-c", zone, "nope", 1, 0}).status().code() ==
        absl::StatusCode::kInvalidArgument);

  auto removed = ds.DeleteServerBundles("replica-a");
  REQUIRE(removed.ok());
  CHECK(*removed == 2);
  REQUIRE(ds.ListServerBundles()->size() == 1);
  CHECK(*ds.DeleteServerBundles("replica-a") == 0);
}

}  // namespace
}  // namespace spinel::server::testing
