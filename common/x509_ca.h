// X.509 CA certificates for a trust domain (a Spinel zone): a self-signed root, or an
// intermediate signed by an upstream authority (a root key/cert configured for the zone).
//
// Every CA certificate this file mints carries (SPIFFE X509-SVID §3.2, §4, checklist B6/B7/B10):
//   - version 3, a random positive 16-byte serial (x509_builder.h RandomSerial);
//   - subject = options.subject (default C=US, O=SPIFFE) plus a serialNumber attribute holding
//     the certificate's serial in decimal, so successive CAs never share a name (as SPIRE does);
//   - basicConstraints cA=true (critical, no path length limit);
//   - keyUsage keyCertSign + cRLSign (critical);
//   - subjectKeyIdentifier (SHA-1 of the public key) and authorityKeyIdentifier (the issuer's);
//   - subjectAltName URI spiffe://<trust domain> (no path), not critical;
//   - notBefore = now - options.backdate, notAfter = now + ttl (capped at the upstream's
//     notAfter for intermediates).
// It is signed with DefaultDigest() of the signing key's type. Time comes only from `now`.
//
// Stateless and thread-safe. Errors: InvalidArgument for bad arguments (empty trust domain,
// ttl not in (0, kMaxCaTtl], an upstream certificate that is not a CA or does not match its key),
// FailedPrecondition when the upstream CA has expired at `now`, Internal for OpenSSL failures.
#pragma once

#include <chrono>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/x509_builder.h"

namespace spinel::common {

// Longest CA lifetime accepted (keeps every time representable and encodable).
inline constexpr Duration kMaxCaTtl = std::chrono::hours(24 * 365 * 100);

struct CaOptions {
  // Subject attributes; a serialNumber attribute is appended unless one is given here.
  DistinguishedName subject = DefaultSubject();
  // How far notBefore lies before `now`, to tolerate clock skew between signer and verifiers.
  Duration backdate = std::chrono::seconds(10);
};

// A self-signed CA certificate for `td` holding `key`'s public half, signed by `key`.
absl::StatusOr<Certificate> CreateSelfSignedCa(const TrustDomain& td, const PrivateKey& key,
                                               TimePoint now, Duration ttl,
                                               const CaOptions& options = {});

// An intermediate CA certificate for `td` holding `ca_public_key`, issued by `upstream_cert`
// and signed with `upstream_key` (which must be the private half of `upstream_cert`'s key).
// `upstream_cert` must be a CA (cA=true, keyCertSign when keyUsage is present) and valid at
// `now`; notAfter is min(now + ttl, upstream_cert.NotAfter()).
absl::StatusOr<Certificate> CreateIntermediateCa(const TrustDomain& td,
                                                 const PublicKey& ca_public_key,
                                                 const PrivateKey& upstream_key,
                                                 const Certificate& upstream_cert, TimePoint now,
                                                 Duration ttl, const CaOptions& options = {});

}  // namespace spinel::common
