// SPIFFE bundles (SPIFFE Trust Domain and Bundle spec; shared/spec/checklist.md section D):
// the X.509 and JWT authorities of ONE trust domain, and their JWK Set encoding.
//
// Encoding (ToJson): {"keys":[...], "spiffe_sequence":N, "spiffe_refresh_hint":S} where
//  - each X.509 authority is a JWK with the certificate's key members, "use":"x509-svid" and
//    "x5c" holding exactly that one certificate (standard base64 DER), and no "kid";
//  - each JWT authority is a JWK with its key members, "use":"jwt-svid" and its "kid";
//  - each WIT authority (WIT-SVID §6.1) is a JWK with its key members, "use":"wit-svid" and
//    its "kid";
//  - spiffe_sequence / spiffe_refresh_hint only when set.
//
// Decoding (Parse / FromJwks), checklist D:
//  - the document must be a JSON object (at most 1 MiB, no duplicate members) with a "keys"
//    array (which may be empty); unknown top-level members are ignored;
//  - each entry must be an object with a string "kty"; a JWK whose "use" is missing or
//    unknown (anything but "x509-svid" / "jwt-svid" / "wit-svid"), or whose kty is not EC or
//    RSA, is skipped; a "use" that is not a string is an error;
//  - x509-svid: an absent or empty "x5c" skips the entry; otherwise the first certificate is
//    used (the rest ignored); it must be a string of standard base64 holding one DER
//    certificate, and the JWK's key members must describe that certificate's key;
//  - jwt-svid and wit-svid: "kid" must be a non-empty string, unique across the whole bundle
//    (no jwt-svid and wit-svid key share one, WIT-SVID §6.1), and the key members a valid EC
//    (P-256/384/521) or RSA (>= 2048 bits) public key;
//  - spiffe_sequence: a non-negative integer < 2^64; spiffe_refresh_hint: an integer fitting
//    int64 (seconds; not range-checked further: consumers clamp it).
// Every failure is InvalidArgument naming the entry ("keys[2]: ...") and the problem.
//
// Bundles of different trust domains are never merged (Federation §4.2): BundleSet keeps one
// Bundle per trust domain, replacing it as a whole.
//
// Thread-safety: Bundle and BundleSet are values; const methods are thread-safe, mutation
// needs external synchronisation.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/jwt_svid.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/wit_svid.h"
#include "common/x509_svid_validator.h"

namespace spinel::common {

inline constexpr std::string_view kUseX509Svid = "x509-svid";
inline constexpr std::string_view kUseJwtSvid = "jwt-svid";
inline constexpr std::string_view kUseWitSvid = "wit-svid";
inline constexpr size_t kMaxBundleJsonBytes = 1 << 20;

struct Bundle {
  TrustDomain trust_domain;
  std::vector<Certificate> x509_authorities;
  std::map<std::string, PublicKey> jwt_authorities;  // by kid
  std::map<std::string, PublicKey> wit_authorities;  // by kid; no kid also in jwt_authorities
  std::optional<uint64_t> sequence;                  // spiffe_sequence
  std::optional<int64_t> refresh_hint_seconds;       // spiffe_refresh_hint

  // Decodes the JWK Set `json` as the bundle of `trust_domain`.
  static absl::StatusOr<Bundle> Parse(const TrustDomain& trust_domain, std::string_view json);
  static absl::StatusOr<Bundle> FromJwks(const TrustDomain& trust_domain,
                                         const nlohmann::json& jwks);

  // The SPIFFE bundle JWK Set (federation endpoint, bundle files).
  absl::StatusOr<nlohmann::json> ToJwks() const;
  absl::StatusOr<std::string> ToJson() const;
  // Workload API FetchJWTBundles value: a JWK Set with only the jwt-svid keys.
  absl::StatusOr<std::string> JwtAuthoritiesJson() const;
  // Workload API FetchWITBundles value: a JWK Set with only the wit-svid keys.
  absl::StatusOr<std::string> WitAuthoritiesJson() const;
  // Workload API X.509 bundle values: the authorities as concatenated DER, and as PEM.
  std::string X509AuthoritiesDer() const { return ConcatDer(x509_authorities); }
  std::string X509AuthoritiesPem() const { return ConcatPem(x509_authorities); }

  // The jwt-svid key `kid`, or nullptr.
  const PublicKey* FindJwtAuthority(std::string_view kid) const;
  // The wit-svid key `kid`, or nullptr.
  const PublicKey* FindWitAuthority(std::string_view kid) const;
  // Same trust domain, certificates, keys (by kid), sequence and refresh hint.
  bool Equals(const Bundle& other) const;
};

// One bundle per trust domain (own and federated), never merged. Usable directly as the
// key source of X509-SVID, JWT-SVID and WIT-SVID validation.
class BundleSet final : public X509AuthoritySource,
                        public JwtAuthoritySource,
                        public WitAuthoritySource {
 public:
  BundleSet() = default;

  // Adds `bundle`, replacing any bundle of the same trust domain. InvalidArgument when the
  // bundle has no trust domain.
  absl::Status Put(Bundle bundle);
  // Removes the bundle of `td`; false when there was none.
  bool Remove(const TrustDomain& td);
  // The bundle of `td`, or nullptr. Valid until the next Put/Remove.
  const Bundle* Find(const TrustDomain& td) const;
  const std::map<TrustDomain, Bundle>& bundles() const { return bundles_; }
  size_t size() const { return bundles_.size(); }

  // X509AuthoritySource: the x509-svid authorities of `td`, nullopt without a bundle.
  std::optional<std::vector<Certificate>> X509AuthoritiesFor(const TrustDomain& td) const override;
  // JwtAuthoritySource: NotFound "no bundle for trust domain ..." or "... has no jwt-svid
  // key with kid ...".
  absl::StatusOr<PublicKey> FindJwtAuthority(const TrustDomain& td,
                                             std::string_view kid) const override;
  // WitAuthoritySource: NotFound "no bundle for trust domain ...", "... kid ... is a jwt-svid
  // key, not a wit-svid key" or "... has no wit-svid key with kid ...".
  absl::StatusOr<PublicKey> FindWitAuthority(const TrustDomain& td,
                                             std::string_view kid) const override;

 private:
  std::map<TrustDomain, Bundle> bundles_;
};

}  // namespace spinel::common
