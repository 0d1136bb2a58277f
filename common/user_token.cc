#include "common/user_token.h"

#include <algorithm>
#include <optional>

#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr std::string_view kTokenKind = "user token";

template <typename... Args>
absl::Status Reject(std::string_view check, const Args&... why) {
  return JwtRejection(kTokenKind, check, why...);
}

absl::Status CheckTyp(const json& header) {
  const json* typ = FindMember(header, "typ");
  if (typ == nullptr) return absl::OkStatus();
  if (!typ->is_string()) return Reject("typ", "not a string");
  std::string value = AsciiLower(typ->get_ref<const std::string&>());
  if (value.rfind("application/", 0) == 0) value.erase(0, 12);
  if (value == "jwt" || value == "at+jwt") return absl::OkStatus();
  return Reject("typ", Quote(typ->get_ref<const std::string&>()),
                " is not a user token type (JWT or at+jwt)");
}

absl::StatusOr<JwsAlgorithm> CheckAlgAndCrit(const json& header) {
  const json* alg = FindMember(header, "alg");
  if (alg == nullptr || !alg->is_string()) return Reject("alg", "missing or not a string");
  std::optional<JwsAlgorithm> parsed = JwsAlgorithmFromName(alg->get_ref<const std::string&>());
  if (!parsed) return Reject("alg", Quote(alg->get_ref<const std::string&>()), " is not allowed");
  if (FindMember(header, "crit") != nullptr) {
    return Reject("crit", "header names critical extensions this validator does not understand");
  }
  return *parsed;
}

absl::StatusOr<std::optional<std::string_view>> KidOf(const json& header) {
  const json* kid = FindMember(header, "kid");
  if (kid == nullptr) return std::optional<std::string_view>();
  if (!kid->is_string()) return Reject("key", "\"kid\" is not a string");
  return std::optional<std::string_view>(kid->get_ref<const std::string&>());
}

// The accepted audience the "aud" claim names.
absl::StatusOr<std::string> MatchAudience(const json& claims, const TrustedIssuer& issuer) {
  const json* aud = FindMember(claims, "aud");
  if (aud == nullptr) return Reject("aud", "missing");
  if (!IsStringOrStringArray(*aud)) return Reject("aud", "not a string or array of strings");
  for (const std::string& value : ClaimStrings(*aud)) {
    if (std::find(issuer.audiences.begin(), issuer.audiences.end(), value) !=
        issuer.audiences.end()) {
      return value;
    }
  }
  return Reject("aud", "names none of the audiences accepted for issuer ", Quote(issuer.issuer));
}

absl::Status CheckTimes(const json& claims, TimePoint now, Duration leeway, UserToken& out) {
  SPINEL_ASSIGN_OR_RETURN(out.expires_at, CheckJwtExpiry(claims, now, leeway, kTokenKind));
  SPINEL_RETURN_IF_ERROR(CheckJwtNotAfter(claims, "nbf", now + leeway, kTokenKind).status());
  return CheckJwtNotAfter(claims, "iat", now + leeway, kTokenKind).status();
}

absl::Status SelectClaims(const json& claims, const TrustedIssuer& issuer, UserToken& out) {
  for (const std::string& name : issuer.claims) {
    const json* value = FindMember(claims, name);
    if (value == nullptr) continue;
    if (!IsStringOrStringArray(*value)) {
      return Reject("claims", "claim ", Quote(name), " is ", JsonTypeName(*value),
                    ", not a string or an array of strings");
    }
    out.claims[name] = *value;
  }
  return absl::OkStatus();
}

absl::Status CheckClaims(const json& claims, const TrustedIssuer& issuer, TimePoint now,
                         const UserTokenValidationOptions& options, UserToken& out) {
  const json* sub = FindMember(claims, "sub");
  if (sub == nullptr || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return Reject("sub", "missing or not a non-empty string");
  }
  out.subject = sub->get<std::string>();
  SPINEL_ASSIGN_OR_RETURN(out.audience, MatchAudience(claims, issuer));
  SPINEL_RETURN_IF_ERROR(CheckTimes(claims, now, options.leeway, out));
  if (FindMember(claims, "cnf") != nullptr) {
    return Reject("cnf",
                  "the token is bound to a key (sender-constrained); it cannot be "
                  "presented on the holder's behalf");
  }
  return SelectClaims(claims, issuer, out);
}

}  // namespace

bool IsStringOrStringArray(const json& value) {
  if (value.is_string()) return true;
  return value.is_array() &&
         std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); });
}

std::vector<std::string> ClaimStrings(const json& value) {
  if (value.is_string()) return {value.get<std::string>()};
  std::vector<std::string> out;
  if (!IsStringOrStringArray(value)) return out;
  for (const json& item : value) out.push_back(item.get<std::string>());
  return out;
}

absl::StatusOr<UserToken> ValidateUserToken(std::string_view token, const TrustedIssuer& issuer,
                                            const JwkSet& keys, TimePoint now,
                                            const UserTokenValidationOptions& options) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(token, options.max_token_bytes);
  if (!jwt.ok()) return Reject("token", jwt.status().message());
  SPINEL_RETURN_IF_ERROR(CheckTyp(jwt->header));
  SPINEL_ASSIGN_OR_RETURN(JwsAlgorithm alg, CheckAlgAndCrit(jwt->header));
  const json* iss = FindMember(jwt->claims, "iss");
  if (iss == nullptr || !iss->is_string() || *iss != issuer.issuer) {
    return Reject("iss", "not the trusted issuer ", Quote(issuer.issuer));
  }
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string_view> kid, KidOf(jwt->header));
  absl::StatusOr<PublicKey> key = keys.Find(kid, alg);
  if (!key.ok()) return Reject("key", key.status().message());
  absl::Status verified = VerifyJwsSignature(alg, *key, jwt->parts.signing_input, jwt->signature);
  if (!verified.ok()) return Reject("signature", verified.message());
  UserToken out;
  out.issuer = issuer.issuer;
  SPINEL_RETURN_IF_ERROR(CheckClaims(jwt->claims, issuer, now, options, out));
  return out;
}

absl::StatusOr<std::string> UnverifiedIssuer(std::string_view token) {
  SPINEL_ASSIGN_OR_RETURN(DecodedJwt jwt, DecodeCompactJwt(token, kMaxUserTokenBytes));
  const json* iss = FindMember(jwt.claims, "iss");
  if (iss == nullptr || !iss->is_string()) {
    return absl::InvalidArgumentError("token has no string \"iss\"");
  }
  return iss->get<std::string>();
}

absl::StatusOr<std::string> UnverifiedTyp(std::string_view token) {
  SPINEL_ASSIGN_OR_RETURN(DecodedJwt jwt, DecodeCompactJwt(token, kMaxUserTokenBytes));
  const json* typ = FindMember(jwt.header, "typ");
  if (typ == nullptr) return std::string();
  if (!typ->is_string()) return absl::InvalidArgumentError("token \"typ\" is not a string");
  return typ->get<std::string>();
}

}  // namespace spinel::common
