// The admin service's federation RPCs over real components (SQLite, CAs, sync hub) and a real
// gRPC channel (admin_harness.h): the create/get/list/update/delete round trip with the stored
// foreign bundle, audit events and sync notifications, every refusal of a bad request (and that
// it changed nothing), and RefreshFederatedBundle without a refresher.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/bundle.h"
#include "server/audit/audit_log.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/api/admin/admin_harness.h"

using spinel::server::testing::AdminHarness;
using spinel::testing::TestCa;
using Stub = spinel::v1::AdminService::Stub;
using Relationship = spinel::v1::FederationRelationship;

namespace {

constexpr char kPartnerTd[] = "partner.example.com";
constexpr char kPartnerUrl[] = "https://bundle.partner.example.com:8443/bundle";
constexpr char kPartnerEndpointId[] = "spiffe://partner.example.com/spinel/bundle-endpoint";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The SPIFFE bundle JSON of `td` holding `ca`'s certificate.
std::string BundleJson(const TestCa& ca, const std::string& td, uint64_t sequence) {
  auto trust_domain = spinel::common::TrustDomain::Parse(td);
  REQUIRE(trust_domain.ok());
  spinel::common::Bundle bundle;
  bundle.trust_domain = *trust_domain;
  bundle.x509_authorities = {ca.cert()};
  bundle.sequence = sequence;
  auto json = bundle.ToJson();
  REQUIRE(json.ok());
  return *json;
}

Relationship SpiffeRelationship(const std::string& td = kPartnerTd) {
  Relationship r;
  r.set_trust_domain(td);
  r.set_bundle_endpoint_url(kPartnerUrl);
  r.set_profile("https_spiffe");
  r.set_endpoint_spiffe_id("spiffe://" + td + "/spinel/bundle-endpoint");
  return r;
}

Relationship WebRelationship(const std::string& td, const std::string& url) {
  Relationship r;
  r.set_trust_domain(td);
  r.set_bundle_endpoint_url(url);
  r.set_profile("https_web");
  return r;
}

// Creates as the operator `user` (spinel-operator metadata, as the CLI sends it).
grpc::Status CreateAs(AdminHarness& h, const Relationship& r, const std::string& bundle,
                      Relationship* out, const std::string& user = "alice") {
  spinel::v1::CreateFederationRelationshipRequest request;
  *request.mutable_relationship() = r;
  request.set_initial_bundle(bundle);
  grpc::ClientContext context;
  context.AddMetadata("spinel-operator", user);
  return h.stub->CreateFederationRelationship(&context, request, out);
}

grpc::Status Create(AdminHarness& h, const Relationship& r, const std::string& bundle = "") {
  Relationship ignored;
  return CreateAs(h, r, bundle, &ignored);
}

spinel::v1::TrustDomainRequest TdRequest(const std::string& td) {
  spinel::v1::TrustDomainRequest request;
  request.set_trust_domain(td);
  return request;
}

std::vector<spinel::server::AuditEvent> FederationEvents(AdminHarness& h) {
  auto events = h.fixture.datastore->ListAuditEvents({});
  REQUIRE(events.ok());
  std::vector<spinel::server::AuditEvent> out;
  for (const auto& event : *events) {
    if (event.kind.rfind("federation.", 0) == 0) out.push_back(event);
  }
  return out;
}

// Nothing of federation stored: no relationship, no bundle, no audit event.
void RequireNothingStored(AdminHarness& h) {
  auto relationships = h.fixture.datastore->ListFederationRelationships();
  REQUIRE(relationships.ok());
  CHECK(relationships->empty());
  auto bundles = h.fixture.datastore->ListBundles();
  REQUIRE(bundles.ok());
  CHECK(bundles->empty());
  CHECK(FederationEvents(h).empty());
}

// Counts the sync hub's refresh passes.
class CountingSubscriber final : public spinel::server::SyncSubscriber {
 public:
  void Refresh() override { ++count; }
  std::atomic<int> count{0};
};

bool WaitForCount(const CountingSubscriber& subscriber, int at_least) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (subscriber.count.load() >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return subscriber.count.load() >= at_least;
}

}  // namespace

