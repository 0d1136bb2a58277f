// Issuer (server/issuance/issuer.cc) over the fixture's real zone CAs: lifetimes (EffectiveTtl),
// the fields of the X509-SVIDs it signs, that they verify with their own zone's bundle and no
// other, the cap at the CA's own notAfter, JWT-SVIDs, and the observer.
#include "server/issuance/issuer.h"

#include <doctest/doctest.h>

#include "common/bundle.h"
#include "common/csr.h"
#include "common/jwt_svid.h"
#include "common/keys.h"
#include "common/x509_svid_validator.h"
#include "tests/server/server_test_util.h"

using spinel::common::Duration;
using spinel::server::AuthoritySnapshot;
using spinel::server::IssuanceRecord;
using spinel::server::IssuedX509Svid;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

spinel::common::PrivateKey NewKey() {
  auto key = spinel::common::PrivateKey::Generate();
  REQUIRE(key.ok());
  return *std::move(key);
}

spinel::common::PublicKey PublicOf(const spinel::common::PrivateKey& key) {
  auto public_key = key.Public();
  REQUIRE(public_key.ok());
  return *public_key;
}

spinel::common::Csr CsrFor(const spinel::common::PrivateKey& key, const std::string& id) {
  auto der = spinel::common::CreateCsrDer(key, Id(id));
  REQUIRE(der.ok());
  auto csr = spinel::common::Csr::Parse(*der);
  REQUIRE(csr.ok());
  return *csr;
}

std::vector<spinel::common::Certificate> Chain(const IssuedX509Svid& issued) {
  std::vector<spinel::common::Certificate> chain;
  for (const std::string& der : issued.chain_der) {
    auto cert = spinel::common::Certificate::FromDer(der);
    REQUIRE(cert.ok());
    chain.push_back(*cert);
  }
  return chain;
}

// The X.509 authorities of `td` as published in its bundle.
spinel::common::X509AuthorityMap BundleOf(ServerFixture& f, const std::string& td) {
  std::shared_ptr<const AuthoritySnapshot> snapshot = f.cas->Snapshot(Td(td));
  REQUIRE(snapshot != nullptr);
  spinel::common::X509AuthorityMap map;
  map.Set(Td(td), snapshot->ToBundle().x509_authorities);
  return map;
}

}  // namespace

