#include "server/federation/federation_refresher.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/bundle.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/federation/test_bundle_server.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

using namespace std::chrono_literals;
using spinel::common::Bundle;
using spinel::common::SpiffeId;
using spinel::common::ToUnixSeconds;
using spinel::common::TrustDomain;
using spinel::server::BundleRecord;
using spinel::server::FailingFederations;
using spinel::server::FederationRefresher;
using spinel::server::FederationRefresherOptions;
using spinel::server::FederationRelationship;
using spinel::server::kMetricFederatedBundleLastSuccess;
using spinel::server::kMetricFederationRefresh;
using spinel::server::testing::FederationDepsOf;
using spinel::server::testing::ServerFixture;
using spinel::testing::BundleJsonOf;
using spinel::testing::TestBundleServer;
using spinel::testing::TestCa;

namespace {

const std::string kEndpointId = "spiffe://remote.example/spinel/bundle-endpoint";

// A server (fixture) federating with remote.example, whose bundle endpoint is a real HTTPS
// server presenting remote.example's endpoint SVID; the initial bundle is stored at sequence 1.
struct World {
  ServerFixture f;
  TestCa ca = TestCa::Root("remote.example", f.clock.Now());
  spinel::testing::TestLeaf leaf = ca.Mint(kEndpointId, f.clock.Now(), 24h);
  TestBundleServer server{ca.ChainFor(leaf.cert), leaf.key};
  TrustDomain td = ca.td();

  explicit World(std::chrono::seconds default_interval = 300s) {
    FederationRelationship r;
    r.trust_domain = td;
    r.bundle_endpoint_url = server.url();
    r.profile = "https_spiffe";
    r.endpoint_spiffe_id = *SpiffeId::Parse(kEndpointId);
    BundleRecord initial{td, BundleJsonOf(ca, 1), 1};
    auto created = f.datastore->CreateFederationRelationship(r, initial);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    options.default_refresh_interval = default_interval;
  }

  FederationRefresherOptions options;
  int64_t now() const { return ToUnixSeconds(f.clock.Now()); }
  BundleRecord Stored() {
    auto stored = f.datastore->GetBundle(td);
    REQUIRE(stored.ok());
    return *stored;
  }
  double Refreshes(const std::string& outcome) {
    return f.metrics.Value(kMetricFederationRefresh,
                           {{"trust_domain", td.name()}, {"outcome", outcome}});
  }
};

}  // namespace

TEST_CASE("refresher: RefreshNow stores a newer bundle and schedules by its refresh hint") {
  World w;
  TestCa rotated = TestCa::Root("remote.example", w.f.clock.Now());
  Bundle next;
  next.trust_domain = w.td;
  next.x509_authorities = {w.ca.root(), rotated.root()};
  next.sequence = 2;
  next.refresh_hint_seconds = 60;
  w.server.Serve(*next.ToJson());
  const int64_t revision = *w.f.datastore->CurrentRevision();

  FederationRefresher refresher(FederationDepsOf(w.f), w.options);
  auto after = refresher.RefreshNow(w.td);
  REQUIRE_MESSAGE(after.ok(), after.status().ToString());
  CHECK(after->refresh.last_error == "");
  CHECK(after->refresh.consecutive_failures == 0);
  CHECK(after->refresh.last_attempt_at == w.now());
  CHECK(after->refresh.last_success_at == w.now());
  CHECK(after->refresh.next_refresh_at == w.now() + 60);
  BundleRecord stored = w.Stored();
  CHECK(stored.sequence == 2);
  auto parsed = Bundle::Parse(w.td, stored.bundle_json);
  REQUIRE(parsed.ok());
  CHECK(parsed->Equals(next));
  CHECK(*w.f.datastore->CurrentRevision() > revision);  // a bundle change agents are told of
  CHECK(w.Refreshes("success") == 1);
  CHECK(w.f.metrics.Value(kMetricFederatedBundleLastSuccess, {{"trust_domain", w.td.name()}}) ==
        static_cast<double>(w.now()));
  CHECK(FailingFederations(*w.f.datastore)->empty());
}