TEST_CASE("admin federation: create, get, list, update and delete with the stored bundle") {
  AdminHarness h;
  CountingSubscriber subscriber;
  h.fixture.hub->Subscribe(&subscriber);
  const TestCa partner_ca = TestCa::Root(kPartnerTd, h.fixture.clock.Now());
  const std::string bundle = BundleJson(partner_ca, kPartnerTd, 7);

  Relationship created;
  grpc::Status status = CreateAs(h, SpiffeRelationship(), bundle, &created);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(created.trust_domain() == kPartnerTd);
  CHECK(created.profile() == "https_spiffe");
  CHECK(created.endpoint_spiffe_id() == kPartnerEndpointId);
  CHECK(created.created_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now()));
  CHECK(created.refresh().last_attempt_at() == 0);
  REQUIRE(created.has_bundle());
  CHECK(created.bundle().sequence() == 7);
  CHECK(created.bundle().jwks() == bundle);
  CHECK(WaitForCount(subscriber, 1));  // agents hear of it at once

  const TestCa web_ca = TestCa::Root("webpki.test", h.fixture.clock.Now());
  Relationship web = WebRelationship("aaa.example.org", "https://aaa.example.org/");
  web.set_web_ca_pem(web_ca.cert().ToPem());
  REQUIRE(Create(h, web).ok());

  // Get shows the stored bundle; List is in trust-domain order, a bundle only where stored.
  Relationship got;
  REQUIRE(h.Call(&Stub::GetFederationRelationship, TdRequest(kPartnerTd), &got).ok());
  CHECK(got.bundle().jwks() == bundle);
  CHECK(got.bundle_endpoint_url() == kPartnerUrl);
  spinel::v1::ListFederationRelationshipsResponse list;
  REQUIRE(h.Call(&Stub::ListFederationRelationships, spinel::v1::Empty(), &list).ok());
  REQUIRE(list.relationships_size() == 2);
  CHECK(list.relationships(0).trust_domain() == "aaa.example.org");
  CHECK(list.relationships(0).web_ca_pem() == web_ca.cert().ToPem());
  CHECK_FALSE(list.relationships(0).has_bundle());
  CHECK(list.relationships(1).bundle().sequence() == 7);

  // Update: another URL and profile; created_at and the bundle stay.
  h.fixture.clock.Advance(std::chrono::seconds(60));
  Relationship change = WebRelationship(kPartnerTd, "https://partner.example.com/v2");
  Relationship updated;
  status = h.Call(&Stub::UpdateFederationRelationship, change, &updated);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(updated.profile() == "https_web");
  CHECK(updated.endpoint_spiffe_id().empty());
  CHECK(updated.bundle_endpoint_url() == "https://partner.example.com/v2");
  CHECK(updated.created_at() == created.created_at());
  CHECK(updated.updated_at() == created.created_at() + 60);
  CHECK(updated.bundle().sequence() == 7);
  CHECK(WaitForCount(subscriber, 2));

  // Delete takes the bundle with it.
  spinel::v1::Empty empty;
  REQUIRE(h.Call(&Stub::DeleteFederationRelationship, TdRequest(kPartnerTd), &empty).ok());
  CHECK(h.Call(&Stub::GetFederationRelationship, TdRequest(kPartnerTd), &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  auto td = spinel::common::TrustDomain::Parse(kPartnerTd);
  CHECK(absl::IsNotFound(h.fixture.datastore->GetBundle(*td).status()));
  CHECK(WaitForCount(subscriber, 3));
  list.Clear();
  REQUIRE(h.Call(&Stub::ListFederationRelationships, spinel::v1::Empty(), &list).ok());
  REQUIRE(list.relationships_size() == 1);
  CHECK(list.relationships(0).trust_domain() == "aaa.example.org");

  // Audited, by the operator, with the trust domain as subject.
  std::vector<spinel::server::AuditEvent> events = FederationEvents(h);
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == "federation.created");
  CHECK(events[0].actor == "operator:alice");
  CHECK(events[0].subject == "spiffe://partner.example.com");
  CHECK(Contains(events[0].details, kPartnerUrl));
  CHECK(events[1].kind == "federation.created");
  CHECK(events[2].kind == "federation.updated");
  CHECK(events[2].actor == "operator:unknown");  // the harness sends no operator name
  CHECK(events[3].kind == "federation.deleted");
  CHECK(events[3].subject == "spiffe://partner.example.com");
  h.fixture.hub->Unsubscribe(&subscriber);
}

