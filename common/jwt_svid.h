// JWT-SVIDs (SPIFFE JWT-SVID spec; shared/spec/checklist.md section C): minting and
// validation of JWS compact tokens whose "sub" is a SPIFFE ID.
//
// Minting (JwtSvidSigner): the protected header is exactly {"alg","kid","typ":"JWT"} (kid is
// always emitted, as go-spiffe and SPIRE require it); the claims are "sub", "aud" (a string for
// one audience, an array for several), "exp", "iat" and any extra claims the caller adds. The
// algorithm follows the key: ES256 for P-256 (the default), ES384 for P-384, ES512 for P-521,
// RS256 for RSA. A signer is bound to one trust domain and refuses subjects outside it, so a
// zone key can only mint its own zone's identities.
//
// Validation (ValidateJwtSvid), in this order, each failure an InvalidArgument naming it:
//  1. at least one expected audience, none empty (caller error);
//  2. token at most `max_token_bytes` (16 KiB by default), exactly three segments (a
//     five-segment JWE is rejected);
//  3. header: "alg" is on the allow-list RS256/384/512, ES256/384/512, PS256/384/512 (checked
//     before anything else in the token is looked at: "none", HS*, EdDSA or a missing alg are
//     rejected); "typ", if present, is exactly "JWT" or "JOSE"; no "crit"; "kid" present and
//     non-empty (the go-spiffe/SPIRE behaviour). "jku", "x5u", "jwk" and "x5c" are never
//     used: keys come only from the authorities;
//  4. claims: "sub" present and a valid SPIFFE ID;
//  5. key: the jwt-svid key with that kid in the bundle of the SUB's trust domain (no bundle,
//     or no such kid -> rejected; a kid of another trust domain never matches); its type fits
//     alg (ES256 needs P-256, ...); the signature verifies;
//  6. "aud" (string or non-empty array of strings) contains an expected audience; "exp"
//     present and now <= exp + leeway; "nbf" and "iat", when present, not after now + leeway.
// NumericDates may be integers or fractions (truncated toward zero) and must lie between 0
// and 9e9 (about year 2255). Default leeway: 30 s (go-jose uses 60 s; JWT-SVIDs live minutes,
// and Spinel's nodes share NTP).
//
// Thread-safety: JwtSvidSigner::Mint and ValidateJwtSvid may be called from any thread;
// the authority source must itself be thread-safe if shared.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/jws.h"
#include "common/keys.h"
#include "common/spiffe_id.h"

namespace spinel::common {

inline constexpr size_t kMaxJwtSvidBytes = 16 * 1024;
inline constexpr Duration kDefaultJwtLeeway = std::chrono::seconds(30);

// What a JWT-SVID carries besides the header.
struct JwtSvidClaims {
  SpiffeId subject;
  std::vector<std::string> audience;  // at least one, none empty
  TimePoint issued_at;
  TimePoint expires_at;  // after issued_at
  // Optional further claims (an object or null); may not redefine sub, aud, exp or iat.
  nlohmann::json extra_claims;
};

// Mints JWT-SVIDs with one key. Create once per key; Mint is const and thread-safe.
class JwtSvidSigner {
 public:
  // `kid` must be non-empty; it is the key's "kid" in the trust domain's bundle.
  static absl::StatusOr<std::unique_ptr<JwtSvidSigner>> Create(TrustDomain trust_domain,
                                                               const PrivateKey& key,
                                                               std::string kid);

  // The compact token. InvalidArgument when the subject is outside the trust domain, the
  // audience is empty, exp is not after iat, or extra claims redefine a SPIFFE claim.
  absl::StatusOr<std::string> Mint(const JwtSvidClaims& claims) const;

  const TrustDomain& trust_domain() const { return trust_domain_; }
  const std::string& kid() const { return kid_; }
  JwsAlgorithm algorithm() const { return signer_.algorithm(); }

 private:
  JwtSvidSigner(TrustDomain trust_domain, std::string kid, JwsSigner signer,
                std::string encoded_header);
  absl::Status CheckClaims(const JwtSvidClaims& claims) const;

  const TrustDomain trust_domain_;
  const std::string kid_;
  const JwsSigner signer_;
  const std::string encoded_header_;  // base64url of the header JSON, followed by '.'
};

// Where validation finds keys. Implemented by BundleSet (common/bundle.h); the agent may
// implement it with a view restricted to a caller's peers.
class JwtAuthoritySource {
 public:
  virtual ~JwtAuthoritySource() = default;
  // The jwt-svid key `kid` from the bundle of `trust_domain`. NotFound, with a message saying
  // whether the trust domain has no bundle or its bundle has no such kid, otherwise.
  virtual absl::StatusOr<PublicKey> FindJwtAuthority(const TrustDomain& trust_domain,
                                                     std::string_view kid) const = 0;
};

struct JwtSvidValidationOptions {
  Duration leeway = kDefaultJwtLeeway;
  size_t max_token_bytes = kMaxJwtSvidBytes;
};

// A validated JWT-SVID.
struct JwtSvid {
  SpiffeId subject;
  std::vector<std::string> audience;  // the token's "aud", as a list
  TimePoint expires_at;
  JwsAlgorithm algorithm;
  std::string kid;
  nlohmann::json claims;  // every claim of the token
};

absl::StatusOr<JwtSvid> ValidateJwtSvid(std::string_view token,
                                        const std::vector<std::string>& audiences,
                                        const JwtAuthoritySource& authorities, TimePoint now,
                                        const JwtSvidValidationOptions& options = {});
// Same, with now = clock.Now().
absl::StatusOr<JwtSvid> ValidateJwtSvid(std::string_view token,
                                        const std::vector<std::string>& audiences,
                                        const JwtAuthoritySource& authorities, const Clock& clock,
                                        const JwtSvidValidationOptions& options = {});

}  // namespace spinel::common
