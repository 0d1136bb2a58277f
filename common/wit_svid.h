// WIT-SVIDs (spiffe/spiffe standards/WIT-SVID.md; shared/spec/wimse.md §1): a WIMSE Workload
// Identity Token whose "sub" is a SPIFFE ID and whose "cnf.jwk" is the workload's public key.
// A WIT-SVID is never a bearer token: it authenticates nobody until a proof of possession of
// the cnf key (a Workload Proof Token, common/wpt.h) has been verified as well. That is why
// validation here returns an UnprovenWitSvid.
//
// Minting (WitSvidSigner, §1.5): the protected header is exactly {"alg","kid","typ":"wit+jwt"};
// the claims are "sub", "exp", "iat" (audit only), "jti" (b64u of 32 random bytes; an audit
// and revocation handle, never a replay key), "cnf":{"jwk":{<public members>,"alg":...}} and,
// when the signer has an issuer, "iss". Never "aud". The signing algorithm follows the issuer
// key (ES256 for P-256, ES384, ES512, RS256 for RSA); cnf.jwk.alg is the caller's choice among
// the nine allowed algorithms and must fit the workload key. A signer is bound to one trust
// domain and refuses subjects outside it.
//
// Validation (ValidateWitSvid, §1.6), in this order; each failure is InvalidArgument
// "WIT-SVID rejected: <check>: <why>", where <check> is one of
//   "token"     at most max_token_bytes, three base64url segments, JSON object header/claims
//               without duplicate members;
//   "typ"       present and exactly "wit+jwt" (a JWT-SVID's "JWT"/"JOSE" never passes);
//   "alg"       one of RS256/384/512, ES256/384/512, PS256/384/512 (not EdDSA, none, HS*);
//   "kid"       a non-empty string;
//   "crit"      absent (no extension is understood, so any crit name means reject);
//   "sub"       a valid SPIFFE ID (no "wimse://", no query);
//   "key"       the use=wit-svid key with exactly that kid in the bundle of sub's trust domain
//               (a jwt-svid key with that kid never matches; no fallback to other keys, no
//               key fetched because of "iss");
//   "signature" the key type fits alg and the signature verifies;
//   "exp"/"nbf" exp present and now < exp + leeway; nbf, when present, <= now + leeway
//               ("iat" is never the start of validity);
//   "cnf"       cnf and cnf.jwk are objects, cnf.jwk.alg is one of the nine algorithms, the JWK
//               is a valid public EC/RSA key without private members, of a type that fits its
//               alg;
//   "aud"       absent.
// Default leeway 60 s (go-spiffe's). Messages never contain the token or key material.
//
// Thread-safety: WitSvidSigner::Mint and ValidateWitSvid may be called from any thread; a shared
// WitAuthoritySource must itself be thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/jws.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/verified_signature_cache.h"

namespace spinel::common {

inline constexpr std::string_view kWitSvidTyp = "wit+jwt";
inline constexpr size_t kMaxWitSvidBytes = 16 * 1024;
inline constexpr Duration kDefaultWitLeeway = std::chrono::seconds(60);

// The key a WIT-SVID is bound to (its "cnf.jwk"), with the algorithm its proofs must use.
struct ConfirmationKey {
  PublicKey key;
  JwsAlgorithm algorithm;
};

// What a WIT-SVID carries besides the header and the bound key.
struct WitSvidClaims {
  SpiffeId subject;
  TimePoint issued_at;
  TimePoint expires_at;  // after issued_at
};

struct WitSvidSignerOptions {
  // "iss" of every token; empty: no "iss". Must not be an https:// URL, so nobody can take
  // the token for an OIDC ID token (WIT-SVID §3: SHOULD NOT work with OIDC Discovery).
  std::string issuer;
};

// Mints WIT-SVIDs with one issuer key. Create once per key; Mint is const and thread-safe.
class WitSvidSigner {
 public:
  // `kid` must be non-empty and is the key's kid in the trust domain's bundle (use wit-svid).
  static absl::StatusOr<std::unique_ptr<WitSvidSigner>> Create(TrustDomain trust_domain,
                                                               const PrivateKey& key,
                                                               std::string kid,
                                                               WitSvidSignerOptions options = {});

  // The compact token binding `workload_key`. InvalidArgument when the subject is outside the
  // trust domain, exp is not after iat, or the workload key does not fit its algorithm.
  absl::StatusOr<std::string> Mint(const WitSvidClaims& claims,
                                   const ConfirmationKey& workload_key) const;

  const TrustDomain& trust_domain() const { return trust_domain_; }
  const std::string& kid() const { return kid_; }
  JwsAlgorithm algorithm() const { return signer_.algorithm(); }

 private:
  WitSvidSigner(TrustDomain trust_domain, std::string kid, std::string issuer, JwsSigner signer,
                std::string encoded_header);
  absl::StatusOr<nlohmann::json> Payload(const WitSvidClaims& claims,
                                         const ConfirmationKey& workload_key) const;

  const TrustDomain trust_domain_;
  const std::string kid_;
  const std::string issuer_;
  const JwsSigner signer_;
  const std::string encoded_header_;  // base64url of the header JSON, followed by '.'
};

// Where WIT-SVID validation finds keys: only use=wit-svid JWKs. Implemented by BundleSet
// (common/bundle.h).
class WitAuthoritySource {
 public:
  virtual ~WitAuthoritySource() = default;
  // The wit-svid key `kid` of `trust_domain`'s bundle. NotFound, saying whether there is no
  // bundle, no such kid, or the kid belongs to a key of another use, otherwise.
  virtual absl::StatusOr<PublicKey> FindWitAuthority(const TrustDomain& trust_domain,
                                                     std::string_view kid) const = 0;
};

struct WitSvidValidationOptions {
  Duration leeway = kDefaultWitLeeway;
  size_t max_token_bytes = kMaxWitSvidBytes;
  // When set, a signature that verified before is not verified again (every other check still
  // runs); it must outlive the validation.
  VerifiedSignatureCache* signatures = nullptr;
};

// A WIT-SVID whose signature, times and shape are valid, but whose presenter has NOT yet
// proved possession of `confirmation`: never authorize on it alone (WIT-SVID §4, §7.1).
struct UnprovenWitSvid {
  SpiffeId subject;
  TimePoint expires_at;
  JwsAlgorithm algorithm;  // of the issuer's signature
  std::string kid;
  ConfirmationKey confirmation;  // cnf.jwk
  nlohmann::json claims;         // every claim of the token
};

absl::StatusOr<UnprovenWitSvid> ValidateWitSvid(std::string_view token,
                                                const WitAuthoritySource& authorities,
                                                TimePoint now,
                                                const WitSvidValidationOptions& options = {});

// The JWK of `key.key` with "alg" set to `key.algorithm`: the value of cnf.jwk.
absl::StatusOr<nlohmann::json> ConfirmationJwk(const ConfirmationKey& key);
// Parses cnf.jwk (shape and rules of the "cnf" check above). InvalidArgument naming the problem.
absl::StatusOr<ConfirmationKey> ParseConfirmationJwk(const nlohmann::json& jwk);
// The same from JSON text as an API request carries it (at most kMaxConfirmationJwkBytes):
// InvalidArgument "<field> must be specified" when empty, else "<field>: <problem>".
inline constexpr size_t kMaxConfirmationJwkBytes = 8 * 1024;
absl::StatusOr<ConfirmationKey> ParseConfirmationJwkText(std::string_view text,
                                                         std::string_view field);

}  // namespace spinel::common
