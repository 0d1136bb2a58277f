// Failing federation relationships in /readyz (server/http/https_server.cc): reported, not unready.
#include <doctest/doctest.h>
#include <httplib.h>

#include <string>

#include "common/spiffe_id.h"
#include "server/federation/federation_refresher.h"
#include "server/http/https_server.h"
#include "tests/server/federation/test_bundle_server.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

using spinel::server::FederationRefresher;
using spinel::server::FederationRelationship;
using spinel::server::HttpsServer;
using spinel::server::HttpsServerOptions;
using spinel::server::testing::FederationDepsOf;
using spinel::server::testing::HttpsDepsOf;
using spinel::server::testing::ServerFixture;

TEST_CASE("federation health: a failing relationship is a /readyz line, still 200") {
  ServerFixture f;
  auto https = HttpsServer::Create(HttpsDepsOf(f), HttpsServerOptions{"127.0.0.1:0", "", ""});
  REQUIRE(https.ok());
  REQUIRE((*https)->Start().ok());
  httplib::Client client("127.0.0.1", (*https)->port());
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "ready");

  FederationRelationship r;
  r.trust_domain = *spinel::common::TrustDomain::Parse("remote.example");
  r.profile = "https_web";
  r.bundle_endpoint_url =
      "https://127.0.0.1:" + std::to_string(spinel::testing::ClosedPort()) + "/bundle";
  REQUIRE(f.datastore->CreateFederationRelationship(r, std::nullopt).ok());
  FederationRefresher refresher(FederationDepsOf(f), {});
  auto after = refresher.RefreshNow(r.trust_domain);
  REQUIRE(after.ok());
  REQUIRE(after->refresh.consecutive_failures == 1);

  ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body.rfind("ready\nfederation failing (last good bundle kept): remote.example: "
                          "bundle endpoint " +
                              r.bundle_endpoint_url,
                          0) == 0);
  (*https)->Stop();
}
