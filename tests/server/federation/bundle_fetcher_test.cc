#include "server/federation/bundle_fetcher.h"

#include <doctest/doctest.h>

#include <string>

#include "common/bundle.h"
#include "common/strings.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/federation/test_bundle_server.h"

using spinel::common::Bundle;
using spinel::common::SpiffeId;
using spinel::common::TrustDomain;
using spinel::common::X509AuthorityMap;
using spinel::server::BundleFetcher;
using spinel::server::FederationRelationship;
using spinel::server::ParseHttpsUrl;
using spinel::testing::BundleJsonOf;
using spinel::testing::ClosedPort;
using spinel::testing::FakeClock;
using spinel::testing::TestBundleServer;
using spinel::testing::TestCa;

namespace {

const std::string kEndpointId = "spiffe://remote.example/spinel/bundle-endpoint";

spinel::common::TimePoint Now() {
  return spinel::common::FromUnixSeconds(
      spinel::common::ToUnixSeconds(std::chrono::system_clock::now()));
}

// A foreign trust domain remote.example with its bundle endpoint serving an SVID of `id`.
struct Remote {
  FakeClock clock{Now()};
  TestCa ca = TestCa::Root("remote.example", clock.Now());
  TestCa issuing = ca.Intermediate(clock.Now());
  spinel::testing::TestLeaf leaf = issuing.Mint(kEndpointId, clock.Now());
  TestBundleServer server{issuing.ChainFor(leaf.cert), leaf.key};
  X509AuthorityMap authorities{{{ca.td(), {ca.root()}}}};

  FederationRelationship Relationship(const std::string& endpoint_id = kEndpointId) const {
    FederationRelationship r;
    r.trust_domain = ca.td();
    r.bundle_endpoint_url = server.url();
    r.profile = "https_spiffe";
    r.endpoint_spiffe_id = *SpiffeId::Parse(endpoint_id);
    return r;
  }
};

std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

TEST_CASE("fetcher: https_spiffe fetches and verifies the bundle of the trust domain") {
  Remote remote;
  remote.server.Serve(BundleJsonOf(remote.ca, 7, 60));
  BundleFetcher fetcher(remote.clock);
  auto bundle = fetcher.Fetch(remote.Relationship(), remote.authorities);
  REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString());
  CHECK(bundle->trust_domain == remote.ca.td());
  REQUIRE(bundle->x509_authorities.size() == 1);
  CHECK(bundle->x509_authorities[0].Equals(remote.ca.root()));
  CHECK(bundle->sequence == 7u);
  CHECK(bundle->refresh_hint_seconds == 60);
  CHECK(remote.server.requests() == 1);
}

TEST_CASE("fetcher: https_spiffe refuses a server with another SPIFFE ID, before any request") {
  Remote remote;
  remote.server.Serve(BundleJsonOf(remote.ca));
  BundleFetcher fetcher(remote.clock);
  auto bundle =
      fetcher.Fetch(remote.Relationship("spiffe://remote.example/other"), remote.authorities);
  REQUIRE_FALSE(bundle.ok());
  CHECK(bundle.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Message(bundle.status()).find(remote.server.url()) != std::string::npos);
  CHECK(Message(bundle.status()).find("presented SPIFFE ID " + kEndpointId) != std::string::npos);
  CHECK(remote.server.requests() == 0);
}

TEST_CASE("fetcher: https_spiffe refuses an SVID of another CA") {
  Remote remote;
  remote.server.Serve(BundleJsonOf(remote.ca));
  TestCa impostor = TestCa::Root("remote.example", remote.clock.Now());
  X509AuthorityMap wrong{{{impostor.td(), {impostor.root()}}}};
  auto bundle = BundleFetcher(remote.clock).Fetch(remote.Relationship(), wrong);
  REQUIRE_FALSE(bundle.ok());
  CHECK(bundle.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Message(bundle.status()).find("X509-SVID does not verify") != std::string::npos);
  CHECK(remote.server.requests() == 0);

  // No bundle at all for the endpoint's trust domain.
  auto none = BundleFetcher(remote.clock).Fetch(remote.Relationship(), X509AuthorityMap{});
  REQUIRE_FALSE(none.ok());
  CHECK(Message(none.status()).find("remote.example") != std::string::npos);
}

