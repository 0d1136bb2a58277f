#include "common/x509_ca.h"

#include <doctest/doctest.h>

#include <set>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_ca.h"

using namespace std::chrono_literals;
using spinel::common::CaOptions;
using spinel::common::Certificate;
using spinel::common::CreateIntermediateCa;
using spinel::common::CreateSelfSignedCa;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::TimePoint;
using spinel::common::TrustDomain;
using spinel::testing::AuthorityKeyIdHex;
using spinel::testing::ExtensionNids;
using spinel::testing::FakeClock;
using spinel::testing::IsCritical;
using spinel::testing::SignedBy;

namespace {

TrustDomain Td(std::string_view name) { return *TrustDomain::Parse(name); }

// Checks everything every Spinel CA certificate must carry (checklist B6, B7, B10).
void CheckCaProfile(const Certificate& ca, std::string_view td) {
  CHECK(X509_get_version(ca.x509()) == X509_VERSION_3);
  CHECK(ca.IsCa());
  CHECK(IsCritical(ca, NID_basic_constraints));
  CHECK(X509_get_pathlen(ca.x509()) == -1);
  CHECK(IsCritical(ca, NID_key_usage));
  CHECK(X509_get_key_usage(ca.x509()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(ca.UriSans() == std::vector<std::string>{"spiffe://" + std::string(td)});
  CHECK_FALSE(IsCritical(ca, NID_subject_alt_name));
  CHECK(ca.DnsSans().empty());
  CHECK(ca.SubjectKeyIdHex().size() == 40);                     // SHA-1
  CHECK(X509_get_extended_key_usage(ca.x509()) == UINT32_MAX);  // no EKU
  std::vector<int> nids = ExtensionNids(ca);
  std::multiset<int> got(nids.begin(), nids.end());
  CHECK(got == std::multiset<int>{NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
                                  NID_subject_alt_name, NID_authority_key_identifier});
  // A positive 16-byte serial with the top bit clear.
  std::string serial = ca.SerialHex();
  CHECK(serial.size() == 32);
  CHECK(serial[0] >= '4');
  CHECK(serial[0] <= '7');
}

}  // namespace

TEST_CASE("a self-signed CA has the SPIFFE CA profile and exact validity") {
  FakeClock clock;
  auto key = PrivateKey::Generate();
  auto ca = CreateSelfSignedCa(Td("example.org"), *key, clock.Now(), 24h);
  REQUIRE(ca.ok());
  CheckCaProfile(*ca, "example.org");
  CHECK(ca->NotBefore() == clock.Now() - 10s);
  CHECK(ca->NotAfter() == clock.Now() + 24h);
  CHECK(ca->GetPublicKey()->Equals(*key->Public()));
  CHECK(SignedBy(*ca, *key->Public()));
  CHECK(AuthorityKeyIdHex(*ca) == ca->SubjectKeyIdHex());
  CHECK(X509_NAME_cmp(X509_get_subject_name(ca->x509()), X509_get_issuer_name(ca->x509())) == 0);
  CHECK(X509_get_signature_nid(ca->x509()) == NID_ecdsa_with_SHA256);
  // Subject: the defaults plus the serial in decimal.
  std::string subject = ca->SubjectString();
  CHECK(subject.find("O=SPIFFE") != std::string::npos);
  CHECK(subject.find("C=US") != std::string::npos);
  CHECK(subject.find("serialNumber=") != std::string::npos);
  // Serials and names differ between CAs.
  auto other = CreateSelfSignedCa(Td("example.org"), *key, clock.Now(), 24h);
  CHECK(other->SerialHex() != ca->SerialHex());
  CHECK(other->SubjectString() != ca->SubjectString());
}

TEST_CASE("CA options set the subject and backdate; P-384 keys sign with SHA-384") {
  FakeClock clock;
  auto key = PrivateKey::Generate(KeyType::kEcP384);
  CaOptions options;
  options.subject = {{"C", "DE"}, {"O", "Acme"}, {"serialNumber", "7"}};
  options.backdate = 0s;
  auto ca = CreateSelfSignedCa(Td("acme.test"), *key, clock.Now(), 1h, options);
  REQUIRE(ca.ok());
  CHECK(ca->SubjectString() == "serialNumber=7,O=Acme,C=DE");
  CHECK(ca->NotBefore() == clock.Now());
  CHECK(X509_get_signature_nid(ca->x509()) == NID_ecdsa_with_SHA384);
  options.subject = {{"NoSuchField", "x"}};
  CHECK(CreateSelfSignedCa(Td("acme.test"), *key, clock.Now(), 1h, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an intermediate CA is issued by its upstream and capped at its notAfter") {
  FakeClock clock;
  auto root_key = PrivateKey::Generate();
  auto root = CreateSelfSignedCa(Td("example.org"), *root_key, clock.Now(), 10h);
  REQUIRE(root.ok());
  clock.Advance(1h);
  auto key = PrivateKey::Generate();
  auto ca =
      CreateIntermediateCa(Td("example.org"), *key->Public(), *root_key, *root, clock.Now(), 4h);
  REQUIRE(ca.ok());
  CheckCaProfile(*ca, "example.org");
  CHECK(ca->GetPublicKey()->Equals(*key->Public()));
  CHECK(SignedBy(*ca, *root_key->Public()));
  CHECK_FALSE(SignedBy(*ca, *key->Public()));
  CHECK(AuthorityKeyIdHex(*ca) == root->SubjectKeyIdHex());
  CHECK(ca->SubjectKeyIdHex() != root->SubjectKeyIdHex());
  CHECK(X509_NAME_cmp(X509_get_issuer_name(ca->x509()), X509_get_subject_name(root->x509())) == 0);
  CHECK(ca->NotBefore() == clock.Now() - 10s);
  CHECK(ca->NotAfter() == clock.Now() + 4h);
  // Asking for more than the upstream has left gives the upstream's notAfter.
  auto capped =
      CreateIntermediateCa(Td("example.org"), *key->Public(), *root_key, *root, clock.Now(), 100h);
  REQUIRE(capped.ok());
  CHECK(capped->NotAfter() == root->NotAfter());
}

TEST_CASE("CA creation rejects bad arguments and unusable upstreams") {
  FakeClock clock;
  auto root_key = PrivateKey::Generate();
  auto other_key = PrivateKey::Generate();
  auto root = CreateSelfSignedCa(Td("td"), *root_key, clock.Now(), 2h);
  REQUIRE(root.ok());
  auto pub = *other_key->Public();
  CHECK(CreateSelfSignedCa(TrustDomain(), *root_key, clock.Now(), 1h).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(CreateSelfSignedCa(Td("td"), *root_key, clock.Now(), 0s).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(CreateSelfSignedCa(Td("td"), *root_key, clock.Now(), spinel::common::kMaxCaTtl + 1s)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  auto mismatch = CreateIntermediateCa(Td("td"), pub, *other_key, *root, clock.Now(), 1h);
  CHECK(mismatch.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(mismatch.status().message()).find("does not match") != std::string::npos);
  // A leaf is not an upstream.
  auto ca = spinel::testing::TestCa::Root("td", clock.Now());
  auto leaf = ca.Mint("spiffe://td/w", clock.Now());
  auto not_ca = CreateIntermediateCa(Td("td"), pub, leaf.key, leaf.cert, clock.Now(), 1h);
  CHECK(not_ca.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(not_ca.status().message()).find("not a CA") != std::string::npos);
  clock.Advance(2h);
  auto expired = CreateIntermediateCa(Td("td"), pub, *root_key, *root, clock.Now(), 1h);
  CHECK(expired.status().code() == absl::StatusCode::kFailedPrecondition);
}
