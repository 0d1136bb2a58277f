// Strict decoding of a compact JWT (RFC 7519 claims in an RFC 7515 compact JWS), shared by the
// WIT-SVID, Workload Proof Token and Txn-Token validators, and the token hash of the WIMSE
// binding claims (wth, ath, tth, oth).
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

// b64u(SHA-256(bytes)): the token hash of wth / ath / tth / oth.
absl::StatusOr<std::string> TokenHash(std::string_view bytes);

}  // namespace spinel::common
