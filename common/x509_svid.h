// X509SvidSigner: mints X509-SVIDs (SPIFFE X509-SVID §2-§4, checklist B1-B9) for one trust
// domain with one CA key. Build it once per CA (Create does all parsing and the constant
// parts of every certificate up front) and call SignDer() for each workload key.
//
// Cost: SignDer() is one signature plus a few microseconds: it encodes the DER itself
// (der_writer.h) from parts prepared by Create(), and the key through spki.h, because filling
// and serializing an OpenSSL X509 costs as much again as the signature under OpenSSL 3.0 and
// X509_set_pubkey alone ~300 us. Sign() returns a parsed Certificate and pays for parsing it
// back (OpenSSL 3.0's d2i_X509, ~250 us): use SignDer() on the issuance path, Sign() where a
// Certificate object is needed.
//
// Every SVID carries exactly:
//   - version 3, a random positive 16-byte serial (126 random bits);
//   - issuer = the CA certificate's subject; subject = options.subject (default C=US,
//     O=SPIFFE). Choice for B4: the subject is non-empty by default, so the subjectAltName is
//     not critical; when options.subject is empty the subjectAltName is marked critical;
//   - subjectAltName: exactly one URI (the SPIFFE ID, which must have a non-root path) and the
//     optional DNS names;
//   - basicConstraints cA=false (critical);
//   - keyUsage digitalSignature only (critical);
//   - extendedKeyUsage serverAuth + clientAuth (not critical);
//   - subjectKeyIdentifier (RFC 5280 method 1: SHA-1 of the key) and authorityKeyIdentifier (the
//   CA's);
//   - notBefore = now - options.backdate, notAfter = min(now + ttl, CA notAfter);
// signed with the CA key and DefaultDigest() of its type.
//
// Thread-safety: SignDer() and Sign() are const and may be called from any number of threads
// at once.
// Errors: Create -> InvalidArgument when the certificate is not a CA, does not match the key
// or names another trust domain. SignDer/Sign -> InvalidArgument for a root-path or foreign-trust-
// domain ID, bad DNS names or a non-positive ttl; FailedPrecondition when the CA has expired
// at `now`; Internal for OpenSSL failures.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/clock.h"
#include "common/csr.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/x509_builder.h"

namespace spinel::common {

struct X509SvidSignerOptions {
  // Subject of every SVID; empty means an empty subject and a critical subjectAltName.
  DistinguishedName subject = DefaultSubject();
  // How far notBefore lies before `now`, to tolerate clock skew between signer and verifiers.
  Duration backdate = std::chrono::seconds(10);
};

class X509SvidSigner {
 public:
  // `ca_cert` must be a CA (cA=true, keyCertSign when keyUsage is present) whose public key is
  // `ca_key`'s, and any URI SAN it has must be spiffe://<td>. The signer keeps both.
  static absl::StatusOr<std::unique_ptr<X509SvidSigner>> Create(const TrustDomain& td,
                                                                Certificate ca_cert,
                                                                PrivateKey ca_key,
                                                                X509SvidSignerOptions options = {});

  X509SvidSigner(const X509SvidSigner&) = delete;
  X509SvidSigner& operator=(const X509SvidSigner&) = delete;

  // The DER of an X509-SVID for `id` (in this signer's trust domain, non-root path) holding
  // `public_key` (typically Csr::public_key()), valid from `now` - backdate for `ttl`
  // (shortened to the CA's notAfter). `dns_names` must pass CheckDnsName.
  absl::StatusOr<std::string> SignDer(const PublicKey& public_key, const SpiffeId& id,
                                      TimePoint now, Duration ttl,
                                      const std::vector<std::string>& dns_names = {}) const;
  // The same for the key of a verified CSR, reusing its encoding (saves re-encoding the key).
  // The SPIFFE ID is the caller's decision, not taken from the CSR.
  absl::StatusOr<std::string> SignDer(const Csr& csr, const SpiffeId& id, TimePoint now,
                                      Duration ttl,
                                      const std::vector<std::string>& dns_names = {}) const;
  // The same as the first SignDer, parsed into a Certificate.
  absl::StatusOr<Certificate> Sign(const PublicKey& public_key, const SpiffeId& id, TimePoint now,
                                   Duration ttl,
                                   const std::vector<std::string>& dns_names = {}) const;

  const TrustDomain& trust_domain() const { return td_; }
  const Certificate& ca_certificate() const { return ca_cert_; }

 private:
  X509SvidSigner(TrustDomain td, Certificate ca_cert, PrivateKey ca_key,
                 X509SvidSignerOptions options)
      : td_(std::move(td)),
        ca_cert_(std::move(ca_cert)),
        ca_key_(std::move(ca_key)),
        options_(std::move(options)) {}
  absl::Status Prepare();
  absl::Status CheckRequest(const SpiffeId& id, TimePoint now, Duration ttl) const;
  absl::StatusOr<std::string> Extensions(std::string_view spki, const SpiffeId& id,
                                         const std::vector<std::string>& dns_names) const;
  absl::StatusOr<std::string> SignBytes(std::string_view data) const;
  absl::StatusOr<std::string> SignSpki(std::string_view spki, const SpiffeId& id, TimePoint now,
                                       Duration ttl,
                                       const std::vector<std::string>& dns_names) const;

  const TrustDomain td_;
  const Certificate ca_cert_;
  const PrivateKey ca_key_;
  const X509SvidSignerOptions options_;
  // Computed once by Prepare() and only read afterwards. DER strings are complete elements.
  TimePoint ca_not_after_;
  bool san_critical_ = false;
  const EVP_MD* digest_ = nullptr;
  std::string signature_algorithm_;  // AlgorithmIdentifier of the CA key + digest
  std::string issuer_;               // the CA's subject Name
  std::string subject_;              // options_.subject as a Name
  // basicConstraints, keyUsage, extendedKeyUsage, authorityKeyIdentifier Extensions.
  std::string fixed_extensions_;
};

}  // namespace spinel::common
