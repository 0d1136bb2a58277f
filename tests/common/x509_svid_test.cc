#include "common/x509_svid.h"

#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "common/csr.h"
#include "common/x509_svid_validator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_ca.h"

using namespace std::chrono_literals;
using spinel::common::Certificate;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;
using spinel::common::SpiffeId;
using spinel::common::TrustDomain;
using spinel::common::X509SvidSigner;
using spinel::common::X509SvidSignerOptions;
using spinel::testing::AuthorityKeyIdHex;
using spinel::testing::ExtensionNids;
using spinel::testing::FakeClock;
using spinel::testing::IsCritical;
using spinel::testing::SignedBy;
using spinel::testing::TestCa;

namespace {

SpiffeId Id(std::string_view s) { return *SpiffeId::Parse(s); }

std::unique_ptr<X509SvidSigner> NewSigner(const TestCa& ca, X509SvidSignerOptions options = {}) {
  auto key = PrivateKey::FromPkcs8Der(ca.key().ToPkcs8Der()->view());
  REQUIRE(key.ok());
  auto signer = X509SvidSigner::Create(ca.td(), ca.cert(), std::move(*key), std::move(options));
  REQUIRE(signer.ok());
  return std::move(*signer);
}

std::string ComputedKeyIdHex(const Certificate& cert) {
  auto id = spinel::common::ComputeKeyId(cert.x509());
  REQUIRE(id.ok());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : *id) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace

TEST_CASE("a minted X509-SVID carries exactly the extensions the spec requires") {
  FakeClock clock;
  TestCa ca = TestCa::Root("example.org", clock.Now());
  auto key = PrivateKey::Generate();
  auto svid = ca.signer().Sign(*key->Public(), Id("spiffe://example.org/ns/prod/sa/api"),
                               clock.Now(), 1h, {"api.example.org"});
  REQUIRE(svid.ok());
  const Certificate& c = *svid;
  CHECK(X509_get_version(c.x509()) == X509_VERSION_3);
  // Exactly these six extensions, no others.
  std::vector<int> nids = ExtensionNids(c);
  CHECK(std::multiset<int>(nids.begin(), nids.end()) ==
        std::multiset<int>{NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                           NID_subject_key_identifier, NID_authority_key_identifier,
                           NID_subject_alt_name});
  // B1/B2: one URI SAN (the ID), DNS SANs allowed; non-critical as the subject is non-empty.
  CHECK(c.UriSans() == std::vector<std::string>{"spiffe://example.org/ns/prod/sa/api"});
  CHECK(c.DnsSans() == std::vector<std::string>{"api.example.org"});
  CHECK_FALSE(IsCritical(c, NID_subject_alt_name));
  CHECK(c.SubjectString() == "O=SPIFFE,C=US");
  // B5: basicConstraints cA=false, critical.
  CHECK_FALSE(c.IsCa());
  CHECK(IsCritical(c, NID_basic_constraints));
  // B7/B8: keyUsage critical, digitalSignature only.
  CHECK(IsCritical(c, NID_key_usage));
  CHECK(X509_get_key_usage(c.x509()) == KU_DIGITAL_SIGNATURE);
  // B9: EKU serverAuth + clientAuth, nothing else.
  CHECK_FALSE(IsCritical(c, NID_ext_key_usage));
  CHECK(X509_get_extended_key_usage(c.x509()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  // SKID is the key's SHA-1; AKID is the CA's SKID; the issuer is the CA's subject.
  CHECK(c.SubjectKeyIdHex() == ComputedKeyIdHex(c));
  CHECK(AuthorityKeyIdHex(c) == ca.cert().SubjectKeyIdHex());
  CHECK(X509_NAME_cmp(X509_get_issuer_name(c.x509()), X509_get_subject_name(ca.cert().x509())) ==
        0);
  // The requested key, signed by the CA key with its default digest.
  CHECK(c.GetPublicKey()->Equals(*key->Public()));
  CHECK(SignedBy(c, *ca.key().Public()));
  CHECK(X509_get_signature_nid(c.x509()) == NID_ecdsa_with_SHA256);
  // Validity: backdated 10 s, exactly ttl after now.
  CHECK(c.NotBefore() == clock.Now() - 10s);
  CHECK(c.NotAfter() == clock.Now() + 1h);
  // Serial: positive, 16 bytes.
  CHECK(c.SerialHex().size() == 32);
  CHECK(c.SerialHex()[0] >= '4');
  CHECK(c.SerialHex()[0] <= '7');
}

TEST_CASE("serial numbers are unique") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now());
  auto pub = *PrivateKey::Generate()->Public();
  std::set<std::string> serials;
  for (int i = 0; i < 200; ++i) {
    serials.insert(ca.signer().Sign(pub, Id("spiffe://td/w"), clock.Now(), 1h)->SerialHex());
  }
  CHECK(serials.size() == 200);
}

TEST_CASE("notAfter is capped at the CA's notAfter; an expired CA signs nothing") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now(), 2h);
  auto pub = *PrivateKey::Generate()->Public();
  clock.Advance(90min);
  auto svid = ca.signer().Sign(pub, Id("spiffe://td/w"), clock.Now(), 1h);
  REQUIRE(svid.ok());
  CHECK(svid->NotAfter() == ca.cert().NotAfter());
  auto forever =
      ca.signer().Sign(pub, Id("spiffe://td/w"), clock.Now(), spinel::common::Duration::max());
  REQUIRE(forever.ok());
  CHECK(forever->NotAfter() == ca.cert().NotAfter());
  clock.Advance(30min);
  auto expired = ca.signer().Sign(pub, Id("spiffe://td/w"), clock.Now(), 1h);
  CHECK(expired.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Sign rejects root IDs, foreign trust domains, bad DNS names and bad ttls") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now());
  auto pub = *PrivateKey::Generate()->Public();
  auto root_id = ca.signer().Sign(pub, Id("spiffe://td"), clock.Now(), 1h);
  CHECK(root_id.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(root_id.status().message()).find("no path") != std::string::npos);
  auto foreign = ca.signer().Sign(pub, Id("spiffe://other/w"), clock.Now(), 1h);
  CHECK(foreign.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(foreign.status().message()).find("trust domain") != std::string::npos);
  CHECK_FALSE(ca.signer().Sign(pub, SpiffeId(), clock.Now(), 1h).ok());
  CHECK_FALSE(ca.signer().Sign(pub, Id("spiffe://td/w"), clock.Now(), 0s).ok());
  CHECK_FALSE(ca.signer().Sign(pub, Id("spiffe://td/w"), clock.Now(), 1h, {"a,b"}).ok());
}