TEST_CASE(
    "admin federation: every bad create is INVALID_ARGUMENT naming the field, nothing stored") {
  AdminHarness h;
  const TestCa partner_ca = TestCa::Root(kPartnerTd, h.fixture.clock.Now());
  const TestCa other_ca = TestCa::Root("other.example.com", h.fixture.clock.Now());
  const std::string good_bundle = BundleJson(partner_ca, kPartnerTd, 1);
  struct Case {
    std::string name;
    Relationship relationship;
    std::string bundle;
    std::string message;  // expected in the error
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, auto edit, std::string message, std::string bundle = "") {
    Relationship r = SpiffeRelationship();
    edit(r);
    cases.push_back({std::move(name), r, bundle.empty() ? good_bundle : bundle, message});
  };
  add(
      "no trust domain", [](Relationship& r) { r.clear_trust_domain(); }, "trust_domain: ");
  add(
      "SPIFFE ID as trust domain",
      [](Relationship& r) { r.set_trust_domain("spiffe://partner.example.com"); },
      "trust_domain: ");
  add(
      "bad trust domain", [](Relationship& r) { r.set_trust_domain("Part ner"); },
      "trust_domain: ");
  add(
      "control trust domain", [](Relationship& r) { r.set_trust_domain("spinel.ai.example.org"); },
      "trust_domain: \"spinel.ai.example.org\" is a trust domain this server signs for");
  add(
      "zone trust domain", [](Relationship& r) { r.set_trust_domain("tools.ai.example.org"); },
      "trust_domain: \"tools.ai.example.org\" is a trust domain this server signs for");
  for (const char* url : {"", "http://partner.example.com/", "https://", "https:///path",
                          "https://user@partner.example.com/", "https://partner.example.com:0/",
                          "https://partner.example.com:99999/", "https://partner.example.com:x/",
                          "https://part ner.example.com/", "https://partner.example.com/#f",
                          "https://-partner.example.com/", "https://[::1/", "ftp://a.b/"}) {
    add(
        std::string("url ") + url, [url](Relationship& r) { r.set_bundle_endpoint_url(url); },
        "bundle_endpoint_url: ");
  }
  add(
      "no profile", [](Relationship& r) { r.clear_profile(); }, "profile: required");
  add(
      "unknown profile", [](Relationship& r) { r.set_profile("spiffe"); },
      "profile: \"spiffe\" is not https_web or https_spiffe");
  add(
      "https_spiffe without ID", [](Relationship& r) { r.clear_endpoint_spiffe_id(); },
      "endpoint_spiffe_id: required for profile https_spiffe");
  add(
      "bad endpoint ID", [](Relationship& r) { r.set_endpoint_spiffe_id("spiffe://UPPER/x"); },
      "endpoint_spiffe_id: \"spiffe://UPPER/x\"");
  add(
      "https_spiffe with web CAs",
      [&](Relationship& r) { r.set_web_ca_pem(partner_ca.cert().ToPem()); },
      "web_ca_pem: only for profile https_web");
  add(
      "https_web with an endpoint ID", [](Relationship& r) { r.set_profile("https_web"); },
      "endpoint_spiffe_id: only for profile https_spiffe");
  add(
      "web CAs not PEM",
      [](Relationship& r) {
        r.set_profile("https_web");
        r.clear_endpoint_spiffe_id();
        r.set_web_ca_pem("not a certificate");
      },
      "web_ca_pem: ");
  add(
      "bundle not JSON", [](Relationship&) {}, "initial_bundle: ", "{not json");
  add(
      "bundle without authorities", [](Relationship&) {},
      "initial_bundle: has no X.509, JWT or WIT", "{\"keys\":[]}");
  add(
      "another trust domain's bundle", [](Relationship&) {},
      "initial_bundle: X.509 authority #1 names \"spiffe://other.example.com\"",
      BundleJson(other_ca, "other.example.com", 1));
  {
    Relationship r = SpiffeRelationship();
    cases.push_back({"https_spiffe in its own trust domain without a bundle", r, "",
                     "initial_bundle: required"});
  }
  for (const Case& c : cases) {
    CAPTURE(c.name);
    grpc::Status status = Create(h, c.relationship, c.bundle);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_MESSAGE(Contains(status.error_message(), c.message), status.error_message());
  }
  RequireNothingStored(h);
}

