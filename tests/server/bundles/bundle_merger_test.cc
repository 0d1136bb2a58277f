#include "server/bundles/bundle_merger.h"

#include <doctest/doctest.h>

#include "common/csr.h"
#include "common/file_util.h"
#include "common/x509_ca.h"
#include "common/x509_svid_validator.h"
#include "server/issuance/issuer.h"
#include "server/zones/zone_reload.h"
#include "tests/server/server_fixture.h"

using namespace std::chrono_literals;
using spinel::common::Bundle;
using spinel::common::Certificate;
using spinel::common::PrivateKey;
using spinel::common::TrustDomain;
using spinel::server::BundleMerger;
using spinel::server::CaManager;
using spinel::server::TrustDomainCaConfig;
using spinel::server::testing::ServerFixture;

namespace {

bool Has(const std::vector<Certificate>& certs, const Certificate& cert) {
  for (const Certificate& c : certs) {
    if (c.Equals(cert)) return true;
  }
  return false;
}

// A second replica's CAs for the same trust domains as `fixture`, in their own directory.
std::unique_ptr<CaManager> OtherReplicaCas(ServerFixture& fixture,
                                           const std::vector<TrustDomainCaConfig>& configs) {
  auto opened = CaManager::Open(configs, fixture.dir + "/replica-b", fixture.clock);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  return std::move(*opened);
}

std::vector<TrustDomainCaConfig> FixtureCaConfigs(ServerFixture& fixture) {
  return spinel::server::CaConfigs(fixture.config, *fixture.zones->Get());
}

}  // namespace

TEST_CASE("bundle merger: each replica's bundle is the union of every replica's authorities") {
  ServerFixture fixture;
  auto cas_b = OtherReplicaCas(fixture, FixtureCaConfigs(fixture));
  BundleMerger a(*fixture.datastore, *fixture.cas, "replica-a", fixture.clock);
  BundleMerger b(*fixture.datastore, *cas_b, "replica-b", fixture.clock);
  REQUIRE(a.PublishAll().ok());
  REQUIRE(b.PublishAll().ok());
  REQUIRE(a.Refresh().ok());

  for (const TrustDomain& td : fixture.cas->TrustDomains()) {
    CAPTURE(td.name());
    auto own_a = fixture.cas->Snapshot(td);
    auto own_b = cas_b->Snapshot(td);
    auto merged_a = a.BundleOf(td);
    auto merged_b = b.BundleOf(td);
    REQUIRE(merged_a != nullptr);
    REQUIRE(merged_b != nullptr);
    // Both replicas' CAs and JWT keys, on both replicas, own first.
    CHECK(merged_a->x509_authorities.size() == 2);
    CHECK(merged_a->x509_authorities.front().Equals(own_a->X509TrustAnchors().front()));
    CHECK(merged_b->x509_authorities.front().Equals(own_b->X509TrustAnchors().front()));
    CHECK(Has(merged_a->x509_authorities, own_b->X509TrustAnchors().front()));
    CHECK(Has(merged_b->x509_authorities, own_a->X509TrustAnchors().front()));
    CHECK(merged_a->jwt_authorities.size() == 2);
    CHECK(merged_a->jwt_authorities.count(own_a->active_jwt->kid) == 1);
    CHECK(merged_a->jwt_authorities.count(own_b->active_jwt->kid) == 1);
    CHECK(merged_b->jwt_authorities.count(own_a->active_jwt->kid) == 1);
    // The sequence is the sum of the replicas' sequences, the same on both.
    CHECK(merged_a->sequence == own_a->sequence + own_b->sequence);
    CHECK(merged_b->sequence == merged_a->sequence);
  }

  // An agent SVID signed by B's control CA verifies against A's merged control bundle (what
  // A's agent API authenticates agents with) and not against A's own CAs alone.
  const TrustDomain& control = fixture.config.trust_domain;
  spinel::server::Issuer issuer_b(*cas_b, *fixture.zones, control, fixture.clock);
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  auto agent_id = spinel::common::SpiffeId::Parse(control.IdString() + "/spinel/agent/x");
  REQUIRE(agent_id.ok());
  auto issued = issuer_b.SignX509Svid(*agent_id, *key->Public(), 1h);
  REQUIRE_MESSAGE(issued.ok(), issued.status().ToString());
  std::vector<Certificate> chain;
  for (const std::string& der : issued->chain_der) chain.push_back(*Certificate::FromDer(der));
  spinel::common::X509AuthorityMap merged_map;
  merged_map.Set(control, a.BundleOf(control)->x509_authorities);
  CHECK(spinel::common::VerifyX509Svid(chain, merged_map, fixture.clock.Now()).ok());
  spinel::common::X509AuthorityMap own_map;
  own_map.Set(control, fixture.cas->Snapshot(control)->X509TrustAnchors());
  CHECK_FALSE(spinel::common::VerifyX509Svid(chain, own_map, fixture.clock.Now()).ok());
}

