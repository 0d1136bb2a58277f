#include "common/wit_svid.h"

#include <optional>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/jwk.h"
#include "common/jwt_decode.h"
#include "common/jwt_encode.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr size_t kJtiRandomBytes = 32;

constexpr std::string_view kTokenKind = "WIT-SVID";

template <typename... Args>
absl::Status Reject(std::string_view check, const Args&... why) {
  return JwtRejection(kTokenKind, check, why...);
}

absl::Status CheckTyp(const json& header) {
  const json* typ = FindMember(header, "typ");
  if (typ == nullptr) return Reject("typ", "missing; a WIT-SVID must be typed \"wit+jwt\"");
  if (!typ->is_string()) return Reject("typ", "not a string");
  const std::string& value = typ->get_ref<const std::string&>();
  if (value != kWitSvidTyp) return Reject("typ", Quote(value), " is not \"wit+jwt\"");
  return absl::OkStatus();
}

// The allow-listed algorithm named by member `name` of `obj`; `check` labels the error.
absl::StatusOr<JwsAlgorithm> AllowedAlgorithm(const json& obj, std::string_view check,
                                              std::string_view name) {
  const json* alg = FindMember(obj, name);
  if (alg == nullptr) return Reject(check, "missing \"", name, "\"");
  if (!alg->is_string()) return Reject(check, "\"", name, "\" is not a string");
  const std::string& value = alg->get_ref<const std::string&>();
  std::optional<JwsAlgorithm> parsed = JwsAlgorithmFromName(value);
  if (!parsed) return Reject(check, "algorithm ", Quote(value), " is not allowed");
  return *parsed;
}

absl::StatusOr<std::string> KidOf(const json& header) {
  const json* kid = FindMember(header, "kid");
  if (kid == nullptr) return Reject("kid", "token header missing key id");
  if (!kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return Reject("kid", "not a non-empty string");
  }
  if (FindMember(header, "crit") != nullptr) {
    return Reject("crit", "header names critical extensions this validator does not understand");
  }
  return kid->get<std::string>();
}

absl::StatusOr<SpiffeId> SubjectOf(const json& claims) {
  const json* sub = FindMember(claims, "sub");
  if (sub == nullptr) return Reject("sub", "missing");
  if (!sub->is_string()) return Reject("sub", "not a string");
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(sub->get_ref<const std::string&>());
  if (!id.ok()) return Reject("sub", "not a SPIFFE ID (", id.status().message(), ")");
  return id;
}

absl::Status CheckTimes(const json& claims, TimePoint now, Duration leeway, TimePoint* expires) {
  absl::StatusOr<TimePoint> exp = CheckJwtExpiry(claims, now, leeway, kTokenKind);
  if (!exp.ok()) return exp.status();
  absl::StatusOr<std::optional<TimePoint>> nbf = NumericDateClaim(claims, "nbf");
  if (!nbf.ok()) return Reject("nbf", nbf.status().message());
  if (*nbf && **nbf > now + leeway) {
    return Reject("nbf", "not valid before ", ToUnixSeconds(**nbf), " (now ", ToUnixSeconds(now),
                  ")");
  }
  *expires = *exp;
  return absl::OkStatus();
}

absl::StatusOr<ConfirmationKey> ConfirmationOf(const json& claims) {
  const json* cnf = FindMember(claims, "cnf");
  if (cnf == nullptr) return Reject("cnf", "missing (a WIT-SVID binds a key)");
  if (!cnf->is_object()) return Reject("cnf", "not an object");
  const json* jwk = FindMember(*cnf, "jwk");
  if (jwk == nullptr) return Reject("cnf", "no \"jwk\"");
  return ParseConfirmationJwk(*jwk);
}