TEST_CASE(
    "admin federation: a second create, bad updates and unknown trust domains change nothing") {
  AdminHarness h;
  const TestCa partner_ca = TestCa::Root(kPartnerTd, h.fixture.clock.Now());
  const std::string bundle = BundleJson(partner_ca, kPartnerTd, 3);
  REQUIRE(Create(h, SpiffeRelationship(), bundle).ok());
  Relationship before;
  REQUIRE(h.Call(&Stub::GetFederationRelationship, TdRequest(kPartnerTd), &before).ok());

  // ALREADY_EXISTS, and the first bundle stays.
  const TestCa other_ca = TestCa::Root(kPartnerTd, h.fixture.clock.Now());
  Relationship again = WebRelationship(kPartnerTd, "https://elsewhere.example.com/");
  CHECK(Create(h, again, BundleJson(other_ca, kPartnerTd, 9)).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  Relationship out;
  Relationship bad = SpiffeRelationship();
  bad.set_bundle_endpoint_url("http://partner.example.com/");
  grpc::Status status = h.Call(&Stub::UpdateFederationRelationship, bad, &out);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "bundle_endpoint_url: "));
  bad = SpiffeRelationship();
  bad.set_trust_domain("inference.ai.example.org");
  CHECK(h.Call(&Stub::UpdateFederationRelationship, bad, &out).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // An update cannot carry a bundle: an https_spiffe endpoint in a trust domain with no
  // stored bundle is refused.
  CHECK(h.Call(&Stub::UpdateFederationRelationship, SpiffeRelationship("unknown.example.com"), &out)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  Relationship unknown = WebRelationship("unknown.example.com", "https://unknown.example.com/");
  CHECK(h.Call(&Stub::UpdateFederationRelationship, unknown, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  spinel::v1::Empty empty;
  CHECK(h.Call(&Stub::DeleteFederationRelationship, TdRequest("unknown.example.com"), &empty)
            .error_code() == grpc::StatusCode::NOT_FOUND);
  status = h.Call(&Stub::DeleteFederationRelationship, TdRequest("spiffe://x.example/y"), &empty);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "trust_domain: "));
  CHECK(h.Call(&Stub::GetFederationRelationship, TdRequest(""), &out).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  Relationship after;
  REQUIRE(h.Call(&Stub::GetFederationRelationship, TdRequest(kPartnerTd), &after).ok());
  CHECK(after.SerializeAsString() == before.SerializeAsString());
  CHECK(FederationEvents(h).size() == 1);  // the first create only
}

TEST_CASE("admin federation: refresh without a running refresher is UNAVAILABLE") {
  AdminHarness h;
  REQUIRE(h.deps.federation == nullptr);
  const TestCa partner_ca = TestCa::Root(kPartnerTd, h.fixture.clock.Now());
  REQUIRE(Create(h, SpiffeRelationship(), BundleJson(partner_ca, kPartnerTd, 1)).ok());
  Relationship out;
  grpc::Status status = h.Call(&Stub::RefreshFederatedBundle, TdRequest(kPartnerTd), &out);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(Contains(status.error_message(), "federation refresher not running"));
  status = h.Call(&Stub::RefreshFederatedBundle, TdRequest("not a td"), &out);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("admin federation: a datastore that does not answer is UNAVAILABLE, nothing notified") {
  spinel::server::testing::UnavailableDatastore down;
  AdminHarness h(&down);
  CountingSubscriber subscriber;
  h.fixture.hub->Subscribe(&subscriber);
  const TestCa partner_ca = TestCa::Root(kPartnerTd, h.fixture.clock.Now());
  CHECK(Create(h, SpiffeRelationship(), BundleJson(partner_ca, kPartnerTd, 1)).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  spinel::v1::ListFederationRelationshipsResponse list;
  CHECK(h.Call(&Stub::ListFederationRelationships, spinel::v1::Empty(), &list).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  CHECK(subscriber.count.load() == 0);
  h.fixture.hub->Unsubscribe(&subscriber);
}

TEST_CASE(
    "admin federation: federation.* audit kinds are the server's own (agents may not report "
    "them)") {
  CHECK(spinel::server::IsServerEventKind("federation.created"));
  CHECK(spinel::server::IsServerEventKind("federation.deleted"));
  CHECK_FALSE(spinel::server::IsServerEventKind("federationx"));
}