TEST_CASE("bundle merger: another replica's rotation and removal reach the merged bundle") {
  ServerFixture fixture;
  const TrustDomain& control = fixture.config.trust_domain;
  auto cas_b = OtherReplicaCas(fixture, FixtureCaConfigs(fixture));
  BundleMerger a(*fixture.datastore, *fixture.cas, "replica-a", fixture.clock);
  BundleMerger b(*fixture.datastore, *cas_b, "replica-b", fixture.clock);
  REQUIRE(a.PublishAll().ok());
  REQUIRE(b.PublishAll().ok());
  REQUIRE(a.Refresh().ok());
  const uint64_t before = *a.BundleOf(control)->sequence;
  auto unchanged = a.Refresh();
  REQUIRE(unchanged.ok());
  CHECK_FALSE(*unchanged);  // nothing new: no change, same sequence
  CHECK(*a.BundleOf(control)->sequence == before);

  // B prepares its next authorities and publishes them: A sees them after a re-read.
  REQUIRE(cas_b->Prepare(control).ok());
  REQUIRE(b.Publish(control).ok());
  auto changed = a.Refresh();
  REQUIRE(changed.ok());
  CHECK(*changed);
  auto merged = a.BundleOf(control);
  CHECK(merged->x509_authorities.size() == 3);
  CHECK(merged->jwt_authorities.size() == 3);
  CHECK(*merged->sequence > before);

  // B is decommissioned: its authorities leave A's bundle, the sequence still goes up.
  const uint64_t with_b = *merged->sequence;
  auto removed = fixture.datastore->DeleteServerBundles("replica-b");
  REQUIRE(removed.ok());
  CHECK(*removed == static_cast<int64_t>(cas_b->TrustDomains().size()));
  REQUIRE(a.Refresh().ok());
  merged = a.BundleOf(control);
  CHECK(merged->x509_authorities.size() == 1);
  CHECK(merged->jwt_authorities.size() == 1);
  CHECK(*merged->sequence > with_b);
}

TEST_CASE("bundle merger: expired X.509 authorities and JWT keys are dropped") {
  ServerFixture fixture;
  const TrustDomain& control = fixture.config.trust_domain;
  auto snapshot = fixture.cas->Snapshot(control);
  auto json = spinel::server::PublishedBundleJson(*snapshot);
  REQUIRE(json.ok());
  spinel::server::ServerBundleRecord record{
      .server_id = "b", .trust_domain = control, .bundle_json = *json, .sequence = 7};
  auto decoded = spinel::server::DecodeReplicaBundle(record);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
  CHECK(decoded->sequence == 7);
  REQUIRE(decoded->jwt_expiry.count(snapshot->active_jwt->kid) == 1);
  CHECK(decoded->jwt_expiry.at(snapshot->active_jwt->kid) ==
        spinel::common::ToUnixSeconds(snapshot->active_jwt->NotAfter()));

  REQUIRE(snapshot->active_wit != nullptr);
  CHECK(decoded->jwt_expiry.at(snapshot->active_wit->kid) ==
        spinel::common::ToUnixSeconds(snapshot->active_wit->NotAfter()));

  Bundle now = spinel::server::MergeReplicaBundles(control, {*decoded}, fixture.clock.Now());
  CHECK(now.x509_authorities.size() == 1);
  CHECK(now.jwt_authorities.size() == 1);
  // WIT keys survive the merge (and so reach agents and federated trust domains).
  CHECK(now.wit_authorities.size() == 1);
  CHECK(now.wit_authorities.count(snapshot->active_wit->kid) == 1);
  const auto after_jwt = snapshot->active_jwt->NotAfter() + 1s;
  const auto after_ca = snapshot->x509.front().NotAfter() + 1s;
  Bundle later =
      spinel::server::MergeReplicaBundles(control, {*decoded}, std::max(after_jwt, after_ca));
  CHECK(later.x509_authorities.empty());
  CHECK(later.jwt_authorities.empty());
  CHECK(later.wit_authorities.empty());

  // A key whose expiry is unknown (published without spinel_jwt_expiry) is kept.
  decoded->jwt_expiry.clear();
  Bundle unknown = spinel::server::MergeReplicaBundles(control, {*decoded}, after_jwt + 24h * 365);
  CHECK(unknown.jwt_authorities.size() == 1);

  // A record that is not a bundle is refused with a message naming replica and trust domain.
  record.bundle_json = "[1]";
  auto bad = spinel::server::DecodeReplicaBundle(record);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("published by b") != std::string::npos);
}

TEST_CASE("bundle merger: the merged sequence never decreases") {
  using spinel::server::MergedSequence;
  CHECK(MergedSequence(5, 0, false) == 5);  // first computation: the sum
  CHECK(MergedSequence(7, 5, true) == 7);   // a replica bumped its sequence
  CHECK(MergedSequence(3, 7, true) == 8);   // a replica left: content changed, sum fell
  CHECK(MergedSequence(3, 8, false) == 8);  // nothing changed: kept
  CHECK(MergedSequence(8, 8, true) == 9);   // expiry dropped something, nobody bumped
}

