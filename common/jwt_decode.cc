#include "common/jwt_decode.h"

#include <openssl/evp.h>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

// Largest accepted NumericDate: about year 2255, so TimePoint (int64 nanoseconds) cannot
// overflow.
constexpr int64_t kMaxNumericDate = 9'000'000'000;

}  // namespace

absl::StatusOr<json> DecodeJsonSegment(std::string_view segment, std::string_view what,
                                       size_t max_bytes) {
  absl::StatusOr<std::string> bytes = Base64UrlDecode(segment);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(StrCat(what, ": ", bytes.status().message()));
  }
  SPINEL_ASSIGN_OR_RETURN(json value, ParseJson(*bytes, what, max_bytes));
  if (!value.is_object()) {
    return absl::InvalidArgumentError(StrCat(what, " is not a JSON object"));
  }
  return value;
}

absl::StatusOr<DecodedJwt> DecodeCompactJwt(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) {
    return absl::InvalidArgumentError(
        StrCat("token of ", token.size(), " bytes exceeds the limit of ", max_bytes));
  }
  absl::StatusOr<CompactJws> parts = SplitCompactJws(token);
  if (!parts.ok())
    return absl::InvalidArgumentError(StrCat("segments: ", parts.status().message()));
  DecodedJwt jwt;
  jwt.parts = *parts;
  SPINEL_ASSIGN_OR_RETURN(jwt.header, DecodeJsonSegment(parts->header, "header", max_bytes));
  SPINEL_ASSIGN_OR_RETURN(jwt.claims, DecodeJsonSegment(parts->payload, "claims", max_bytes));
  absl::StatusOr<std::string> signature = Base64UrlDecode(parts->signature);
  if (!signature.ok()) {
    return absl::InvalidArgumentError(StrCat("signature: ", signature.status().message()));
  }
  if (signature->empty()) return absl::InvalidArgumentError("signature: empty");
  jwt.signature = std::move(*signature);
  return jwt;
}

absl::StatusOr<std::optional<TimePoint>> NumericDateClaim(const json& claims,
                                                          std::string_view name) {
  const json* value = FindMember(claims, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    return absl::InvalidArgumentError(StrCat("\"", name, "\" is not a number"));
  }
  std::optional<int64_t> seconds;  // stays empty when out of range (including negative)
  if (value->is_number_unsigned()) {
    const auto u = value->get<uint64_t>();
    if (u <= static_cast<uint64_t>(kMaxNumericDate)) seconds = static_cast<int64_t>(u);
  } else if (value->is_number_float()) {
    const double d = value->get<double>();
    if (d >= 0 && d <= static_cast<double>(kMaxNumericDate)) seconds = static_cast<int64_t>(d);
  }
  if (!seconds) return absl::InvalidArgumentError(StrCat("\"", name, "\" is out of range"));
  return FromUnixSeconds(*seconds);
}

absl::StatusOr<TimePoint> CheckJwtExpiry(const json& claims, TimePoint now, Duration leeway,
                                         std::string_view token_kind) {
  absl::StatusOr<std::optional<TimePoint>> exp = NumericDateClaim(claims, "exp");
  if (!exp.ok()) return JwtRejection(token_kind, "exp", exp.status().message());
  if (!*exp) return JwtRejection(token_kind, "exp", "missing");
  if (now >= **exp + leeway) {
    return JwtRejection(token_kind, "exp", "expired at ", ToUnixSeconds(**exp), " (now ",
                        ToUnixSeconds(now), ")");
  }
  return **exp;
}

absl::StatusOr<std::optional<TimePoint>> CheckJwtNotAfter(const json& claims, std::string_view name,
                                                          TimePoint limit,
                                                          std::string_view token_kind) {
  absl::StatusOr<std::optional<TimePoint>> value = NumericDateClaim(claims, name);
  if (!value.ok()) return JwtRejection(token_kind, name, value.status().message());
  if (*value && **value > limit) {
    return JwtRejection(token_kind, name, "in the future (", ToUnixSeconds(**value), ")");
  }
  return *value;
}

absl::StatusOr<std::string> TokenHash(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return SslError("SHA-256: EVP_Digest failed");
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace spinel::common
