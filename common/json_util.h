// Strict JSON parsing and defensive member access over nlohmann::json, for untrusted input
// (JWT headers and claims, JWKs, SPIFFE bundles). Nothing here throws: every nlohmann
// exception is caught and returned as a Status.
//
// ParseJson rejects, with InvalidArgument naming `what`:
//  - malformed JSON, invalid UTF-8, trailing bytes;
//  - text longer than `max_bytes`;
//  - arrays and objects nested more than kMaxJsonDepth levels deep (so later recursive code,
//    such as a conversion to protobuf Struct, cannot be driven into a stack overflow);
//  - an object that has the same member twice (RFC 7515 §5.2 and RFC 7519 §4 let a parser
//    either reject or take the last one; rejecting removes the ambiguity between parsers).
// All functions are thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace spinel::common {

inline constexpr size_t kDefaultMaxJsonBytes = 1 << 20;
inline constexpr int kMaxJsonDepth = 64;

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what,
                                         size_t max_bytes = kDefaultMaxJsonBytes);

// Compact serialization. Fails (InvalidArgument) only when a string is not valid UTF-8.
absl::StatusOr<std::string> DumpJson(const nlohmann::json& value);

// Member `name` of `obj`, or nullptr when `obj` is not an object or has no such member.
const nlohmann::json* FindMember(const nlohmann::json& obj, std::string_view name);

// Member `name` of `obj` as a string. Errors (InvalidArgument, prefixed with `what`):
// missing, or not a string. The view points into `obj`.
absl::StatusOr<std::string_view> GetStringMember(const nlohmann::json& obj, std::string_view name,
                                                 std::string_view what);

// The JSON type name of `value` for messages ("string", "number", "object", ...).
std::string_view JsonTypeName(const nlohmann::json& value);

}  // namespace spinel::common
