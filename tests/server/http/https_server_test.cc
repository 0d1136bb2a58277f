#include "server/http/https_server.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/bundle.h"
#include "common/file_util.h"
#include "common/ssl_ptr.h"
#include "server/bundles/own_bundle.h"
#include "server/issuance/server_svid.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

using namespace std::chrono_literals;
using spinel::common::Bundle;
using spinel::common::Certificate;
using spinel::server::BundleRefreshHint;
using spinel::server::HttpsServer;
using spinel::server::HttpsServerOptions;
using spinel::server::ServerSvid;
using spinel::server::testing::HttpsDepsOf;
using spinel::server::testing::ServerFixture;
using spinel::server::testing::UnavailableDatastore;

namespace {

std::unique_ptr<HttpsServer> StartServer(ServerFixture& f, HttpsServerOptions options) {
  auto server = HttpsServer::Create(HttpsDepsOf(f), std::move(options));
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  REQUIRE((*server)->Start().ok());
  return std::move(*server);
}

std::unique_ptr<HttpsServer> StartPlain(ServerFixture& f) {
  return StartServer(f, HttpsServerOptions{"127.0.0.1:0", "", ""});
}

// Connects with TLS, verifying the chain against `ca_file` (no host name check: the server
// certificate is an X509-SVID with only a URI SAN), and returns the leaf's serial.
std::string PeerSerial(int port, const std::string& ca_file) {
  using spinel::common::SslPtr;
  SslPtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  REQUIRE(SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) == 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SslPtr<BIO> bio(BIO_new_ssl_connect(ctx.get()));
  REQUIRE(bio);
  const std::string target = "127.0.0.1:" + std::to_string(port);
  BIO_set_conn_hostname(bio.get(), target.c_str());
  REQUIRE(BIO_do_connect(bio.get()) == 1);
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  REQUIRE(ssl != nullptr);
  CHECK(SSL_get_verify_result(ssl) == X509_V_OK);
  SslPtr<X509> peer(SSL_get1_peer_certificate(ssl));
  REQUIRE(peer);
  return Certificate::Adopt(std::move(peer)).SerialHex();
}

std::string FileSerial(const std::string& pem_path) {
  auto pem = spinel::common::ReadFile(pem_path);
  REQUIRE(pem.ok());
  auto chain = Certificate::ParsePemChain(*pem);
  REQUIRE(chain.ok());
  return (*chain)[0].SerialHex();
}

}  // namespace

TEST_CASE("https: healthz, readyz and metrics over plain HTTP") {
  ServerFixture f;
  f.metrics.Describe("spinel_test_family", "counter", "A test family.");
  auto server = StartPlain(f);
  CHECK_FALSE(server->is_tls());
  REQUIRE(server->port() > 0);
  httplib::Client client("127.0.0.1", server->port());

  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok");

  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4");
  CHECK(metrics->body.find("# TYPE spinel_test_family counter") != std::string::npos);

  auto missing = client.Get("/nothing-here");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("https: every zone's bundle, by trust domain and by zone name") {
  ServerFixture f;
  auto server = StartPlain(f);
  httplib::Client client("127.0.0.1", server->port());
  for (const auto& zone : f.zones->Get()->zones()) {
    CAPTURE(zone.name);
    auto snapshot = f.cas->Snapshot(zone.trust_domain);
    REQUIRE(snapshot);
    auto res = client.Get("/bundle/" + zone.trust_domain.name());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    auto bundle = Bundle::Parse(zone.trust_domain, res->body);
    REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString());
    REQUIRE(bundle->x509_authorities.size() == snapshot->X509TrustAnchors().size());
    CHECK(bundle->x509_authorities[0].Equals(snapshot->X509TrustAnchors()[0]));
    CHECK(bundle->FindJwtAuthority(snapshot->active_jwt->kid) != nullptr);
    CHECK(bundle->sequence == snapshot->sequence);
    REQUIRE(bundle->refresh_hint_seconds.has_value());
    CHECK(*bundle->refresh_hint_seconds == BundleRefreshHint(*snapshot).count());
    CHECK(*bundle->refresh_hint_seconds > 0);
    CHECK(*bundle->refresh_hint_seconds <= 300);

    auto by_name = client.Get("/bundle/" + zone.name);
    REQUIRE(by_name);
    CHECK(by_name->status == 200);
    CHECK(by_name->body == res->body);
  }
  // The control plane's bundle is served too (https_spiffe clients verify the server with it).
  auto control = client.Get("/bundle/" + f.config.trust_domain.name());
  REQUIRE(control);
  CHECK(control->status == 200);
  CHECK(Bundle::Parse(f.config.trust_domain, control->body).ok());
}

