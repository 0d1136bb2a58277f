// Validating X509-SVIDs: a peer's chain against the X.509 authorities of the LEAF's trust
// domain (SPIFFE X509-SVID §5, checklist B13-B16), and the workload's own SVID and key as
// received from the Workload API (checklist B18).
//
// VerifyX509Svid runs checklist B16 in order:
//   (a) the chain is non-empty (the authority source is a reference, so always present);
//   (b) the leaf has exactly one URI SAN; (c) it is a valid SPIFFE ID (spiffe_id.h rules);
//   (d) the leaf is not a CA; (e) no keyUsage keyCertSign; (f) no keyUsage cRLSign;
//   (g) the ID has a non-root path and keyUsage includes digitalSignature;
//   (h) the authorities are those of the leaf's trust domain only (never pooled across trust
//       domains); none known -> rejected;
//   (i) RFC 5280 path validation by OpenSSL (X509_verify_cert): roots = those authorities,
//       intermediates = chain[1..], time = `now` (X509_VERIFY_PARAM_set_time); unknown
//       critical extensions are rejected. Every authority is a trust anchor, self-signed or
//       not (X509_V_FLAG_PARTIAL_CHAIN), as in Go's crypto/x509 that go-spiffe uses. No EKU
//       purpose is enforced (go-spiffe verifies with ExtKeyUsageAny, checklist B17).
// Step (j), authorizing the returned SPIFFE ID, is the caller's.
//
// Errors name the broken rule: InvalidArgument for a malformed or non-conforming SVID (steps
// a-g), PermissionDenied when it is not trusted (steps h-i, e.g. "no X.509 bundle for trust
// domain x", "... certificate has expired (depth 0)").
//
// Thread-safety: the functions are thread-safe as long as the X509AuthoritySource is.
#pragma once

#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/spiffe_id.h"

namespace spinel::common {

// Where the validator finds the X.509 authorities (bundle x509-svid entries) of a trust
// domain. Implementations must be safe to call from several threads if the validator is.
class X509AuthoritySource {
 public:
  virtual ~X509AuthoritySource() = default;
  // The authorities of `td` (a copy; Certificates are reference-counted), or nullopt when
  // there is no bundle for `td`.
  virtual std::optional<std::vector<Certificate>> X509AuthoritiesFor(
      const TrustDomain& td) const = 0;
};

// A fixed trust-domain -> authorities map. Reads are thread-safe; Set() must not run
// concurrently with anything else.
class X509AuthorityMap final : public X509AuthoritySource {
 public:
  X509AuthorityMap() = default;
  explicit X509AuthorityMap(std::map<TrustDomain, std::vector<Certificate>> authorities)
      : authorities_(std::move(authorities)) {}
  void Set(const TrustDomain& td, std::vector<Certificate> authorities) {
    authorities_[td] = std::move(authorities);
  }
  std::optional<std::vector<Certificate>> X509AuthoritiesFor(const TrustDomain& td) const override;

 private:
  std::map<TrustDomain, std::vector<Certificate>> authorities_;
};

struct VerifiedX509Svid {
  SpiffeId id;
  // The chain OpenSSL built: the leaf first, the trust anchor from the bundle last.
  std::vector<Certificate> chain;
};

// Steps (b)-(g) on a leaf certificate; returns its SPIFFE ID.
absl::StatusOr<SpiffeId> CheckX509SvidLeaf(const Certificate& leaf);

// Verifies a peer's X509-SVID: `chain` is the leaf followed by any intermediates.
absl::StatusOr<VerifiedX509Svid> VerifyX509Svid(const std::vector<Certificate>& chain,
                                                const X509AuthoritySource& authorities,
                                                TimePoint now);
// The same for concatenated DER (the Workload API encoding).
absl::StatusOr<VerifiedX509Svid> VerifyX509SvidDer(std::string_view chain_der,
                                                   const X509AuthoritySource& authorities,
                                                   TimePoint now);

// A workload's own X509-SVID with its private key.
struct X509Svid {
  SpiffeId id;
  std::vector<Certificate> chain;  // leaf first
  PrivateKey key;
};

// Parses the Workload API's x509_svid (concatenated DER, leaf first) and x509_svid_key
// (PKCS#8 DER) as go-spiffe's x509svid.ParseRaw does (checklist B18): at least one
// certificate; leaf checks (b)-(g); every other certificate a CA with keyUsage keyCertSign;
// the key's public half equal to the leaf's public key. No path validation and no time
// check. Errors are InvalidArgument and never contain key bytes.
absl::StatusOr<X509Svid> ParseOwnX509Svid(std::string_view chain_der,
                                          std::string_view key_pkcs8_der);

}  // namespace spinel::common
