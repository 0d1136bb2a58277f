#include "common/jwt_svid.h"

#include <algorithm>
#include <optional>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/jwt_encode.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr std::string_view kSpiffeClaims[] = {"sub", "aud", "exp", "iat"};

template <typename... Args>
absl::Status Reject(const Args&... why) {
  return absl::InvalidArgumentError(StrCat("JWT-SVID rejected: ", why...));
}

// One base64url segment holding a JSON object (the shared decoding, with this validator's
// message prefix).
absl::StatusOr<json> JsonSegmentOf(std::string_view segment, std::string_view what,
                                   size_t max_bytes) {
  absl::StatusOr<json> value = DecodeJsonSegment(segment, what, max_bytes);
  if (!value.ok()) return Reject(value.status().message());
  return value;
}

// The allow-listed "alg" of `header`; the first thing validated.
absl::StatusOr<JwsAlgorithm> AlgorithmOf(const json& header) {
  const json* alg = FindMember(header, "alg");
  if (alg == nullptr) return Reject("header has no \"alg\"");
  if (!alg->is_string()) return Reject("header \"alg\" is not a string");
  const std::string& name = alg->get_ref<const std::string&>();
  std::optional<JwsAlgorithm> parsed = JwsAlgorithmFromName(name);
  if (!parsed) return Reject(StrCat("alg ", Quote(name), " is not allowed"));
  return *parsed;
}

// Checks "typ" and "crit" and returns the non-empty "kid".
absl::StatusOr<std::string> KidOf(const json& header) {
  if (const json* typ = FindMember(header, "typ"); typ != nullptr) {
    if (!typ->is_string()) return Reject("header \"typ\" is not a string");
    const std::string& value = typ->get_ref<const std::string&>();
    if (value != "JWT" && value != "JOSE") {
      return Reject(StrCat("typ ", Quote(value), " is neither \"JWT\" nor \"JOSE\""));
    }
  }
  if (FindMember(header, "crit") != nullptr) return Reject("header has \"crit\" extensions");
  const json* kid = FindMember(header, "kid");
  if (kid == nullptr) return Reject("header has no \"kid\"");
  if (!kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return Reject("header \"kid\" is not a non-empty string");
  }
  return kid->get<std::string>();
}

absl::StatusOr<SpiffeId> SubjectOf(const json& claims) {
  const json* sub = FindMember(claims, "sub");
  if (sub == nullptr) return Reject("missing \"sub\"");
  if (!sub->is_string()) return Reject("\"sub\" is not a string");
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(sub->get_ref<const std::string&>());
  if (!id.ok()) return Reject(StrCat("\"sub\" is not a SPIFFE ID: ", id.status().message()));
  return id;
}

absl::StatusOr<std::vector<std::string>> AudienceOf(const json& claims) {
  const json* aud = FindMember(claims, "aud");
  if (aud == nullptr) return Reject("missing \"aud\"");
  if (aud->is_string()) return std::vector<std::string>{aud->get<std::string>()};
  if (!aud->is_array()) return Reject("\"aud\" is neither a string nor an array");
  if (aud->empty()) return Reject("\"aud\" is empty");
  std::vector<std::string> out;
  for (const json& value : *aud) {
    if (!value.is_string()) return Reject("\"aud\" holds a value that is not a string");
    out.push_back(value.get<std::string>());
  }
  return out;
}

// The NumericDate claim `name`, nullopt when absent (the shared parsing, with this validator's
// message prefix).
absl::StatusOr<std::optional<TimePoint>> NumericDateOf(const json& claims, std::string_view name) {
  absl::StatusOr<std::optional<TimePoint>> value = NumericDateClaim(claims, name);
  if (!value.ok()) return Reject(value.status().message());
  return value;
}

absl::Status CheckTimes(const json& claims, TimePoint now, Duration leeway, TimePoint* expires_at) {
  SPINEL_ASSIGN_OR_RETURN(std::optional<TimePoint> exp, NumericDateOf(claims, "exp"));
  SPINEL_ASSIGN_OR_RETURN(std::optional<TimePoint> nbf, NumericDateOf(claims, "nbf"));
  SPINEL_ASSIGN_OR_RETURN(std::optional<TimePoint> iat, NumericDateOf(claims, "iat"));
  if (!exp) return Reject("missing \"exp\"");
  if (now > *exp + leeway) {
    return Reject(StrCat("expired at ", ToUnixSeconds(*exp), " (now ", ToUnixSeconds(now), ")"));
  }
  if (nbf && now + leeway < *nbf) {
    return Reject(
        StrCat("not valid before ", ToUnixSeconds(*nbf), " (now ", ToUnixSeconds(now), ")"));
  }
  if (iat && now + leeway < *iat) {
    return Reject(
        StrCat("issued in the future at ", ToUnixSeconds(*iat), " (now ", ToUnixSeconds(now), ")"));
  }
  *expires_at = *exp;
  return absl::OkStatus();
}

absl::Status CheckExpectedAudiences(const std::vector<std::string>& audiences) {
  if (audiences.empty()) return Reject("no expected audience given");
  for (const std::string& a : audiences) {
    if (a.empty()) return Reject("an expected audience is empty");
  }
  return absl::OkStatus();
}

absl::Status CheckAudience(const std::vector<std::string>& token_audience,
                           const std::vector<std::string>& expected) {
  for (const std::string& a : token_audience) {
    if (std::find(expected.begin(), expected.end(), a) != expected.end()) {
      return absl::OkStatus();
    }
  }
  return Reject("\"aud\" contains none of the expected audiences");
}

}  // namespace

