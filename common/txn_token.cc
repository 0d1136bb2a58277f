#include "common/txn_token.h"

#include <optional>

#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr std::string_view kTokenKind = "Txn-Token";

template <typename... Args>
absl::Status Reject(std::string_view check, const Args&... why) {
  return JwtRejection(kTokenKind, check, why...);
}

absl::StatusOr<JwsAlgorithm> CheckHeader(const json& header) {
  const json* typ = FindMember(header, "typ");
  if (typ == nullptr || !typ->is_string()) return Reject("typ", "missing or not a string");
  if (*typ != kTxnTokenTyp) {
    return Reject("typ", Quote(typ->get_ref<const std::string&>()), " is not \"txntoken+jwt\"");
  }
  const json* alg = FindMember(header, "alg");
  if (alg == nullptr || !alg->is_string()) return Reject("alg", "missing or not a string");
  std::optional<JwsAlgorithm> parsed = JwsAlgorithmFromName(alg->get_ref<const std::string&>());
  if (!parsed) return Reject("alg", Quote(alg->get_ref<const std::string&>()), " is not allowed");
  return *parsed;
}

absl::StatusOr<const PublicKey*> KeyFor(const json& header, const TxnTokenTrust& trust) {
  const json* kid = FindMember(header, "kid");
  if (kid == nullptr || !kid->is_string()) return Reject("key", "no string \"kid\"");
  auto it = trust.keys.find(kid->get_ref<const std::string&>());
  if (it == trust.keys.end()) {
    return Reject("key", "kid ", Quote(kid->get_ref<const std::string&>()),
                  " is not a trusted Transaction Token Service key");
  }
  return &it->second;
}

absl::Status CheckAudience(const json& claims, std::string_view trust_domain) {
  const json* aud = FindMember(claims, "aud");
  if (aud == nullptr) return Reject("aud", "missing");
  if (aud->is_string() && *aud == trust_domain) return absl::OkStatus();
  if (aud->is_array()) {
    for (const json& value : *aud) {
      if (value.is_string() && value == trust_domain) return absl::OkStatus();
    }
  }
  return Reject("aud", "not this trust domain (", trust_domain, ")");
}

absl::StatusOr<std::string> RequiredString(const json& claims, std::string_view name) {
  const json* value = FindMember(claims, name);
  if (value == nullptr || !value->is_string() || value->get_ref<const std::string&>().empty()) {
    return Reject("claims", "\"", name, "\" is missing or not a non-empty string");
  }
  return value->get<std::string>();
}

absl::Status FillClaims(const json& claims, TimePoint now, Duration leeway, TxnToken* out) {
  SPINEL_ASSIGN_OR_RETURN(out->expires_at, CheckJwtExpiry(claims, now, leeway, kTokenKind));
  absl::StatusOr<std::optional<TimePoint>> iat = NumericDateClaim(claims, "iat");
  if (!iat.ok()) return Reject("claims", iat.status().message());
  if (!*iat) return Reject("claims", "\"iat\" is missing");
  out->issued_at = **iat;
  SPINEL_ASSIGN_OR_RETURN(out->txn, RequiredString(claims, "txn"));
  SPINEL_ASSIGN_OR_RETURN(out->subject, RequiredString(claims, "sub"));
  SPINEL_ASSIGN_OR_RETURN(out->scope, RequiredString(claims, "scope"));
  SPINEL_ASSIGN_OR_RETURN(out->requesting_workload, RequiredString(claims, "req_wl"));
  out->claims = claims;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TxnToken> ValidateTxnToken(std::string_view token, const TxnTokenTrust& trust,
                                          TimePoint now) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(token, kMaxTxnTokenBytes);
  if (!jwt.ok()) return Reject("token", jwt.status().message());
  SPINEL_ASSIGN_OR_RETURN(JwsAlgorithm alg, CheckHeader(jwt->header));
  SPINEL_ASSIGN_OR_RETURN(const PublicKey* key, KeyFor(jwt->header, trust));
  absl::Status verified = VerifyJwsSignature(alg, *key, jwt->parts.signing_input, jwt->signature);
  if (!verified.ok()) return Reject("signature", verified.message());
  SPINEL_RETURN_IF_ERROR(CheckAudience(jwt->claims, trust.trust_domain));
  TxnToken out;
  SPINEL_RETURN_IF_ERROR(FillClaims(jwt->claims, now, trust.leeway, &out));
  return out;
}

}  // namespace spinel::common
