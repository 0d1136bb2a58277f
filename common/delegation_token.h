// Delegation tokens: "workload W acts on behalf of user U", signed by W's zone after a token
// exchange (RFC 8693 semantics; shared/spec/wimse.md §4; exchange: common/token_exchange.h).
//
// Format: a JWS compact JWT with the protected header {"alg", "kid", "typ":"delegation+jwt"}.
// The explicit type (RFC 8725 §3.11) keeps it apart from every other token Spinel handles:
// JWT-SVIDs ("JWT"/"JOSE"), WIT-SVIDs ("wit+jwt"), WPTs ("wpt+jwt"), Txn-Tokens
// ("txntoken+jwt") and user tokens ("JWT"/"at+jwt"), whose validators all refuse it. In an RFC
// 8693 exchange response its issued_token_type is kTokenTypeJwt. Claims:
//   iss      the signing zone's trust domain as a SPIFFE ID ("spiffe://<td>"), never https://
//   sub      the user, as the user token's "sub"
//   user     {"iss": <the user token's issuer>, "claims": {<the claims the zone selected>}}:
//            the user is (user.iss, sub); the claims (strings or arrays of strings, e.g. email,
//            groups) are the user context policy decides on
//   act      RFC 8693 §4.1 nesting of the workload SPIFFE IDs that acted, the current actor
//            outermost: {"sub": current, "act": {"sub": previous, ...}}; each level has exactly
//            "sub" and, except the earliest, "act"
//   may_act  {"sub": aud} when the audience is a SPIFFE ID: the only workload that may exchange
//            this token for a deeper one (RFC 8693 §4.4)
//   aud      the target (a SPIFFE ID or URI), one string
//   exp, iat, jti (b64u of 16 random bytes)
//   cnf      {"jwk": <the current actor's WIT-SVID cnf.jwk>}: only the holder of that key can
//            present the token, with a Workload Proof Token whose "ath" (or "tth") is the hash
//            of this token
//
// ValidateDelegationToken checks, in this order; each failure is InvalidArgument
// "delegation token rejected: <check>: <why>", <check> one of
//   "token"     at most max_token_bytes, three base64url segments, JSON object header/claims;
//   "typ"       exactly "delegation+jwt";
//   "alg"       RS256/384/512, ES256/384/512, PS256/384/512;
//   "kid"/"crit" a non-empty kid; no crit;
//   "iss"       a trust domain's SPIFFE ID (no path);
//   "key"       the source's key for that trust domain and kid (the source is the allow-list
//               of issuers: keys never come from the token);
//   "signature" verifies;
//   "cnf"       cnf.jwk is a valid confirmation JWK (common/wit_svid.h rules);
//   "exp"/"nbf"/"iat"  exp present and now < exp + leeway; nbf and iat not after now + leeway;
//   "aud"       a string equal to the expected audience;
//   "sub"       a non-empty string; "user": an object with a non-empty "iss" and optional
//               "claims" whose values are strings or arrays of strings;
//   "act"       1..max_chain levels, every sub a SPIFFE ID, no other members, the current
//               actor in the issuer's trust domain;
//   "may_act"   when present, {"sub": <a SPIFFE ID>};
//   "jti"       a non-empty string;
//   "presenter" only when a presenter is given: cnf is the presenter's WIT-SVID key and the
//               current actor is the presenter's SPIFFE ID.
// Messages never contain the token or key material.
//
// Thread-safety: DelegationTokenSigner::Mint and ValidateDelegationToken may be called from any
// thread; a shared DelegationAuthoritySource must itself be thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/jws.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/verified_signature_cache.h"
#include "common/wit_svid.h"

namespace spinel::common {

inline constexpr std::string_view kDelegationTokenTyp = "delegation+jwt";
// RFC 8693 §3 token type identifiers.
inline constexpr std::string_view kTokenTypeJwt = "urn:ietf:params:oauth:token-type:jwt";
inline constexpr std::string_view kTokenTypeIdToken = "urn:ietf:params:oauth:token-type:id_token";
inline constexpr std::string_view kTokenTypeAccessToken =
    "urn:ietf:params:oauth:token-type:access_token";
inline constexpr size_t kMaxDelegationTokenBytes = 16 * 1024;
// No zone may allow longer chains than this.
inline constexpr size_t kMaxDelegationChain = 16;
inline constexpr Duration kDefaultDelegationLeeway = std::chrono::seconds(60);

// The user a delegation chain acts for.
struct DelegatedUser {
  std::string issuer;   // the user token's "iss"
  std::string subject;  // the user token's "sub"
  // Selected user claims: an object whose values are strings or arrays of strings.
  nlohmann::json claims = nlohmann::json::object();
};

// What a delegation token says.
struct DelegationClaims {
  DelegatedUser user;
  std::vector<SpiffeId> actors;  // the current actor first, the earliest last; never empty
  std::string audience;
  TimePoint issued_at;
  TimePoint expires_at;          // after issued_at
  ConfirmationKey confirmation;  // the current actor's WIT-SVID key
};

struct MintedDelegationToken {
  std::string token;
  std::string jti;
};

// Signs delegation tokens with one key of one zone. Create once per key; Mint is thread-safe.
class DelegationTokenSigner {
 public:
  // `kid` must be non-empty and unique among the keys a DelegationAuthoritySource serves for
  // `trust_domain`.
  static absl::StatusOr<std::unique_ptr<DelegationTokenSigner>> Create(TrustDomain trust_domain,
                                                                       const PrivateKey& key,
                                                                       std::string kid);

