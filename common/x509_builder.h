// Building blocks for minting X.509 certificates and PKCS#10 requests: distinguished names,
// random serial numbers, validity periods, the extensions SPIFFE certificates carry, and
// signing. Used by csr.cc, x509_ca.cc and x509_svid.cc; callers outside the X.509 code should
// use those instead.
//
// Every extension is built from OpenSSL's typed structures (never from a config string), so
// untrusted names cannot inject extra values. Functions are stateless and thread-safe; returned
// SslPtr objects are owned by the caller. Errors: InvalidArgument for bad input (names that
// are not valid DNS names, unknown DN fields), Internal for OpenSSL failures.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/ssl_ptr.h"

namespace spinel::common {

// One attribute of a distinguished name, e.g. {"O", "SPIFFE"}. `field` is an OpenSSL short
// or long attribute name ("C", "O", "OU", "CN", "serialNumber", ...).
struct NameAttribute {
  std::string field;
  std::string value;
};
using DistinguishedName = std::vector<NameAttribute>;

// C=US, O=SPIFFE: the subject Spinel gives its CAs and SVIDs unless configured otherwise.
DistinguishedName DefaultSubject();

// An X509_NAME with the attributes in order (UTF-8 values). An empty `dn` gives an empty name.
absl::StatusOr<SslPtr<X509_NAME>> BuildName(const DistinguishedName& dn);

// A positive 16-byte serial number with 126 random bits (RFC 5280: at most 20 octets, positive;
// CA/B forum: at least 64 bits of randomness).
absl::StatusOr<SslPtr<ASN1_INTEGER>> RandomSerial();
// The same serial as its 16 big-endian content bytes.
absl::StatusOr<std::string> RandomSerialBytes();

// Decimal text of a serial number, e.g. for a serialNumber name attribute.
absl::StatusOr<std::string> SerialDecimal(const ASN1_INTEGER& serial);

// Checks a DNS SAN value: 1-253 bytes, dot-separated labels of 1-63 bytes made of letters,
// digits, '-' and '_', no leading/trailing '-'; the first label may be exactly "*".
absl::Status CheckDnsName(std::string_view name);

// subjectAltName with the URIs (in order) followed by the DNS names. Every DNS name must pass
// CheckDnsName; URIs are taken as given (callers pass validated SPIFFE IDs).
absl::StatusOr<SslPtr<X509_EXTENSION>> SubjectAltNameExtension(
    const std::vector<std::string>& uris, const std::vector<std::string>& dns_names, bool critical);
// basicConstraints, critical, cA as given, no pathLenConstraint.
absl::StatusOr<SslPtr<X509_EXTENSION>> BasicConstraintsExtension(bool ca);
// keyUsage, critical; `bits` is a mask of OpenSSL's KU_* constants.
absl::StatusOr<SslPtr<X509_EXTENSION>> KeyUsageExtension(uint32_t bits);
// extendedKeyUsage, not critical, with the given key purpose NIDs (e.g. NID_server_auth).
absl::StatusOr<SslPtr<X509_EXTENSION>> ExtKeyUsageExtension(const std::vector<int>& nids);
// subjectKeyIdentifier / authorityKeyIdentifier (keyIdentifier only), not critical.
absl::StatusOr<SslPtr<X509_EXTENSION>> SubjectKeyIdExtension(std::string_view key_id);
absl::StatusOr<SslPtr<X509_EXTENSION>> AuthorityKeyIdExtension(std::string_view key_id);

// RFC 5280 method 1 key identifier: SHA-1 of the certificate's subjectPublicKey BIT STRING.
// The public key must already be set on `x509`.
absl::StatusOr<std::string> ComputeKeyId(const X509* x509);
// The certificate's subjectKeyIdentifier bytes, or ComputeKeyId when it has none. (Non-const:
// OpenSSL caches the parsed extensions in the object, under its own lock.)
absl::StatusOr<std::string> KeyIdOf(X509* x509);

// Sets notBefore/notAfter (UTCTime before 2050, GeneralizedTime after, per RFC 5280).
absl::Status SetValidity(X509* x509, TimePoint not_before, TimePoint not_after);
// Appends a copy of `ext` to the certificate.
absl::Status AddExtension(X509* x509, const X509_EXTENSION& ext);
// Signs with `key` and DefaultDigest(key.type()).
absl::Status SignCertificate(X509* x509, const PrivateKey& key);

}  // namespace spinel::common
