// Strict decoding of a compact JWT (RFC 7519 claims in an RFC 7515 compact JWS), shared by the
// JWT validators (WIT-SVID, Workload Proof Token, Txn-Token, user and delegation tokens, and
// JWT-SVID for its segments and dates), their checks of the time claims, and the token hash of
// the WIMSE binding claims (wth, ath, tth, oth).
//
// DecodeCompactJwt accepts exactly three base64url segments (alphabet A-Z a-z 0-9 - _ only,
// no '=' and no spaces; a five-segment JWE is rejected), whose header and payload are JSON
// objects without duplicate member names. It does NOT verify the signature: it only prepares
// the parts for the caller's own checks. Error messages describe the problem, never the token.
//
// All functions are thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/jws.h"
#include "common/strings.h"

namespace spinel::common {

struct DecodedJwt {
  CompactJws parts;       // views into the token: the caller keeps the token alive
  nlohmann::json header;  // a JSON object
  nlohmann::json claims;  // a JSON object
  std::string signature;  // the raw signature bytes
};

// Errors: InvalidArgument; the message names the part that is wrong ("header", "claims",
// "signature", "segments"). `max_bytes` bounds the whole token.
absl::StatusOr<DecodedJwt> DecodeCompactJwt(std::string_view token, size_t max_bytes);

// The NumericDate claim `name` of `claims` (integer or fraction, truncated, 0..9e9), nullopt
// when absent. InvalidArgument "\"exp\" is not a number" / "... is out of range" otherwise.
absl::StatusOr<std::optional<TimePoint>> NumericDateClaim(const nlohmann::json& claims,
                                                          std::string_view name);

// One base64url segment holding a JSON object (at most `max_bytes` of JSON). Errors:
// InvalidArgument "<what>: <base64 problem>", "<what> is not a JSON object", or ParseJson's.
absl::StatusOr<nlohmann::json> DecodeJsonSegment(std::string_view segment, std::string_view what,
                                                 size_t max_bytes);

// InvalidArgument "<token_kind> rejected: <check>: <why...>": the form of the JWT validators'
// errors, e.g. "WPT rejected: exp: missing".
template <typename... Args>
absl::Status JwtRejection(std::string_view token_kind, std::string_view check, const Args&... why) {
  return absl::InvalidArgumentError(StrCat(token_kind, " rejected: ", check, ": ", why...));
}

// The required "exp" of `claims`: the token is valid while now < exp + leeway. Errors:
// InvalidArgument "<token_kind> rejected: exp: " then "missing", NumericDateClaim's message, or
// "expired at <exp> (now <now>)" (Unix seconds).
absl::StatusOr<TimePoint> CheckJwtExpiry(const nlohmann::json& claims, TimePoint now,
                                         Duration leeway, std::string_view token_kind);

// The optional NumericDate claim `name` (e.g. "nbf", "iat"), nullopt when absent; it must not
// lie after `limit` (now + leeway). Errors: InvalidArgument "<token_kind> rejected: <name>: "
// then NumericDateClaim's message or "in the future (<value>)".
absl::StatusOr<std::optional<TimePoint>> CheckJwtNotAfter(const nlohmann::json& claims,
                                                          std::string_view name, TimePoint limit,
                                                          std::string_view token_kind);

// b64u(SHA-256(bytes)): the token hash of wth / ath / tth / oth.
absl::StatusOr<std::string> TokenHash(std::string_view bytes);

}  // namespace spinel::common
