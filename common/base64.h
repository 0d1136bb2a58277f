// Base64 codecs (RFC 4648) for JOSE and JWK data.
//
//  - base64url without padding (§5): the JWS/JWT segments and the JWK key members
//    ("x", "y", "n", "e").
//  - standard base64 with padding (§4): the JWK "x5c" certificates.
//
// The decoders are strict, because their input is untrusted (tokens, federated bundles) and
// a canonical encoding leaves no room for two spellings of the same bytes:
//  - only characters of the codec's alphabet are accepted: no whitespace or line breaks, no
//    characters of the other alphabet ('+' '/' in base64url, '-' '_' in base64);
//  - base64url rejects any '='; standard base64 requires the length to be a multiple of 4 with
//    exactly the padding the data needs (at most two '=' at the end);
//  - a length that no encoder produces (4n+1 characters) is rejected;
//  - unused low bits of the last character must be zero (non-canonical encodings rejected).
// Errors are InvalidArgument and name the offset of the first bad character; they never
// echo the input (it may be key material). All functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace spinel::common {

// base64url (RFC 4648 §5) without '=' padding.
std::string Base64UrlEncode(std::string_view data);
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);

// Standard base64 (RFC 4648 §4) with '=' padding.
std::string Base64Encode(std::string_view data);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace spinel::common