JwtSvidSigner::JwtSvidSigner(TrustDomain trust_domain, std::string kid, JwsSigner signer,
                             std::string encoded_header)
    : trust_domain_(std::move(trust_domain)),
      kid_(std::move(kid)),
      signer_(std::move(signer)),
      encoded_header_(std::move(encoded_header)) {}

absl::StatusOr<std::unique_ptr<JwtSvidSigner>> JwtSvidSigner::Create(TrustDomain trust_domain,
                                                                     const PrivateKey& key,
                                                                     std::string kid) {
  if (trust_domain.empty()) return absl::InvalidArgumentError("JWT signer: no trust domain");
  if (kid.empty()) return absl::InvalidArgumentError("JWT signer: empty kid");
  SPINEL_ASSIGN_OR_RETURN(JwsSigner signer,
                          JwsSigner::Create(key, DefaultJwsAlgorithm(key.type())));
  SPINEL_ASSIGN_OR_RETURN(std::string encoded_header,
                          EncodeJwtHeader(signer.algorithm(), kid, "JWT"));
  return std::unique_ptr<JwtSvidSigner>(new JwtSvidSigner(
      std::move(trust_domain), std::move(kid), std::move(signer), std::move(encoded_header)));
}

absl::Status JwtSvidSigner::CheckClaims(const JwtSvidClaims& claims) const {
  if (!claims.subject.MemberOf(trust_domain_)) {
    return absl::InvalidArgumentError(StrCat("JWT-SVID subject ", Quote(claims.subject.ToString()),
                                             " is not in trust domain ", trust_domain_.name()));
  }
  if (claims.audience.empty()) return absl::InvalidArgumentError("JWT-SVID needs an audience");
  for (const std::string& a : claims.audience) {
    if (a.empty()) return absl::InvalidArgumentError("JWT-SVID audience value is empty");
  }
  if (ToUnixSeconds(claims.expires_at) <= ToUnixSeconds(claims.issued_at)) {
    return absl::InvalidArgumentError("JWT-SVID must expire after it is issued");
  }
  if (!claims.extra_claims.is_null() && !claims.extra_claims.is_object()) {
    return absl::InvalidArgumentError("JWT-SVID extra claims must be a JSON object");
  }
  for (std::string_view name : kSpiffeClaims) {
    if (FindMember(claims.extra_claims, name) != nullptr) {
      return absl::InvalidArgumentError(StrCat("JWT-SVID extra claims redefine \"", name, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> JwtSvidSigner::Mint(const JwtSvidClaims& claims) const {
  SPINEL_RETURN_IF_ERROR(CheckClaims(claims));
  json payload = claims.extra_claims.is_object() ? claims.extra_claims : json::object();
  payload["sub"] = claims.subject.ToString();
  payload["aud"] =
      claims.audience.size() == 1 ? json(claims.audience.front()) : json(claims.audience);
  payload["exp"] = ToUnixSeconds(claims.expires_at);
  payload["iat"] = ToUnixSeconds(claims.issued_at);
  return SignJwt(signer_, encoded_header_, payload);
}

absl::StatusOr<JwtSvid> ValidateJwtSvid(std::string_view token,
                                        const std::vector<std::string>& audiences,
                                        const JwtAuthoritySource& authorities, TimePoint now,
                                        const JwtSvidValidationOptions& options) {
  SPINEL_RETURN_IF_ERROR(CheckExpectedAudiences(audiences));
  if (token.size() > options.max_token_bytes) {
    return Reject(
        StrCat("token of ", token.size(), " bytes exceeds the limit of ", options.max_token_bytes));
  }
  absl::StatusOr<CompactJws> jws = SplitCompactJws(token);
  if (!jws.ok()) return Reject(jws.status().message());
  SPINEL_ASSIGN_OR_RETURN(json header, JsonSegmentOf(jws->header, "header", token.size()));
  JwtSvid svid;
  SPINEL_ASSIGN_OR_RETURN(svid.algorithm, AlgorithmOf(header));
  SPINEL_ASSIGN_OR_RETURN(svid.kid, KidOf(header));
  SPINEL_ASSIGN_OR_RETURN(svid.claims, JsonSegmentOf(jws->payload, "claims", token.size()));
  SPINEL_ASSIGN_OR_RETURN(svid.subject, SubjectOf(svid.claims));
  absl::StatusOr<PublicKey> key =
      authorities.FindJwtAuthority(svid.subject.trust_domain(), svid.kid);
  if (!key.ok()) return Reject(key.status().message());
  absl::StatusOr<std::string> signature = Base64UrlDecode(jws->signature);
  if (!signature.ok()) return Reject(StrCat("signature: ", signature.status().message()));
  absl::Status verified = VerifyJwsSignature(svid.algorithm, *key, jws->signing_input, *signature);
  if (!verified.ok()) return Reject(verified.message());
  SPINEL_ASSIGN_OR_RETURN(svid.audience, AudienceOf(svid.claims));
  SPINEL_RETURN_IF_ERROR(CheckAudience(svid.audience, audiences));
  SPINEL_RETURN_IF_ERROR(CheckTimes(svid.claims, now, options.leeway, &svid.expires_at));
  return svid;
}

absl::StatusOr<JwtSvid> ValidateJwtSvid(std::string_view token,
                                        const std::vector<std::string>& audiences,
                                        const JwtAuthoritySource& authorities, const Clock& clock,
                                        const JwtSvidValidationOptions& options) {
  return ValidateJwtSvid(token, audiences, authorities, clock.Now(), options);
}

}  // namespace spinel::common
