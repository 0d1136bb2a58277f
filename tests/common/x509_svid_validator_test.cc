#include "common/x509_svid_validator.h"

#include <doctest/doctest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_ca.h"

using namespace std::chrono_literals;
using spinel::common::Certificate;
using spinel::common::ConcatDer;
using spinel::common::ParseOwnX509Svid;
using spinel::common::PrivateKey;
using spinel::common::TimePoint;
using spinel::common::VerifyX509Svid;
using spinel::common::VerifyX509SvidDer;
using spinel::common::X509AuthorityMap;
using spinel::testing::CertSpec;
using spinel::testing::CraftCertificate;
using spinel::testing::FakeClock;
using spinel::testing::TestCa;

namespace {

// The status message of a failed verification ("" when it passed).
std::string Failure(const std::vector<Certificate>& chain, const X509AuthorityMap& bundles,
                    TimePoint now) {
  auto result = VerifyX509Svid(chain, bundles, now);
  return result.ok() ? "" : std::string(result.status().message());
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A leaf crafted per `spec` (validity now-1m..now+1h unless set) signed by `ca`.
Certificate Craft(const TestCa& ca, CertSpec spec, TimePoint now) {
  if (spec.not_before == TimePoint()) spec.not_before = now - 1min;
  if (spec.not_after == TimePoint()) spec.not_after = now + 1h;
  return CraftCertificate(spec, *PrivateKey::Generate()->Public(), ca.cert(), ca.key());
}

struct Fixture {
  FakeClock clock;
  TestCa root = TestCa::Root("example.org", clock.Now());
  TestCa ca = root.Intermediate(clock.Now());
  TestCa other = TestCa::Root("other.org", clock.Now());
  X509AuthorityMap bundles{{{root.td(), {root.root()}}, {other.td(), {other.root()}}}};
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "valid SVIDs verify, directly under the root or via intermediates") {
  auto leaf = ca.Mint("spiffe://example.org/api", clock.Now());
  auto verified = VerifyX509Svid(ca.ChainFor(leaf.cert), bundles, clock.Now());
  REQUIRE(verified.ok());
  CHECK(verified->id.ToString() == "spiffe://example.org/api");
  REQUIRE(verified->chain.size() == 3);
  CHECK(verified->chain[0].Equals(leaf.cert));
  CHECK(verified->chain[1].Equals(ca.cert()));
  CHECK(verified->chain[2].Equals(root.root()));

  auto direct = root.Mint("spiffe://example.org/db", clock.Now());
  auto verified_direct = VerifyX509Svid({direct.cert}, bundles, clock.Now());
  REQUIRE(verified_direct.ok());
  CHECK(verified_direct->chain.size() == 2);

  auto from_der = VerifyX509SvidDer(ConcatDer(ca.ChainFor(leaf.cert)), bundles, clock.Now());
  REQUIRE(from_der.ok());
  CHECK(from_der->id.ToString() == "spiffe://example.org/api");
}

TEST_CASE_FIXTURE(Fixture, "validity is checked against the injected time") {
  auto leaf = ca.Mint("spiffe://example.org/api", clock.Now(), 1h);
  auto chain = ca.ChainFor(leaf.cert);
  CHECK(Failure(chain, bundles, clock.Now() + 59min) == "");
  CHECK(Contains(Failure(chain, bundles, clock.Now() + 61min), "certificate has expired"));
  CHECK(Contains(Failure(chain, bundles, clock.Now() + 61min), "depth 0"));
  CHECK(Contains(Failure(chain, bundles, clock.Now() - 11s), "certificate is not yet valid"));
  auto result = VerifyX509Svid(chain, bundles, clock.Now() + 2h);
  CHECK(result.status().code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE_FIXTURE(Fixture, "an expired intermediate is rejected even when the leaf is valid") {
  // The signer caps leaves at the CA's notAfter, so craft a leaf that outlives its CA.
  TestCa short_ca = root.Intermediate(clock.Now(), 1h);
  CertSpec spec;
  spec.uris = {"spiffe://example.org/api"};
  spec.not_before = clock.Now();
  spec.not_after = clock.Now() + 5h;
  Certificate leaf = Craft(short_ca, spec, clock.Now());
  auto chain = short_ca.ChainFor(leaf);
  CHECK(Failure(chain, bundles, clock.Now() + 30min) == "");
  std::string failure = Failure(chain, bundles, clock.Now() + 2h);
  CHECK(Contains(failure, "certificate has expired"));
  CHECK(Contains(failure, "depth 1"));
}

TEST_CASE_FIXTURE(Fixture, "authorities come from the leaf's trust domain only") {
  auto leaf = other.Mint("spiffe://other.org/w", clock.Now());
  // No bundle for the leaf's trust domain.
  X509AuthorityMap only_example({{root.td(), {root.root()}}});
  auto missing = VerifyX509Svid({leaf.cert}, only_example, clock.Now());
  CHECK(missing.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(missing.status().message()) == "no X.509 bundle for trust domain other.org");
  // A bundle that exists but holds no X.509 authorities.
  X509AuthorityMap empty;
  empty.Set(other.td(), {});
  CHECK(Contains(Failure({leaf.cert}, empty, clock.Now()), "has no X.509 authorities"));
  // other.org's CA minting an example.org ID: example.org's roots are used, so it fails
  // although other.org's root is in the map too (roots are never pooled).
  CertSpec spec;
  spec.uris = {"spiffe://example.org/impostor"};
  Certificate impostor = Craft(other, spec, clock.Now());
  CHECK(Contains(Failure({impostor}, bundles, clock.Now()), "unable to get local issuer"));
  // A chain to another trust domain's CA: example.org's bundle is other.org's root.
  auto good = ca.Mint("spiffe://example.org/api", clock.Now());
  X509AuthorityMap wrong({{root.td(), {other.root()}}});
  CHECK(Contains(Failure(ca.ChainFor(good.cert), wrong, clock.Now()), "verification failed"));
}

TEST_CASE_FIXTURE(Fixture, "leaf rules (b)-(g) are enforced before path validation") {
  auto fails_with = [&](CertSpec spec, std::string_view reason) {
    CAPTURE(reason);
    Certificate leaf = Craft(ca, spec, clock.Now());
    auto result = VerifyX509Svid(ca.ChainFor(leaf), bundles, clock.Now());
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(result.status().message()) == reason);
  };
  CertSpec good;
  good.uris = {"spiffe://example.org/a"};
  CHECK(Failure(ca.ChainFor(Craft(ca, good, clock.Now())), bundles, clock.Now()) == "");

  CertSpec spec = good;
  spec.uris = {};
  spec.dns_names = {"a.example.org"};
  fails_with(spec, "certificate has no URI SAN");
  spec = good;
  spec.uris = {"spiffe://example.org/a", "spiffe://example.org/b"};
  fails_with(spec, "certificate has 2 URI SANs");
  spec = good;
  spec.uris = {"spiffe://Example.org/a"};
  CHECK_FALSE(VerifyX509Svid({Craft(ca, spec, clock.Now())}, bundles, clock.Now()).ok());
  spec = good;
  spec.ca = true;
  spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN;
  fails_with(spec, "leaf certificate is a CA");
  spec = good;
  spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN;
  fails_with(spec, "leaf certificate has keyUsage keyCertSign");
  spec = good;
  spec.key_usage = KU_DIGITAL_SIGNATURE | KU_CRL_SIGN;
  fails_with(spec, "leaf certificate has keyUsage cRLSign");
  spec = good;
  spec.uris = {"spiffe://example.org"};
  fails_with(spec, "leaf SPIFFE ID spiffe://example.org has no path (root IDs are not SVIDs)");
  spec = good;
  spec.key_usage = KU_KEY_ENCIPHERMENT;
  fails_with(spec, "leaf certificate lacks keyUsage digitalSignature");
  spec = good;
  spec.key_usage = std::nullopt;
  fails_with(spec, "leaf certificate lacks keyUsage digitalSignature");
  // DNS SANs next to the URI SAN are fine (B2); so is a missing basicConstraints (B5).
  spec = good;
  spec.dns_names = {"a.example.org"};
  spec.add_basic_constraints = false;
  CHECK(Failure(ca.ChainFor(Craft(ca, spec, clock.Now())), bundles, clock.Now()) == "");
}

TEST_CASE_FIXTURE(Fixture, "path validation rejects bad chains and unknown critical extensions") {
  CHECK(std::string(VerifyX509Svid({}, bundles, clock.Now()).status().message()) ==
        "X509-SVID chain is empty");
  // Leaf without the intermediate that issued it.
  auto leaf = ca.Mint("spiffe://example.org/api", clock.Now());
  CHECK(Contains(Failure({leaf.cert}, bundles, clock.Now()), "unable to get local issuer"));
  // An unhandled critical extension.
  CertSpec spec;
  spec.uris = {"spiffe://example.org/a"};
  spec.unhandled_critical_extension = true;
  CHECK(Contains(Failure(ca.ChainFor(Craft(ca, spec, clock.Now())), bundles, clock.Now()),
                 "unhandled critical extension"));
  // A "CA" in the middle that is not a CA: a leaf issuing a leaf.
  auto fake_issuer = root.Mint("spiffe://example.org/issuer", clock.Now());
  CertSpec child;
  child.uris = {"spiffe://example.org/child"};
  child.not_before = clock.Now() - 1min;
  child.not_after = clock.Now() + 30min;
  Certificate grandchild =
      CraftCertificate(child, *PrivateKey::Generate()->Public(), fake_issuer.cert, fake_issuer.key);
  CHECK(Contains(Failure({grandchild, fake_issuer.cert}, bundles, clock.Now()),
                 "invalid CA certificate"));
  // A chain whose leaf signature was made by another key is rejected.
  Certificate forged =
      CraftCertificate(spec, *PrivateKey::Generate()->Public(), ca.cert(), other.key());
  CHECK_FALSE(VerifyX509Svid(ca.ChainFor(forged), bundles, clock.Now()).ok());
}

TEST_CASE_FIXTURE(Fixture, "ParseOwnX509Svid accepts a matching chain and key, nothing else") {
  auto leaf = ca.Mint("spiffe://example.org/api", clock.Now());
  std::string chain_der = ConcatDer(ca.ChainFor(leaf.cert));
  auto key_der = leaf.key.ToPkcs8Der();
  REQUIRE(key_der.ok());
  auto own = ParseOwnX509Svid(chain_der, key_der->view());
  REQUIRE(own.ok());
  CHECK(own->id.ToString() == "spiffe://example.org/api");
  CHECK(own->chain.size() == 2);
  CHECK(own->key.Public()->Equals(*leaf.key.Public()));

  auto wrong_key = PrivateKey::Generate()->ToPkcs8Der();
  CHECK(Contains(std::string(ParseOwnX509Svid(chain_der, wrong_key->view()).status().message()),
                 "does not match"));
  CHECK_FALSE(ParseOwnX509Svid(chain_der, "garbage").ok());
  CHECK_FALSE(ParseOwnX509Svid("", key_der->view()).ok());
  // A non-CA certificate after the leaf.
  auto sibling = ca.Mint("spiffe://example.org/other", clock.Now());
  std::string bad_chain = ConcatDer({leaf.cert, sibling.cert});
  CHECK(Contains(std::string(ParseOwnX509Svid(bad_chain, key_der->view()).status().message()),
                 "certificate #2 of the X509-SVID chain is not a CA"));
  // A CA as leaf.
  CHECK(Contains(
      std::string(
          ParseOwnX509Svid(ca.cert().ToDer(), ca.key().ToPkcs8Der()->view()).status().message()),
      "leaf certificate is a CA"));
}