TEST_CASE("an empty configured subject makes the subjectAltName critical (B4)") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now());
  X509SvidSignerOptions options;
  options.subject = {};
  options.backdate = 0s;
  auto signer = NewSigner(ca, options);
  auto svid = signer->Sign(*PrivateKey::Generate()->Public(), Id("spiffe://td/w"), clock.Now(), 1h);
  REQUIRE(svid.ok());
  CHECK(X509_NAME_entry_count(X509_get_subject_name(svid->x509())) == 0);
  CHECK(IsCritical(*svid, NID_subject_alt_name));
  CHECK(svid->NotBefore() == clock.Now());
}

TEST_CASE("Create rejects non-CA certificates, mismatched keys and foreign CA SANs") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now());
  TestCa other = TestCa::Root("other", clock.Now());
  auto leaf = ca.Mint("spiffe://td/w", clock.Now());
  auto key_copy = [](const PrivateKey& k) {
    return *PrivateKey::FromPkcs8Der(k.ToPkcs8Der()->view());
  };
  auto not_ca = X509SvidSigner::Create(ca.td(), leaf.cert, key_copy(leaf.key));
  CHECK(not_ca.status().code() == absl::StatusCode::kInvalidArgument);
  auto mismatch = X509SvidSigner::Create(ca.td(), ca.cert(), key_copy(other.key()));
  CHECK(std::string(mismatch.status().message()).find("does not match") != std::string::npos);
  auto foreign = X509SvidSigner::Create(ca.td(), other.cert(), key_copy(other.key()));
  CHECK(std::string(foreign.status().message()).find("spiffe://other") != std::string::npos);
  CHECK_FALSE(X509SvidSigner::Create(TrustDomain(), ca.cert(), key_copy(ca.key())).ok());
}

