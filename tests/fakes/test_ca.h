// Test CAs: a root (or intermediate) CA for one trust domain with its X509SvidSigner, and
// CraftCertificate for certificates the library refuses to mint (CA leaves, two URI SANs,
// missing keyUsage, validity outside the issuer's...), to test the validator on them.
// Failures abort the current doctest case (REQUIRE).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/certificate.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/x509_builder.h"
#include "common/x509_ca.h"
#include "common/x509_svid.h"

namespace spinel::testing {

struct TestLeaf {
  common::Certificate cert;
  common::PrivateKey key;
};

class TestCa {
 public:
  // A self-signed root for trust domain `td`, valid from now - 10s to now + ttl.
  static TestCa Root(std::string_view td, common::TimePoint now,
                     common::Duration ttl = std::chrono::hours(24),
                     common::KeyType key_type = common::KeyType::kEcP256) {
    auto trust_domain = common::TrustDomain::Parse(td);
    REQUIRE(trust_domain.ok());
    auto key = common::PrivateKey::Generate(key_type);
    REQUIRE(key.ok());
    auto cert = common::CreateSelfSignedCa(*trust_domain, *key, now, ttl);
    REQUIRE(cert.ok());
    return TestCa(*trust_domain, std::move(*key), *cert, *cert, {});
  }

  // An intermediate CA of the same trust domain signed by this CA.
  TestCa Intermediate(common::TimePoint now, common::Duration ttl = std::chrono::hours(12)) const {
    auto key = common::PrivateKey::Generate();
    REQUIRE(key.ok());
    auto cert = common::CreateIntermediateCa(td_, *key->Public(), key_, cert_, now, ttl);
    REQUIRE(cert.ok());
    std::vector<common::Certificate> intermediates = {*cert};
    intermediates.insert(intermediates.end(), intermediates_.begin(), intermediates_.end());
    return TestCa(td_, std::move(*key), *cert, root_, std::move(intermediates));
  }

  // A fresh P-256 key and its X509-SVID for `id` (a full SPIFFE ID in this trust domain).
  TestLeaf Mint(std::string_view id, common::TimePoint now,
                common::Duration ttl = std::chrono::hours(1),
                const std::vector<std::string>& dns_names = {}) const {
    auto spiffe_id = common::SpiffeId::Parse(id);
    REQUIRE(spiffe_id.ok());
    auto key = common::PrivateKey::Generate();
    REQUIRE(key.ok());
    auto cert = signer_->Sign(*key->Public(), *spiffe_id, now, ttl, dns_names);
    REQUIRE(cert.ok());
    return TestLeaf{*cert, std::move(*key)};
  }

  // The chain a workload presents: `leaf`, then this CA's certificates below the root.
  std::vector<common::Certificate> ChainFor(const common::Certificate& leaf) const {
    std::vector<common::Certificate> chain = {leaf};
    chain.insert(chain.end(), intermediates_.begin(), intermediates_.end());
    return chain;
  }

  const common::TrustDomain& td() const { return td_; }
  const common::PrivateKey& key() const { return key_; }
  const common::Certificate& cert() const { return cert_; }
  const common::Certificate& root() const { return root_; }
  const std::vector<common::Certificate>& intermediates() const { return intermediates_; }
  const common::X509SvidSigner& signer() const { return *signer_; }

 private:
  TestCa(common::TrustDomain td, common::PrivateKey key, common::Certificate cert,
         common::Certificate root, std::vector<common::Certificate> intermediates)
      : td_(std::move(td)),
        key_(std::move(key)),
        cert_(std::move(cert)),
        root_(std::move(root)),
        intermediates_(std::move(intermediates)) {
    auto key_copy = common::PrivateKey::FromPkcs8Der(key_.ToPkcs8Der()->view());
    REQUIRE(key_copy.ok());
    auto signer = common::X509SvidSigner::Create(td_, cert_, std::move(*key_copy));
    REQUIRE(signer.ok());
    signer_ = std::shared_ptr<common::X509SvidSigner>(std::move(*signer));
  }