TEST_CASE("refresher: a failed fetch keeps the last good bundle, records why, backs off") {
  World w;
  w.server.Serve(BundleJsonOf(w.ca, 3, 100));
  FederationRefresher refresher(FederationDepsOf(w.f), w.options);
  REQUIRE(refresher.RefreshNow(w.td).ok());
  const BundleRecord good = w.Stored();
  CHECK(good.sequence == 3);

  w.server.Serve("{not json");
  w.f.clock.Advance(100s);
  auto failed = refresher.RefreshNow(w.td);
  REQUIRE(failed.ok());  // a failed fetch is not an error of RefreshNow
  CHECK(failed->refresh.consecutive_failures == 1);
  CHECK(failed->refresh.last_error.find(w.server.url()) != std::string::npos);
  CHECK(failed->refresh.last_error.find("not a bundle") != std::string::npos);
  CHECK(failed->refresh.last_success_at == w.now() - 100);
  CHECK(failed->refresh.next_refresh_at == w.now() + 1);
  CHECK(w.Stored() == good);
  CHECK(w.Refreshes("failure") == 1);
  auto failing = FailingFederations(*w.f.datastore);
  REQUIRE(failing.ok());
  REQUIRE(failing->size() == 1);
  CHECK((*failing)[0].rfind("remote.example: bundle endpoint ", 0) == 0);

  // 1 s, 2 s, 4 s ... capped at the stored bundle's refresh hint (100 s).
  int64_t expected_delay = 1;
  for (int i = 2; i <= 9; ++i) {
    auto again = refresher.RefreshNow(w.td);
    REQUIRE(again.ok());
    expected_delay = std::min<int64_t>(expected_delay * 2, 100);
    CHECK(again->refresh.consecutive_failures == i);
    CHECK(again->refresh.next_refresh_at == w.now() + expected_delay);
  }
  CHECK(expected_delay == 100);

  // A bundle with a lower sequence than the stored one is refused too.
  w.server.Serve(BundleJsonOf(w.ca, 2));
  auto backwards = refresher.RefreshNow(w.td);
  REQUIRE(backwards.ok());
  CHECK(backwards->refresh.last_error.find("sequence went backwards (stored 3, fetched 2)") !=
        std::string::npos);
  CHECK(w.Stored() == good);

  // Recovery clears the failure state.
  w.server.Serve(BundleJsonOf(w.ca, 4, 100));
  auto recovered = refresher.RefreshNow(w.td);
  REQUIRE(recovered.ok());
  CHECK(recovered->refresh.consecutive_failures == 0);
  CHECK(recovered->refresh.last_error.empty());
  CHECK(w.Stored().sequence == 4);
  CHECK(FailingFederations(*w.f.datastore)->empty());
}

TEST_CASE("refresher: RefreshDue fetches only what is due, at the hint (clamped) or default") {
  World w(/*default_interval=*/120s);
  FederationRefresher refresher(FederationDepsOf(w.f), w.options);
  w.server.Serve(BundleJsonOf(w.ca, 2, 30));
  CHECK(*refresher.RefreshDue() == 1);  // new relationship: next_refresh_at 0
  CHECK(*refresher.RefreshDue() == 0);
  w.f.clock.Advance(29s);
  CHECK(*refresher.RefreshDue() == 0);
  w.f.clock.Advance(1s);
  CHECK(*refresher.RefreshDue() == 1);
  CHECK(w.server.requests() == 2);

  w.server.Serve(BundleJsonOf(w.ca, 3));  // no hint: the default interval
  w.f.clock.Advance(30s);
  REQUIRE(*refresher.RefreshDue() == 1);
  CHECK(w.f.datastore->GetFederationRelationship(w.td)->refresh.next_refresh_at == w.now() + 120);

  w.server.Serve(BundleJsonOf(w.ca, 4, 0));  // clamped to 1 s
  CHECK(refresher.RefreshNow(w.td)->refresh.next_refresh_at == w.now() + 1);
  w.server.Serve(BundleJsonOf(w.ca, 5, 86400));  // clamped to 1 h
  CHECK(refresher.RefreshNow(w.td)->refresh.next_refresh_at == w.now() + 3600);
}

TEST_CASE("refresher: RefreshNow on an unknown trust domain is NotFound") {
  ServerFixture f;
  FederationRefresher refresher(FederationDepsOf(f), {});
  auto missing = refresher.RefreshNow(*TrustDomain::Parse("nowhere.example"));
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("refresher: the background thread fetches a new relationship soon") {
  World w;
  w.server.Serve(BundleJsonOf(w.ca, 9));
  w.options.poll_interval = std::chrono::milliseconds(20);
  FederationRefresher refresher(FederationDepsOf(w.f), w.options);
  refresher.Start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (w.Stored().sequence != 9 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  refresher.Stop();
  CHECK(w.Stored().sequence == 9);
}