absl::Status CheckIssuer(std::string_view issuer) {
  if (issuer.rfind("https://", 0) == 0) {
    return absl::InvalidArgumentError(
        "WIT signer: an https:// issuer would work with OIDC Discovery; use another value");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<json> ConfirmationJwk(const ConfirmationKey& key) {
  SPINEL_RETURN_IF_ERROR(CheckJwsKeyType(key.algorithm, key.key.type()));
  SPINEL_ASSIGN_OR_RETURN(json jwk, PublicKeyToJwk(key.key));
  jwk["alg"] = std::string(JwsAlgorithmName(key.algorithm));
  return jwk;
}

absl::StatusOr<ConfirmationKey> ParseConfirmationJwk(const json& jwk) {
  if (!jwk.is_object()) return Reject("cnf", "\"jwk\" is not an object");
  SPINEL_ASSIGN_OR_RETURN(JwsAlgorithm alg, AllowedAlgorithm(jwk, "cnf", "alg"));
  absl::StatusOr<PublicKey> key = PublicKeyFromJwk(jwk);
  if (!key.ok()) return Reject("cnf", key.status().message());
  absl::Status fits = CheckJwsKeyType(alg, key->type());
  if (!fits.ok()) return Reject("cnf", fits.message());
  return ConfirmationKey{std::move(*key), alg};
}

WitSvidSigner::WitSvidSigner(TrustDomain trust_domain, std::string kid, std::string issuer,
                             JwsSigner signer, std::string encoded_header)
    : trust_domain_(std::move(trust_domain)),
      kid_(std::move(kid)),
      issuer_(std::move(issuer)),
      signer_(std::move(signer)),
      encoded_header_(std::move(encoded_header)) {}

absl::StatusOr<std::unique_ptr<WitSvidSigner>> WitSvidSigner::Create(TrustDomain trust_domain,
                                                                     const PrivateKey& key,
                                                                     std::string kid,
                                                                     WitSvidSignerOptions options) {
  if (trust_domain.empty()) return absl::InvalidArgumentError("WIT signer: no trust domain");
  if (kid.empty()) return absl::InvalidArgumentError("WIT signer: empty kid");
  SPINEL_RETURN_IF_ERROR(CheckIssuer(options.issuer));
  SPINEL_ASSIGN_OR_RETURN(JwsSigner signer,
                          JwsSigner::Create(key, DefaultJwsAlgorithm(key.type())));
  SPINEL_ASSIGN_OR_RETURN(std::string encoded_header,
                          EncodeJwtHeader(signer.algorithm(), kid, kWitSvidTyp));
  return std::unique_ptr<WitSvidSigner>(
      new WitSvidSigner(std::move(trust_domain), std::move(kid), std::move(options.issuer),
                        std::move(signer), std::move(encoded_header)));
}

absl::StatusOr<json> WitSvidSigner::Payload(const WitSvidClaims& claims,
                                            const ConfirmationKey& workload_key) const {
  if (!claims.subject.MemberOf(trust_domain_)) {
    return absl::InvalidArgumentError(StrCat("WIT-SVID subject ", Quote(claims.subject.ToString()),
                                             " is not in trust domain ", trust_domain_.name()));
  }
  if (ToUnixSeconds(claims.expires_at) <= ToUnixSeconds(claims.issued_at)) {
    return absl::InvalidArgumentError("WIT-SVID must expire after it is issued");
  }
  SPINEL_ASSIGN_OR_RETURN(json jwk, ConfirmationJwk(workload_key));
  SPINEL_ASSIGN_OR_RETURN(std::string jti, RandomBytes(kJtiRandomBytes));
  json payload = {{"sub", claims.subject.ToString()},
                  {"exp", ToUnixSeconds(claims.expires_at)},
                  {"iat", ToUnixSeconds(claims.issued_at)},
                  {"jti", Base64UrlEncode(jti)},
                  {"cnf", {{"jwk", std::move(jwk)}}}};
  if (!issuer_.empty()) payload["iss"] = issuer_;
  return payload;
}

absl::StatusOr<std::string> WitSvidSigner::Mint(const WitSvidClaims& claims,
                                                const ConfirmationKey& workload_key) const {
  SPINEL_ASSIGN_OR_RETURN(json payload, Payload(claims, workload_key));
  return SignJwt(signer_, encoded_header_, payload);
}

absl::StatusOr<UnprovenWitSvid> ValidateWitSvid(std::string_view token,
                                                const WitAuthoritySource& authorities,
                                                TimePoint now,
                                                const WitSvidValidationOptions& options) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(token, options.max_token_bytes);
  if (!jwt.ok()) return Reject("token", jwt.status().message());
  SPINEL_RETURN_IF_ERROR(CheckTyp(jwt->header));
  SPINEL_ASSIGN_OR_RETURN(JwsAlgorithm alg, AllowedAlgorithm(jwt->header, "alg", "alg"));
  SPINEL_ASSIGN_OR_RETURN(std::string kid, KidOf(jwt->header));
  SPINEL_ASSIGN_OR_RETURN(SpiffeId subject, SubjectOf(jwt->claims));
  absl::StatusOr<PublicKey> key = authorities.FindWitAuthority(subject.trust_domain(), kid);
  if (!key.ok()) return Reject("key", key.status().message());
  absl::Status verified =
      VerifyJwsSignature(options.signatures, alg, *key, jwt->parts.signing_input, jwt->signature);
  if (!verified.ok()) return Reject("signature", verified.message());
  TimePoint expires_at;
  SPINEL_RETURN_IF_ERROR(CheckTimes(jwt->claims, now, options.leeway, &expires_at));
  SPINEL_ASSIGN_OR_RETURN(ConfirmationKey confirmation, ConfirmationOf(jwt->claims));
  if (FindMember(jwt->claims, "aud") != nullptr) {
    return Reject("aud", "present; a WIT-SVID has no audience (it belongs in the proof)");
  }
  return UnprovenWitSvid{
      std::move(subject),    expires_at, alg, std::move(kid), std::move(confirmation),
      std::move(jwt->claims)};
}

absl::StatusOr<ConfirmationKey> ParseConfirmationJwkText(std::string_view text,
                                                         std::string_view field) {
  if (text.empty()) return absl::InvalidArgumentError(StrCat(field, " must be specified"));
  SPINEL_ASSIGN_OR_RETURN(nlohmann::json jwk, ParseJson(text, field, kMaxConfirmationJwkBytes));
  absl::StatusOr<ConfirmationKey> key = ParseConfirmationJwk(jwk);
  if (!key.ok()) return absl::InvalidArgumentError(StrCat(field, ": ", key.status().message()));
  return key;
}

}  // namespace spinel::common
