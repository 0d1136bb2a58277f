#include "server/metrics/server_metrics.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <string>

#include "server/http/https_server.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

using namespace std::chrono_literals;
using spinel::common::SpiffeId;
using spinel::server::IssuanceRecord;
using spinel::server::MetricLabels;
using spinel::server::RecordIssuance;
using spinel::server::RegisterServerMetrics;
using spinel::server::testing::HttpsDepsOf;
using spinel::server::testing::MetricsDepsOf;
using spinel::server::testing::ServerFixture;
using spinel::server::testing::UnavailableDatastore;

namespace {

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The value of the sample line that starts with `series` (name plus rendered labels), or -1.
double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

void InstallObserver(ServerFixture& f) {
  f.issuer->SetObserver(
      [&f](const IssuanceRecord& record) { RecordIssuance(f.metrics, *f.zones, record); });
}

spinel::common::PublicKey NewPublicKey() {
  auto key = spinel::common::PrivateKey::Generate();
  REQUIRE(key.ok());
  auto pub = key->Public();
  REQUIRE(pub.ok());
  return std::move(*pub);
}

class NullSubscriber final : public spinel::server::SyncSubscriber {
 public:
  void Refresh() override {}
};

}  // namespace

TEST_CASE("server metrics: every family is described before it has a value") {
  ServerFixture f;
  RegisterServerMetrics(MetricsDepsOf(f));
  const std::string text = f.metrics.Render();
  for (const char* family :
       {"spinel_svids_issued_total counter", "spinel_svid_signing_errors_total counter",
        "spinel_signing_duration_seconds histogram", "spinel_attested_agents gauge",
        "spinel_entries gauge", "spinel_ca_expiry_seconds gauge", "spinel_bundle_sequence gauge",
        "spinel_agent_streams gauge"}) {
    CAPTURE(family);
    CHECK(Has(text, std::string("# TYPE ") + family));
  }
}

TEST_CASE("server metrics: issuance counters by zone and type, and signing latency") {
  ServerFixture f;
  RegisterServerMetrics(MetricsDepsOf(f));
  InstallObserver(f);
  const auto id = *SpiffeId::Parse("spiffe://inference.ai.example.org/model-server");
  REQUIRE(f.issuer->SignX509Svid(id, NewPublicKey(), 0s).ok());
  REQUIRE(f.issuer->SignX509Svid(id, NewPublicKey(), 0s).ok());
  REQUIRE(f.issuer->MintJwtSvid(id, {"retrieval"}, 0s).ok());
  REQUIRE(f.issuer->SignX509Svid(f.server_id(), NewPublicKey(), 1h).ok());

  CHECK(f.metrics.Value("spinel_svids_issued_total", {{"zone", "inference"}, {"type", "x509"}}) ==
        2);
  CHECK(f.metrics.Value("spinel_svids_issued_total", {{"zone", "inference"}, {"type", "jwt"}}) ==
        1);
  // Control-plane SVIDs are labelled with their trust domain.
  CHECK(f.metrics.Value("spinel_svids_issued_total",
                        {{"zone", f.config.trust_domain.name()}, {"type", "x509"}}) == 1);

  // A refused signing counts as an error, not an issuance.
  const auto unknown = *SpiffeId::Parse("spiffe://elsewhere.example.org/w");
  REQUIRE_FALSE(f.issuer->SignX509Svid(unknown, NewPublicKey(), 0s).ok());
  CHECK(f.metrics.Value("spinel_svid_signing_errors_total",
                        {{"zone", "elsewhere.example.org"}, {"type", "x509"}}) == 1);

  const std::string text = f.metrics.Render();
  CHECK(Sample(text, "spinel_signing_duration_seconds_count{type=\"x509\"}") == 3);
  CHECK(Sample(text, "spinel_signing_duration_seconds_count{type=\"jwt\"}") == 1);
  CHECK(Has(text, "spinel_signing_duration_seconds_bucket{type=\"x509\",le=\"+Inf\"} 3"));
}