  // InvalidArgument when the current actor is not in this zone's trust domain, the chain is
  // empty or longer than kMaxDelegationChain, exp is not after iat, the audience or user
  // subject is empty, a user claim is not a string or an array of strings, or the
  // confirmation key does not fit its algorithm.
  absl::StatusOr<MintedDelegationToken> Mint(const DelegationClaims& claims) const;

  const TrustDomain& trust_domain() const { return trust_domain_; }
  const std::string& kid() const { return kid_; }

 private:
  DelegationTokenSigner(TrustDomain trust_domain, std::string kid, JwsSigner signer,
                        std::string encoded_header);
  absl::StatusOr<nlohmann::json> Payload(const DelegationClaims& claims,
                                         const std::string& jti) const;

  const TrustDomain trust_domain_;
  const std::string kid_;
  const JwsSigner signer_;
  const std::string encoded_header_;  // base64url of the header JSON, followed by '.'
};

// Where validation finds the zones' delegation signing keys.
class DelegationAuthoritySource {
 public:
  virtual ~DelegationAuthoritySource() = default;
  // The key `kid` with which `trust_domain` signs delegation tokens; NotFound otherwise.
  virtual absl::StatusOr<PublicKey> FindDelegationAuthority(const TrustDomain& trust_domain,
                                                            std::string_view kid) const = 0;
};

// A fixed set of delegation signing keys by (trust domain, kid): the keys of the zones whose
// delegation tokens are accepted. A value; const methods are thread-safe, Add is not.
class DelegationAuthorityMap final : public DelegationAuthoritySource {
 public:
  // InvalidArgument for an empty trust domain or kid, AlreadyExists for a kid the trust domain
  // already has.
  absl::Status Add(const TrustDomain& trust_domain, std::string kid, PublicKey key);
  // NotFound "no delegation key <kid> for trust domain <td>".
  absl::StatusOr<PublicKey> FindDelegationAuthority(const TrustDomain& trust_domain,
                                                    std::string_view kid) const override;

 private:
  std::map<std::pair<std::string, std::string>, PublicKey, std::less<>> keys_;
};

// The workload presenting a delegation token, proved by its WIT-SVID and a WPT.
struct DelegationPresenter {
  SpiffeId workload;
  ConfirmationKey key;  // the WIT-SVID's cnf
};

struct DelegationValidationOptions {
  std::string audience;  // the one accepted "aud"; required
  // Set when the token is presented to a receiver (it must be the presenter's token); unset
  // when it is the subject token of an exchange (its holder was proved by the receiver).
  std::optional<DelegationPresenter> presenter;
  size_t max_chain = kMaxDelegationChain;
  Duration leeway = kDefaultDelegationLeeway;
  size_t max_token_bytes = kMaxDelegationTokenBytes;
  // When set, a signature that verified before is not verified again (every other check still
  // runs); it must outlive the validation.
  VerifiedSignatureCache* signatures = nullptr;
};

struct DelegationToken {
  DelegationClaims claims;
  TrustDomain issuer;  // the signing zone's trust domain
  std::string kid;
  std::string jti;
  std::optional<SpiffeId> may_act;
};

absl::StatusOr<DelegationToken> ValidateDelegationToken(std::string_view token,
                                                        const DelegationAuthoritySource& source,
                                                        TimePoint now,
                                                        const DelegationValidationOptions& options);

// The RFC 8693 "act" value of `actors` (current first): {"sub": a0, "act": {"sub": a1, ...}}.
nlohmann::json NestedAct(const std::vector<SpiffeId>& actors);
// The actors of an "act" value, current first. InvalidArgument (without the "delegation token
// rejected" prefix) for a level that is not an object of "sub" and optional "act", a sub that is
// not a SPIFFE ID, or more than `max_chain` levels.
absl::StatusOr<std::vector<SpiffeId>> ParseNestedAct(const nlohmann::json& act, size_t max_chain);

// True when both confirmation keys are the same public key with the same algorithm.
bool SameConfirmationKey(const ConfirmationKey& a, const ConfirmationKey& b);

}  // namespace spinel::common