TEST_CASE("https: a rotation shows up in the served bundle") {
  ServerFixture f;
  auto server = StartPlain(f);
  httplib::Client client("127.0.0.1", server->port());
  const auto& td = f.zone("inference").trust_domain;
  const uint64_t before = f.cas->Snapshot(td)->sequence;
  REQUIRE(f.cas->Prepare(td).ok());
  auto res = client.Get("/bundle/inference");
  REQUIRE(res);
  auto bundle = Bundle::Parse(td, res->body);
  REQUIRE(bundle.ok());
  CHECK(bundle->sequence > before);
  CHECK(bundle->x509_authorities.size() == 2);  // active and prepared
}

TEST_CASE("https: unknown bundle is a JSON 404, other methods are 405") {
  ServerFixture f;
  auto server = StartPlain(f);
  httplib::Client client("127.0.0.1", server->port());

  auto unknown = client.Get("/bundle/no-such-zone.example.org");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(unknown->get_header_value("Content-Type") == "application/json");
  auto body = nlohmann::json::parse(unknown->body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["error"].get<std::string>().find("no-such-zone.example.org") != std::string::npos);

  auto post = client.Post("/bundle/inference", "{}", "application/json");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->get_header_value("Allow") == "GET, HEAD");
  CHECK(post->get_header_value("Content-Type") == "application/json");
  auto put = client.Put("/bundle/inference", "{}", "application/json");
  REQUIRE(put);
  CHECK(put->status == 405);
  auto del = client.Delete("/bundle/inference");
  REQUIRE(del);
  CHECK(del->status == 405);
  auto post_health = client.Post("/healthz", "", "text/plain");
  REQUIRE(post_health);
  CHECK(post_health->status == 405);
  auto post_metrics = client.Post("/metrics", "", "text/plain");
  REQUIRE(post_metrics);
  CHECK(post_metrics->status == 405);

  auto head = client.Head("/bundle/inference");
  REQUIRE(head);
  CHECK(head->status == 200);
}

TEST_CASE(
    "https: readyz is 503 with a reason when a zone has no authority or the datastore "
    "fails") {
  ServerFixture f;
  SUBCASE("a zone the CA manager does not sign for") {
    std::vector<spinel::zones::Zone> zones = f.zones->Get()->zones();
    spinel::zones::Zone extra = zones.front();
    extra.name = "extra";
    extra.trust_domain = *spinel::common::TrustDomain::Parse("extra.ai.example.org");
    extra.declared_peers.clear();
    zones.push_back(extra);
    auto set = spinel::zones::ZoneSet::Create(zones);
    REQUIRE_MESSAGE(set.ok(), set.status().ToString());
    f.zones->Replace(std::move(*set));
    auto server = StartPlain(f);
    httplib::Client client("127.0.0.1", server->port());
    auto ready = client.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 503);
    CHECK(ready->body.find("extra.ai.example.org") != std::string::npos);
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
  }
  SUBCASE("the datastore does not answer") {
    UnavailableDatastore broken;
    auto server = HttpsServer::Create(HttpsDepsOf(f, &broken), {"127.0.0.1:0", "", ""});
    REQUIRE(server.ok());
    REQUIRE((*server)->Start().ok());
    httplib::Client client("127.0.0.1", (*server)->port());
    auto ready = client.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 503);
    CHECK(ready->body.find("datastore") != std::string::npos);
  }
  SUBCASE("the CAs expired") {
    f.clock.Advance(48h);
    auto server = StartPlain(f);
    httplib::Client client("127.0.0.1", server->port());
    auto ready = client.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 503);
  }
}