TEST_CASE("issuer: EffectiveTtl applies the zone default and cap") {
  ServerFixture f;
  auto ttl = [&](const std::string& id, bool jwt, Duration requested) {
    return f.issuer->EffectiveTtl(Id(id), jwt, requested);
  };
  CHECK(*ttl(kModelServer, false, 0s) == 30min);  // inference default
  CHECK(*ttl(kModelServer, true, 0s) == 5min);
  CHECK(*ttl(kModelServer, false, 10min) == 10min);
  CHECK(*ttl(kModelServer, false, 5h) == 1h);  // inference cap: cut, not refused
  CHECK(*ttl(kModelServer, true, 1h) == 10min);
  CHECK(*ttl(kToolRunner, false, 0s) == 5min);
  CHECK(*ttl(kToolRunner, false, 1h) == 15min);
  CHECK(ttl(kModelServer, false, -1s).status().code() == absl::StatusCode::kInvalidArgument);

  // The control plane has no zone: the caller's TTL is used as is, and must be given.
  const std::string agent = kFixtureAgent;
  CHECK(*ttl(agent, false, 3h) == 3h);
  CHECK(ttl(agent, false, 0s).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ttl("spiffe://unknown.example.org/w", false, 1min).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("issuer: an X509-SVID carries the ID, DNS names and lifetime and verifies") {
  ServerFixture f;
  std::vector<IssuanceRecord> observed;
  f.issuer->SetObserver([&](const IssuanceRecord& r) { observed.push_back(r); });
  spinel::common::PrivateKey key = NewKey();
  auto issued = f.issuer->SignX509Svid(Id(kModelServer), CsrFor(key, kModelServer), 20min,
                                       {"model.example.org"});
  REQUIRE_MESSAGE(issued.ok(), issued.status().ToString());
  std::vector<spinel::common::Certificate> chain = Chain(*issued);
  REQUIRE(chain.size() == 1);  // self-signed zone CA: the leaf alone
  const spinel::common::Certificate& leaf = chain[0];
  CHECK(leaf.UriSans() == std::vector<std::string>{kModelServer});
  CHECK(leaf.DnsSans() == std::vector<std::string>{"model.example.org"});
  CHECK_FALSE(leaf.IsCa());
  CHECK(leaf.NotAfter() == f.clock.Now() + 20min);
  CHECK(issued->expires_at == f.clock.Now() + 20min);
  auto leaf_key = leaf.GetPublicKey();
  REQUIRE(leaf_key.ok());
  CHECK(*leaf_key->ToSpkiDer() == *PublicOf(key).ToSpkiDer());

  auto verified =
      spinel::common::VerifyX509Svid(chain, BundleOf(f, "inference.ai.example.org"), f.clock.Now());
  REQUIRE_MESSAGE(verified.ok(), verified.status().ToString());
  CHECK(verified->id.ToString() == kModelServer);

  // Zone isolation: another zone's bundle does not vouch for it, even under its own name.
  spinel::common::X509AuthorityMap wrong;
  wrong.Set(Td("inference.ai.example.org"),
            f.cas->Snapshot(Td("tools.ai.example.org"))->X509TrustAnchors());
  CHECK(spinel::common::VerifyX509Svid(chain, wrong, f.clock.Now()).status().code() ==
        absl::StatusCode::kPermissionDenied);

  REQUIRE(observed.size() == 1);
  CHECK(observed[0].kind == "x509");
  CHECK(observed[0].id.ToString() == kModelServer);
  CHECK(observed[0].ok);
}

TEST_CASE("issuer: refusals") {
  ServerFixture f;
  std::vector<IssuanceRecord> observed;
  f.issuer->SetObserver([&](const IssuanceRecord& r) { observed.push_back(r); });
  spinel::common::PrivateKey key = NewKey();
  const spinel::common::PublicKey public_key = PublicOf(key);
  CHECK(f.issuer->SignX509Svid(Id("spiffe://unknown.example.org/w"), public_key, 1min)
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(f.issuer->SignX509Svid(Id(kModelServer), public_key, 1min, {"bad name!"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.issuer->MintJwtSvid(Id(kModelServer), {}, 1min).status().code() ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE(observed.size() == 3);
  CHECK_FALSE(observed[0].ok);
  CHECK(observed[2].kind == "jwt");
}

TEST_CASE("issuer: no SVID outlives the CA that signed it") {
  ServerFixture f;
  // tool-execution: CA TTL 2h. Without rotation, 2 minutes before the CA ends a 5 minute SVID
  // ends with the CA.
  std::shared_ptr<const AuthoritySnapshot> before = f.cas->Snapshot(Td("tools.ai.example.org"));
  const spinel::common::TimePoint ca_end = before->x509_signer->ca_certificate().NotAfter();
  f.clock.Set(ca_end - 2min);
  spinel::common::PrivateKey key = NewKey();
  auto issued = f.issuer->SignX509Svid(Id(kToolRunner), PublicOf(key), 0s);
  REQUIRE_MESSAGE(issued.ok(), issued.status().ToString());
  CHECK(issued->expires_at == ca_end);
  CHECK(Chain(*issued)[0].NotAfter() <= ca_end);

  auto jwt = f.issuer->MintJwtSvid(Id(kToolRunner), {"svc"}, 0s);
  REQUIRE(jwt.ok());
  CHECK(jwt->expires_at <= before->active_jwt->not_after);
}

TEST_CASE("issuer: a JWT-SVID validates with the zone bundle") {
  ServerFixture f;
  auto minted = f.issuer->MintJwtSvid(Id(kModelServer), {"retriever", "db"}, 0s);
  REQUIRE_MESSAGE(minted.ok(), minted.status().ToString());
  CHECK(minted->expires_at == f.clock.Now() + 5min);  // inference JWT default

  spinel::common::BundleSet bundles;
  REQUIRE(bundles.Put(f.cas->Snapshot(Td("inference.ai.example.org"))->ToBundle()).ok());
  auto validated = spinel::common::ValidateJwtSvid(minted->token, {"db"}, bundles, f.clock.Now());
  REQUIRE_MESSAGE(validated.ok(), validated.status().ToString());
  CHECK(validated->subject.ToString() == kModelServer);
  CHECK(validated->audience == std::vector<std::string>{"retriever", "db"});

  CHECK_FALSE(
      spinel::common::ValidateJwtSvid(minted->token, {"other"}, bundles, f.clock.Now()).ok());
  f.clock.Advance(6min);
  CHECK_FALSE(spinel::common::ValidateJwtSvid(minted->token, {"db"}, bundles, f.clock.Now()).ok());

  // Capped, not refused.
  auto capped = f.issuer->MintJwtSvid(Id(kModelServer), {"db"}, 1h);
  REQUIRE(capped.ok());
  CHECK(capped->expires_at == f.clock.Now() + 10min);
}