  common::TrustDomain td_;
  common::PrivateKey key_;
  common::Certificate cert_;
  common::Certificate root_;
  std::vector<common::Certificate> intermediates_;  // this CA first, excluding the root
  std::shared_ptr<common::X509SvidSigner> signer_;
};

// What CraftCertificate puts in a certificate. Defaults describe a valid X509-SVID leaf.
struct CertSpec {
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  bool add_basic_constraints = true;
  bool ca = false;
  std::optional<uint32_t> key_usage = KU_DIGITAL_SIGNATURE;  // nullopt: no keyUsage at all
  common::TimePoint not_before;
  common::TimePoint not_after;
  common::DistinguishedName subject = common::DefaultSubject();
  // Adds a critical issuerAltName extension, which OpenSSL path validation does not handle.
  bool unhandled_critical_extension = false;
};

inline void AddCraftedExtensions(X509* x509, const CertSpec& spec) {
  auto add = [x509](absl::StatusOr<common::SslPtr<X509_EXTENSION>> ext) {
    REQUIRE(ext.ok());
    REQUIRE(common::AddExtension(x509, **ext).ok());
  };
  if (spec.add_basic_constraints) add(common::BasicConstraintsExtension(spec.ca));
  if (spec.key_usage.has_value()) add(common::KeyUsageExtension(*spec.key_usage));
  add(common::SubjectKeyIdExtension(*common::ComputeKeyId(x509)));
  if (!spec.uris.empty() || !spec.dns_names.empty()) {
    add(common::SubjectAltNameExtension(spec.uris, spec.dns_names, false));
  }
  if (spec.unhandled_critical_extension) {
    common::SslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, nullptr, NID_issuer_alt_name,
                                                           "critical,URI:http://issuer.example"));
    REQUIRE(ext != nullptr);
    REQUIRE(common::AddExtension(x509, *ext).ok());
  }
}

// A certificate per `spec` for `subject_key`, issued by `issuer` and signed with `issuer_key`.
inline common::Certificate CraftCertificate(const CertSpec& spec,
                                            const common::PublicKey& subject_key,
                                            const common::Certificate& issuer,
                                            const common::PrivateKey& issuer_key) {
  common::SslPtr<X509> x509(X509_new());
  REQUIRE(X509_set_version(x509.get(), X509_VERSION_3) == 1);
  auto serial = common::RandomSerial();
  REQUIRE(serial.ok());
  auto subject = common::BuildName(spec.subject);
  REQUIRE(subject.ok());
  REQUIRE(X509_set_serialNumber(x509.get(), serial->get()) == 1);
  REQUIRE(X509_set_subject_name(x509.get(), subject->get()) == 1);
  REQUIRE(X509_set_issuer_name(x509.get(), X509_get_subject_name(issuer.x509())) == 1);
  REQUIRE(X509_set_pubkey(x509.get(), subject_key.evp()) == 1);
  REQUIRE(common::SetValidity(x509.get(), spec.not_before, spec.not_after).ok());
  AddCraftedExtensions(x509.get(), spec);
  auto akid = common::AuthorityKeyIdExtension(*common::KeyIdOf(issuer.x509()));
  REQUIRE(akid.ok());
  REQUIRE(common::AddExtension(x509.get(), **akid).ok());
  REQUIRE(common::SignCertificate(x509.get(), issuer_key).ok());
  return common::Certificate::Adopt(std::move(x509));
}

// Inspection helpers for tests that check extensions one by one.
inline X509_EXTENSION* FindExtension(const common::Certificate& cert, int nid) {
  int index = X509_get_ext_by_NID(cert.x509(), nid, -1);
  return index < 0 ? nullptr : X509_get_ext(cert.x509(), index);
}
inline bool IsCritical(const common::Certificate& cert, int nid) {
  X509_EXTENSION* ext = FindExtension(cert, nid);
  REQUIRE(ext != nullptr);
  return X509_EXTENSION_get_critical(ext) == 1;
}
// The NIDs of all extensions, in certificate order.
inline std::vector<int> ExtensionNids(const common::Certificate& cert) {
  std::vector<int> out;
  for (int i = 0; i < X509_get_ext_count(cert.x509()); ++i) {
    out.push_back(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(cert.x509(), i))));
  }
  return out;
}
// Hex of the authorityKeyIdentifier keyIdentifier, "" when absent.
inline std::string AuthorityKeyIdHex(const common::Certificate& cert) {
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.x509());
  if (akid == nullptr) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < ASN1_STRING_length(akid); ++i) {
    unsigned char b = ASN1_STRING_get0_data(akid)[i];
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}
// True when `cert`'s signature verifies with `issuer_key`.
inline bool SignedBy(const common::Certificate& cert, const common::PublicKey& issuer_key) {
  return X509_verify(cert.x509(), issuer_key.evp()) == 1;
}

}  // namespace spinel::testing