TEST_CASE("a P-384 CA signs with SHA-384 and its SVIDs validate") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now(), 24h, KeyType::kEcP384);
  auto leaf = ca.Mint("spiffe://td/w", clock.Now());
  CHECK(X509_get_signature_nid(leaf.cert.x509()) == NID_ecdsa_with_SHA384);
  spinel::common::X509AuthorityMap bundles({{ca.td(), {ca.root()}}});
  CHECK(spinel::common::VerifyX509Svid({leaf.cert}, bundles, clock.Now()).ok());
}

TEST_CASE("a CSR's key signed into an SVID validates, also through an intermediate") {
  FakeClock clock;
  TestCa root = TestCa::Root("td", clock.Now());
  TestCa ca = root.Intermediate(clock.Now());
  auto key = PrivateKey::Generate();
  auto csr = spinel::common::Csr::FromDer(*spinel::common::CreateCsrDer(*key, Id("spiffe://td/w")));
  REQUIRE(csr.ok());
  auto svid = ca.signer().Sign(csr->public_key(), *csr->RequestedSpiffeId(), clock.Now(), 1h);
  REQUIRE(svid.ok());
  spinel::common::X509AuthorityMap bundles({{root.td(), {root.root()}}});
  auto verified = spinel::common::VerifyX509Svid(ca.ChainFor(*svid), bundles, clock.Now());
  REQUIRE(verified.ok());
  CHECK(verified->id.ToString() == "spiffe://td/w");
  CHECK(verified->chain.size() == 3);
}

TEST_CASE("SignDer for a CSR embeds the CSR's key with the same profile as Sign") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now());
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521}) {
    CAPTURE(spinel::common::KeyTypeName(type));
    auto key = PrivateKey::Generate(type);
    auto csr = spinel::common::Csr::FromDer(
        *spinel::common::CreateCsrDer(*key, Id("spiffe://td/from-csr")));
    REQUIRE(csr.ok());
    // The ID is the caller's: it need not be the one the CSR asked for.
    auto der = ca.signer().SignDer(*csr, Id("spiffe://td/decided"), clock.Now(), 1h);
    REQUIRE(der.ok());
    auto svid = Certificate::FromDer(*der);
    REQUIRE(svid.ok());
    CHECK(svid->GetPublicKey()->Equals(*key->Public()));
    CHECK(svid->UriSans() == std::vector<std::string>{"spiffe://td/decided"});
    auto reference = ca.signer().Sign(*key->Public(), Id("spiffe://td/decided"), clock.Now(), 1h);
    REQUIRE(reference.ok());
    CHECK(ExtensionNids(*svid) == ExtensionNids(*reference));
    CHECK(svid->SubjectKeyIdHex() == reference->SubjectKeyIdHex());
    CHECK(svid->SerialHex() != reference->SerialHex());
    CHECK_FALSE(ca.signer().SignDer(*csr, Id("spiffe://td"), clock.Now(), 1h).ok());
  }
}

TEST_CASE("signing and CSR parsing are safe from several threads at once") {
  FakeClock clock;
  TestCa ca = TestCa::Root("td", clock.Now());
  auto key = PrivateKey::Generate();
  std::string csr_der = *spinel::common::CreateCsrDer(*key, Id("spiffe://td/w"));
  spinel::common::X509AuthorityMap bundles({{ca.td(), {ca.root()}}});
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto csr = spinel::common::Csr::FromDer(csr_der);
        if (!csr.ok()) continue;
        auto der = ca.signer().SignDer(*csr, Id("spiffe://td/w"), clock.Now(), 1h);
        if (!der.ok()) continue;
        if (spinel::common::VerifyX509SvidDer(*der, bundles, clock.Now()).ok()) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(good.load() == 200);
}
