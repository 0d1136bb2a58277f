// Validation of a user's token (an OpenID Connect ID token or JWT access token) from an
// external issuer a zone trusts (zone file `trusted_issuers`): the subject token of the first
// token exchange of a delegation chain (common/token_exchange.h).
//
// ValidateUserToken checks, in this order; each failure is InvalidArgument
// "user token rejected: <check>: <why>", <check> one of
//   "token"     at most max_token_bytes, three base64url segments, JSON object header/claims;
//   "typ"       absent, "JWT", or "at+jwt" (RFC 9068; optional "application/" prefix, compared
//               without case). Every other type is refused, so Spinel's own WIT-SVIDs, WPTs,
//               Txn-Tokens and delegation tokens never pass as user tokens;
//   "alg"       RS256/384/512, ES256/384/512, PS256/384/512 (never none, HS*, EdDSA);
//   "crit"      absent;
//   "iss"       exactly the trusted issuer's URL (byte for byte);
//   "key"       the issuer's JWK Set (common/jwks.h) has the header's "kid" (no kid: the set
//               has exactly one key), fitting alg. Keys come only from the zone's configured
//               JWKS, never from the token;
//   "signature" verifies;
//   "sub"       a non-empty string;
//   "aud"       a string or an array of strings, one of which is an accepted audience;
//   "exp"       present and now < exp + leeway;
//   "nbf"/"iat" when present, not after now + leeway;
//   "cnf"       absent: a sender-constrained token (DPoP, mTLS) belongs to a key the
//               exchanging workload does not hold, so it cannot be presented on its behalf;
//   "claims"    each selected claim, when present, is a string or an array of strings.
// Messages never contain the token.
//
// Thread-safe: only reads its arguments.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/jwks.h"

namespace spinel::common {

inline constexpr size_t kMaxUserTokenBytes = 16 * 1024;

// One issuer a zone trusts, from the zone file.
struct TrustedIssuer {
  std::string issuer;                  // the exact "iss"
  std::vector<std::string> audiences;  // accepted "aud" values; at least one
  std::vector<std::string> claims;     // user claims carried into the decision context
};

struct UserTokenValidationOptions {
  Duration leeway = std::chrono::seconds(60);
  size_t max_token_bytes = kMaxUserTokenBytes;
};

struct UserToken {
  std::string issuer;
  std::string subject;
  std::string audience;  // the accepted audience the token names
  TimePoint expires_at;
  // The selected claims present in the token: an object whose values are strings or arrays of
  // strings, in the token's form.
  nlohmann::json claims = nlohmann::json::object();
};

absl::StatusOr<UserToken> ValidateUserToken(std::string_view token, const TrustedIssuer& issuer,
                                            const JwkSet& keys, TimePoint now,
                                            const UserTokenValidationOptions& options = {});

// The "iss" of `token` WITHOUT verifying anything: only for choosing which trusted issuer's
// configuration then validates it. InvalidArgument when the token is malformed or has no
// string "iss".
absl::StatusOr<std::string> UnverifiedIssuer(std::string_view token);

// The JOSE header "typ" of `token` WITHOUT verifying anything ("" when absent): for telling a
// delegation token from a user token before validating it with the matching validator.
absl::StatusOr<std::string> UnverifiedTyp(std::string_view token);

// The values of a user claim (a string, or an array of strings); empty for anything else.
std::vector<std::string> ClaimStrings(const nlohmann::json& value);

// True when `value` is a string or an array of strings.
bool IsStringOrStringArray(const nlohmann::json& value);

}  // namespace spinel::common