TEST_CASE("https: bad addresses, busy ports and half TLS configurations are refused") {
  ServerFixture f;
  CHECK(HttpsServer::Create(HttpsDepsOf(f), {"no-port", "", ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(HttpsServer::Create(HttpsDepsOf(f), {"127.0.0.1:99999", "", ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(HttpsServer::Create(HttpsDepsOf(f), {"127.0.0.1:0", "", f.dir + "/k"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(
      HttpsServer::Create(HttpsDepsOf(f), {"127.0.0.1:0", f.dir + "/none.pem", f.dir + "/none.key"})
          .ok());
  auto first = StartPlain(f);
  const std::string busy = "127.0.0.1:" + std::to_string(first->port());
  CHECK(HttpsServer::Create(HttpsDepsOf(f), {busy, "", ""}).status().code() ==
        absl::StatusCode::kUnavailable);
  // Created but never started: destroying it releases the port.
  int port = 0;
  {
    auto idle = HttpsServer::Create(HttpsDepsOf(f), {"127.0.0.1:0", "", ""});
    REQUIRE(idle.ok());
    port = (*idle)->port();
  }
  auto again = HttpsServer::Create(HttpsDepsOf(f), {"127.0.0.1:" + std::to_string(port), "", ""});
  CHECK(again.ok());
}

TEST_CASE("https: Stop returns promptly with an idle keep-alive client, and twice") {
  ServerFixture f;
  auto server = StartPlain(f);
  httplib::Client client("127.0.0.1", server->port());
  client.set_keep_alive(true);
  auto res = client.Get("/healthz");
  REQUIRE(res);
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  CHECK(std::chrono::steady_clock::now() - start < 2500ms);
  server->Stop();
  CHECK(server->Start().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("https: TLS with the server SVID, reloaded when the files are replaced") {
  ServerFixture f;
  ServerSvid svid(*f.issuer, f.server_id(), 1h, f.dir, f.clock);
  REQUIRE(svid.Renew().ok());
  auto server = StartServer(f, {"127.0.0.1:0", svid.cert_path(), svid.key_path()});
  CHECK(server->is_tls());

  const std::string ca_file = f.dir + "/control-bundle.pem";
  REQUIRE(spinel::common::WriteFileAtomic(
              ca_file,
              spinel::common::ConcatPem(f.cas->Snapshot(f.config.trust_domain)->X509TrustAnchors()))
              .ok());
  const std::string first = FileSerial(svid.cert_path());
  CHECK(PeerSerial(server->port(), ca_file) == first);

  httplib::SSLClient client("127.0.0.1", server->port());
  client.enable_server_certificate_verification(false);  // URI SAN only; checked above
  auto res = client.Get("/bundle/inference");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(Bundle::Parse(f.zone("inference").trust_domain, res->body).ok());

  SUBCASE("a renewed SVID is served on the next connection") {
    REQUIRE(svid.Renew().ok());
    const std::string second = FileSerial(svid.cert_path());
    REQUIRE(second != first);
    CHECK(PeerSerial(server->port(), ca_file) == second);
  }
  SUBCASE("a key that does not match keeps the previous pair in service") {
    auto other = spinel::common::PrivateKey::Generate();
    REQUIRE(other.ok());
    REQUIRE(spinel::common::WriteFileAtomic(svid.key_path(), other->ToPkcs8Pem()->view()).ok());
    CHECK(PeerSerial(server->port(), ca_file) == first);
    REQUIRE(svid.Renew().ok());  // a matching pair again
    CHECK(PeerSerial(server->port(), ca_file) == FileSerial(svid.cert_path()));
  }
  // Plain HTTP on the TLS port fails.
  httplib::Client plain("127.0.0.1", server->port());
  plain.set_read_timeout(2, 0);
  auto plain_res = plain.Get("/healthz");
  CHECK((!plain_res || plain_res->status != 200));
}