TEST_CASE("bundle merger: with a shared upstream root every replica's zone CA chains to it") {
  ServerFixture fixture;
  const TrustDomain inference = fixture.zone("inference").trust_domain;
  auto root_key = PrivateKey::Generate();
  REQUIRE(root_key.ok());
  auto root = spinel::common::CreateSelfSignedCa(inference, *root_key, fixture.clock.Now(), 720h);
  REQUIRE(root.ok());
  REQUIRE(spinel::common::WriteFileAtomic(fixture.dir + "/root.pem", root->ToPem()).ok());
  REQUIRE(spinel::common::WriteFileAtomic(fixture.dir + "/root.key", root_key->ToPkcs8Pem()->view())
              .ok());
  std::vector<TrustDomainCaConfig> configs = FixtureCaConfigs(fixture);
  for (TrustDomainCaConfig& config : configs) {
    if (config.trust_domain != inference) continue;
    config.upstream_cert_path = fixture.dir + "/root.pem";
    config.upstream_key_path = fixture.dir + "/root.key";
  }
  auto opened_a = CaManager::Open(configs, fixture.dir + "/replica-a", fixture.clock);
  REQUIRE_MESSAGE(opened_a.ok(), opened_a.status().ToString());
  auto cas_b = OtherReplicaCas(fixture, configs);
  BundleMerger a(*fixture.datastore, **opened_a, "replica-a", fixture.clock);
  BundleMerger b(*fixture.datastore, *cas_b, "replica-b", fixture.clock);
  REQUIRE(a.PublishAll().ok());
  REQUIRE(b.PublishAll().ok());
  REQUIRE(a.Refresh().ok());

  // Two different intermediates, one root: the merged X.509 bundle is that root alone.
  auto snap_a = (*opened_a)->Snapshot(inference);
  auto snap_b = cas_b->Snapshot(inference);
  CHECK_FALSE(snap_a->x509.front().certificate.Equals(snap_b->x509.front().certificate));
  for (BundleMerger* merger : {&a, &b}) {
    auto merged = merger->BundleOf(inference);
    REQUIRE(merged->x509_authorities.size() == 1);
    CHECK(merged->x509_authorities.front().Equals(*root));
    CHECK(merged->jwt_authorities.size() == 2);
  }
  // Workload SVIDs of both replicas verify against it; never against another zone's bundle.
  auto id = spinel::common::SpiffeId::Parse(inference.IdString() + "/model");
  REQUIRE(id.ok());
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  const TrustDomain retrieval = fixture.zone("retrieval").trust_domain;
  for (CaManager* cas : {opened_a->get(), cas_b.get()}) {
    spinel::server::Issuer issuer(*cas, *fixture.zones, fixture.config.trust_domain, fixture.clock);
    auto issued = issuer.SignX509Svid(*id, *key->Public(), 1h);
    REQUIRE_MESSAGE(issued.ok(), issued.status().ToString());
    std::vector<Certificate> chain;
    for (const std::string& der : issued->chain_der) chain.push_back(*Certificate::FromDer(der));
    spinel::common::X509AuthorityMap zone;
    zone.Set(inference, {*root});
    CHECK(spinel::common::VerifyX509Svid(chain, zone, fixture.clock.Now()).ok());
    spinel::common::X509AuthorityMap other;
    other.Set(inference, a.BundleOf(retrieval)->x509_authorities);
    CHECK_FALSE(spinel::common::VerifyX509Svid(chain, other, fixture.clock.Now()).ok());
  }
}

TEST_CASE("server id: the configured one, else generated once and kept in the data dir") {
  ServerFixture fixture;
  CHECK(*spinel::server::LoadOrCreateServerId("replica-7", fixture.dir) == "replica-7");
  auto first = spinel::server::LoadOrCreateServerId("", fixture.dir);
  REQUIRE(first.ok());
  CHECK(first->rfind("srv-", 0) == 0);
  CHECK(*spinel::server::LoadOrCreateServerId("", fixture.dir) == *first);
  CHECK(*spinel::common::ReadFile(fixture.dir + "/server-id") == *first + "\n");
  REQUIRE(spinel::common::WriteFileAtomic(fixture.dir + "/server-id", "\n").ok());
  CHECK(spinel::server::LoadOrCreateServerId("", fixture.dir).status().code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("OwnBundle: the merged bundle, or the local snapshot without a merger") {
  ServerFixture fixture;
  const TrustDomain& control = fixture.config.trust_domain;
  auto plain = spinel::server::OwnBundle(nullptr, *fixture.cas, control);
  REQUIRE(plain != nullptr);
  CHECK(plain->Equals(fixture.cas->Snapshot(control)->ToBundle()));
  BundleMerger merger(*fixture.datastore, *fixture.cas, "a", fixture.clock);
  REQUIRE(merger.PublishAll().ok());
  CHECK(spinel::server::OwnBundle(&merger, *fixture.cas, control) == merger.BundleOf(control));
  auto unknown = TrustDomain::Parse("unknown.example.org");
  CHECK(spinel::server::OwnBundle(&merger, *fixture.cas, *unknown) == nullptr);
}