TEST_CASE("server metrics: gauges follow the datastore, CAs and agent streams") {
  ServerFixture f;
  RegisterServerMetrics(MetricsDepsOf(f));
  std::string text = f.metrics.Render();
  CHECK(Sample(text, "spinel_entries") == 0);
  CHECK(Sample(text, "spinel_attested_agents") == 0);
  CHECK(Sample(text, "spinel_agent_streams") == 0);

  spinel::server::AttestedAgent agent;
  agent.spiffe_id = *SpiffeId::Parse("spiffe://spinel.ai.example.org/spinel/agent/join_token/a");
  agent.attestation_type = "join_token";
  REQUIRE(f.datastore->CreateAttestedAgent(agent).ok());
  spinel::server::RegistrationEntry entry;
  entry.spiffe_id = *SpiffeId::Parse("spiffe://inference.ai.example.org/model-server");
  entry.parent_id = agent.spiffe_id;
  entry.selectors = {*spinel::common::Selector::Parse("unix:uid:1000")};
  auto created = f.registry->Create(entry);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  NullSubscriber stream;
  f.hub->Subscribe(&stream);

  text = f.metrics.Render();
  CHECK(Sample(text, "spinel_entries") == 1);
  CHECK(Sample(text, "spinel_attested_agents") == 1);
  CHECK(Sample(text, "spinel_agent_streams") == 1);
  f.hub->Unsubscribe(&stream);

  const auto& inference = f.zone("inference");
  const std::string expiry =
      "spinel_ca_expiry_seconds{trust_domain=\"" + inference.trust_domain.name() + "\"}";
  const double left = Sample(text, expiry);
  CHECK(left > 0);
  CHECK(left <= std::chrono::duration<double>(inference.ca_ttl).count());
  f.clock.Advance(1h);
  CHECK(Sample(f.metrics.Render(), expiry) == doctest::Approx(left - 3600));

  const std::string sequence =
      "spinel_bundle_sequence{trust_domain=\"" + inference.trust_domain.name() + "\"}";
  CHECK(Sample(text, sequence) == f.cas->Snapshot(inference.trust_domain)->sequence);
  REQUIRE(f.cas->Prepare(inference.trust_domain).ok());
  CHECK(Sample(f.metrics.Render(), sequence) == f.cas->Snapshot(inference.trust_domain)->sequence);
  // Every trust domain has a series: the control plane and each zone.
  CHECK(Has(text, "spinel_ca_expiry_seconds{trust_domain=\"" + f.config.trust_domain.name()));
  for (const auto& zone : f.zones->Get()->zones()) {
    CHECK(Has(text, "spinel_bundle_sequence{trust_domain=\"" + zone.trust_domain.name()));
  }
}

TEST_CASE("server metrics: a failing datastore drops only its gauges") {
  ServerFixture f;
  UnavailableDatastore broken;
  RegisterServerMetrics(MetricsDepsOf(f, &broken));
  const std::string text = f.metrics.Render();
  CHECK(Has(text, "# TYPE spinel_entries gauge"));
  CHECK(Sample(text, "spinel_entries") == -1);
  CHECK(Sample(text, "spinel_attested_agents") == -1);
  CHECK(Sample(text, "spinel_agent_streams") == 0);
  CHECK(Has(text, "spinel_ca_expiry_seconds{"));
}

TEST_CASE("server metrics: /metrics shows a counter going up after an issuance") {
  ServerFixture f;
  RegisterServerMetrics(MetricsDepsOf(f));
  InstallObserver(f);
  auto server = spinel::server::HttpsServer::Create(HttpsDepsOf(f), {"127.0.0.1:0", "", ""});
  REQUIRE(server.ok());
  REQUIRE((*server)->Start().ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  const std::string series = "spinel_svids_issued_total{zone=\"training\",type=\"x509\"}";

  auto before = client.Get("/metrics");
  REQUIRE(before);
  CHECK(Has(before->body, "# TYPE spinel_svids_issued_total counter"));
  CHECK(Has(before->body, "# TYPE spinel_ca_expiry_seconds gauge"));
  CHECK(Sample(before->body, series) == -1);

  const auto id = *SpiffeId::Parse("spiffe://training.ai.example.org/trainer");
  REQUIRE(f.issuer->SignX509Svid(id, NewPublicKey(), 0s).ok());
  auto after = client.Get("/metrics");
  REQUIRE(after);
  CHECK(Sample(after->body, series) == 1);
}