TEST_CASE("fetcher: https_spiffe refuses an expired endpoint SVID (the injected clock)") {
  Remote remote;
  remote.server.Serve(BundleJsonOf(remote.ca));
  remote.clock.Advance(std::chrono::hours(2));  // the leaf lives 1 h
  auto bundle = BundleFetcher(remote.clock).Fetch(remote.Relationship(), remote.authorities);
  REQUIRE_FALSE(bundle.ok());
  CHECK(Message(bundle.status()).find("expired") != std::string::npos);
}

TEST_CASE("fetcher: refuses bodies that are not a bundle of the relationship's trust domain") {
  Remote remote;
  BundleFetcher fetcher(remote.clock);
  auto refusal = [&](const std::string& body, int status = 200) {
    remote.server.Serve(body, status);
    auto bundle = fetcher.Fetch(remote.Relationship(), remote.authorities);
    REQUIRE_FALSE(bundle.ok());
    CHECK(Message(bundle.status()).find(remote.server.url()) != std::string::npos);
    return Message(bundle.status());
  };
  TestCa other = TestCa::Root("other.example", remote.clock.Now());
  CHECK(refusal(BundleJsonOf(other)).find("belongs to \"spiffe://other.example\"") !=
        std::string::npos);
  CHECK(refusal("{\"keys\": [").find("not a bundle of remote.example") != std::string::npos);
  CHECK(refusal("[1, 2]").find("not a bundle") != std::string::npos);
  const std::string big = "{\"keys\": [], \"pad\": \"" + std::string(1 << 20, 'x') + "\"}";
  CHECK(refusal(big).find("larger than 1048576 bytes") != std::string::npos);
  CHECK(refusal("{}", 404).find("HTTP status 404") != std::string::npos);

  // A body just under the limit is fine.
  const std::string pad(1000, 'y');
  remote.server.Serve("{\"keys\": [], \"pad\": \"" + pad + "\"}");
  CHECK(fetcher.Fetch(remote.Relationship(), remote.authorities).ok());
}

TEST_CASE("fetcher: an unreachable endpoint and bad URLs are clear errors") {
  FakeClock clock(Now());
  FederationRelationship r;
  r.trust_domain = *TrustDomain::Parse("remote.example");
  r.profile = "https_web";
  r.bundle_endpoint_url = "https://127.0.0.1:" + std::to_string(ClosedPort()) + "/";
  BundleFetcher fetcher(clock, {std::chrono::seconds(3)});
  auto unreachable = fetcher.Fetch(r, X509AuthorityMap{});
  REQUIRE_FALSE(unreachable.ok());
  CHECK(unreachable.status().code() == absl::StatusCode::kUnavailable);
  CHECK(Message(unreachable.status()).find(r.bundle_endpoint_url) != std::string::npos);
  CHECK(Message(unreachable.status()).find("cannot connect") != std::string::npos);

  r.bundle_endpoint_url = "http://127.0.0.1:1/";
  CHECK(fetcher.Fetch(r, X509AuthorityMap{}).status().code() == absl::StatusCode::kInvalidArgument);
  r.bundle_endpoint_url = "https://127.0.0.1:1/";
  r.profile = "https_spiffe";  // without endpoint SPIFFE ID
  CHECK(fetcher.Fetch(r, X509AuthorityMap{}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("fetcher: ParseHttpsUrl") {
  auto url = ParseHttpsUrl("https://example.org:8443/bundle?x=1");
  REQUIRE(url.ok());
  CHECK(url->host == "example.org");
  CHECK(url->port == 8443);
  CHECK(url->path == "/bundle?x=1");
  url = ParseHttpsUrl("https://[::1]");
  REQUIRE(url.ok());
  CHECK(url->host == "::1");
  CHECK(url->port == 443);
  CHECK(url->path == "/");
  CHECK_FALSE(ParseHttpsUrl("http://example.org/").ok());
  CHECK_FALSE(ParseHttpsUrl("https://:80/").ok());
  CHECK_FALSE(ParseHttpsUrl("https://example.org:0/").ok());
  CHECK_FALSE(ParseHttpsUrl("https://example.org:99999/").ok());
  CHECK_FALSE(ParseHttpsUrl("https://user@example.org/").ok());
}
