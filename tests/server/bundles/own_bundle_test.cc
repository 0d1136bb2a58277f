#include "server/bundles/own_bundle.h"

#include <doctest/doctest.h>

#include <chrono>

#include "tests/server/server_fixture.h"

using namespace std::chrono_literals;
using spinel::server::BundleRefreshHint;
using spinel::server::testing::ServerFixture;

TEST_CASE("own bundle: the refresh hint is a fifteenth of the CA lifetime, at most 300 s") {
  spinel::server::testing::ServerFixtureOptions options;
  options.control_ca_ttl = 1h;
  ServerFixture f(options);
  CHECK(BundleRefreshHint(*f.cas->Snapshot(f.config.trust_domain)) == 240s);
  CHECK(BundleRefreshHint(*f.cas->Snapshot(f.zone("inference").trust_domain)) == 300s);
  CHECK(BundleRefreshHint(spinel::server::AuthoritySnapshot{}) == 300s);
}
