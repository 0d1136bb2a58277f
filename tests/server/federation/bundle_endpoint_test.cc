#include "server/federation/bundle_endpoint.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <memory>
#include <string>

#include "common/bundle.h"
#include "common/file_util.h"
#include "server/bundles/own_bundle.h"
#include "server/federation/bundle_fetcher.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

using spinel::common::Bundle;
using spinel::common::SpiffeId;
using spinel::common::X509AuthorityMap;
using spinel::server::BundleEndpoint;
using spinel::server::BundleEndpointConfig;
using spinel::server::BundleEndpointId;
using spinel::server::BundleFetcher;
using spinel::server::FederationRelationship;
using spinel::server::testing::BundleEndpointDepsOf;
using spinel::server::testing::ServerFixture;
using spinel::testing::TempDir;
using spinel::testing::TestCa;

namespace {

std::unique_ptr<BundleEndpoint> StartEndpoint(ServerFixture& f, BundleEndpointConfig config) {
  auto endpoint = BundleEndpoint::Create(BundleEndpointDepsOf(f), std::move(config));
  REQUIRE_MESSAGE(endpoint.ok(), endpoint.status().ToString());
  REQUIRE((*endpoint)->Start().ok());
  return std::move(*endpoint);
}

Bundle ZoneBundle(ServerFixture& f, const std::string& zone) {
  auto bundle = f.own_bundles->Published(f.zone(zone).trust_domain);
  REQUIRE(bundle.ok());
  return *bundle;
}

FederationRelationship SpiffeRelationship(ServerFixture& f, const std::string& zone, int port) {
  FederationRelationship r;
  r.trust_domain = f.zone(zone).trust_domain;
  r.bundle_endpoint_url = "https://127.0.0.1:" + std::to_string(port) + "/";
  r.profile = "https_spiffe";
  r.endpoint_spiffe_id = BundleEndpointId(r.trust_domain);
  return r;
}

}  // namespace

TEST_CASE("bundle endpoint: https_spiffe serves the zone bundle with the zone's own SVID") {
  ServerFixture f;
  auto endpoint = StartEndpoint(f, {"inference", "127.0.0.1:0", "https_spiffe", "", ""});
  REQUIRE(endpoint->port() > 0);
  auto addr = spinel::common::ReadFile(f.dir + "/bundle-endpoint-inference.addr");
  REQUIRE(addr.ok());
  CHECK(*addr == "127.0.0.1:" + std::to_string(endpoint->port()) + "\n");

  const Bundle expected = ZoneBundle(f, "inference");
  X509AuthorityMap zone_cas{{{expected.trust_domain, expected.x509_authorities}}};
  FederationRelationship r = SpiffeRelationship(f, "inference", endpoint->port());
  CHECK(r.endpoint_spiffe_id->ToString() ==
        "spiffe://inference.ai.example.org/spinel/bundle-endpoint");
  auto fetched = BundleFetcher(f.clock).Fetch(r, zone_cas);
  REQUIRE_MESSAGE(fetched.ok(), fetched.status().ToString());
  CHECK(fetched->Equals(expected));
  REQUIRE(fetched->refresh_hint_seconds.has_value());
  CHECK(*fetched->refresh_hint_seconds >= 1);

  // Any path serves it; the SVID is the zone's, not the control plane's or another zone's.
  r.bundle_endpoint_url += "some/path";
  CHECK(BundleFetcher(f.clock).Fetch(r, zone_cas).ok());
  const Bundle control = *f.own_bundles->Published(f.config.trust_domain);
  X509AuthorityMap control_cas{{{control.trust_domain, control.x509_authorities}}};
  r.endpoint_spiffe_id = *SpiffeId::Parse("spiffe://spinel.ai.example.org/spinel/bundle-endpoint");
  CHECK_FALSE(BundleFetcher(f.clock).Fetch(r, control_cas).ok());
  FederationRelationship other = SpiffeRelationship(f, "retrieval", endpoint->port());
  auto refused = BundleFetcher(f.clock).Fetch(other, zone_cas);
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.status().message()).find("presented SPIFFE ID") != std::string::npos);
}

TEST_CASE("bundle endpoint: HEAD like GET, other methods 405") {
  ServerFixture f;
  auto endpoint = StartEndpoint(f, {"training", "127.0.0.1:0", "https_spiffe", "", ""});
  httplib::SSLClient client("127.0.0.1", endpoint->port());
  client.enable_server_certificate_verification(false);
  auto post = client.Post("/", "{}", "application/json");
  REQUIRE(post);
  CHECK(post->status == 405);
  auto head = client.Head("/");
  REQUIRE(head);
  CHECK(head->status == 200);
  auto get = client.Get("/");
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->get_header_value("Content-Type") == "application/json");
}

TEST_CASE("bundle endpoint: https_web serves with the configured certificate, re-read on change") {
  ServerFixture f;
  TempDir dir;
  TestCa web_ca = TestCa::Root("web.example", f.clock.Now());
  auto leaf = web_ca.Mint("spiffe://web.example/endpoint", f.clock.Now(), std::chrono::hours(1),
                          {"localhost"});
  const std::string cert = dir.Write("web.pem", leaf.cert.ToPem());
  const std::string key = dir.Write("web.key", std::string(leaf.key.ToPkcs8Pem()->view()));
  auto endpoint = StartEndpoint(f, {"retrieval", "127.0.0.1:0", "https_web", cert, key});

  FederationRelationship r;
  r.trust_domain = f.zone("retrieval").trust_domain;
  r.profile = "https_web";
  r.bundle_endpoint_url = "https://localhost:" + std::to_string(endpoint->port()) + "/";
  r.web_ca_pem = web_ca.root().ToPem();
  auto fetched = BundleFetcher(f.clock).Fetch(r, X509AuthorityMap{});
  REQUIRE_MESSAGE(fetched.ok(), fetched.status().ToString());
  CHECK(fetched->Equals(ZoneBundle(f, "retrieval")));

  // Another CA, the system roots, or a host name the certificate does not name: refused.
  TestCa other = TestCa::Root("web.example", f.clock.Now());
  FederationRelationship wrong_ca = r;
  wrong_ca.web_ca_pem = other.root().ToPem();
  auto refused = BundleFetcher(f.clock).Fetch(wrong_ca, X509AuthorityMap{});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(refused.status().message()).find("does not verify") != std::string::npos);
  wrong_ca.web_ca_pem = "";
  CHECK_FALSE(BundleFetcher(f.clock).Fetch(wrong_ca, X509AuthorityMap{}).ok());
  FederationRelationship wrong_host = r;
  wrong_host.bundle_endpoint_url = "https://127.0.0.1:" + std::to_string(endpoint->port()) + "/";
  auto mismatch = BundleFetcher(f.clock).Fetch(wrong_host, X509AuthorityMap{});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(std::string(mismatch.status().message()).find("mismatch") != std::string::npos);

  // A new certificate from another CA in the files: served from the next connection on.
  auto next = other.Mint("spiffe://web.example/endpoint", f.clock.Now(), std::chrono::hours(1),
                         {"localhost"});
  REQUIRE(spinel::common::WriteFileAtomic(key + ".new", next.key.ToPkcs8Pem()->view()).ok());
  REQUIRE(spinel::common::WriteFileAtomic(cert + ".new", next.cert.ToPem()).ok());
  REQUIRE(std::rename((key + ".new").c_str(), key.c_str()) == 0);
  REQUIRE(std::rename((cert + ".new").c_str(), cert.c_str()) == 0);
  wrong_ca.web_ca_pem = other.root().ToPem();
  CHECK(BundleFetcher(f.clock).Fetch(wrong_ca, X509AuthorityMap{}).ok());
  CHECK_FALSE(BundleFetcher(f.clock).Fetch(r, X509AuthorityMap{}).ok());
}

TEST_CASE("bundle endpoint: refuses an unknown zone, a bad profile and missing files") {
  ServerFixture f;
  auto unknown = BundleEndpoint::Create(BundleEndpointDepsOf(f),
                                        {"nope", "127.0.0.1:0", "https_spiffe", "", ""});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(unknown.status().message()).find("\"nope\" is not a zone") !=
        std::string::npos);
  CHECK_FALSE(
      BundleEndpoint::Create(BundleEndpointDepsOf(f), {"inference", "127.0.0.1:0", "ftp", "", ""})
          .ok());
  CHECK_FALSE(
      BundleEndpoint::Create(BundleEndpointDepsOf(f), {"inference", "127.0.0.1:0", "https_web",
                                                       f.dir + "/none.pem", f.dir + "/none.key"})
          .ok());
  CHECK_FALSE(BundleEndpoint::Create(BundleEndpointDepsOf(f),
                                     {"inference", "nonsense", "https_spiffe", "", ""})
                  .ok());
}
