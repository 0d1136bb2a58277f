#include "common/delegation_token.h"

#include "common/base64.h"
#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/jwt_encode.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/user_token.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr size_t kJtiRandomBytes = 16;

absl::Status CheckUserClaims(const json& claims) {
  if (!claims.is_object()) return absl::InvalidArgumentError("user claims are not an object");
  for (const auto& [name, value] : claims.items()) {
    if (!IsStringOrStringArray(value)) {
      return absl::InvalidArgumentError(
          StrCat("user claim ", Quote(name), " is not a string or an array of strings"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMintable(const DelegationClaims& claims, const TrustDomain& trust_domain) {
  if (claims.actors.empty() || claims.actors.size() > kMaxDelegationChain) {
    return absl::InvalidArgumentError(
        StrCat("delegation chain must have 1 to ", kMaxDelegationChain, " actors"));
  }
  if (!claims.actors.front().MemberOf(trust_domain)) {
    return absl::InvalidArgumentError(StrCat("current actor ",
                                             Quote(claims.actors.front().ToString()),
                                             " is not in trust domain ", trust_domain.name()));
  }
  for (const SpiffeId& actor : claims.actors) {
    if (actor.empty()) return absl::InvalidArgumentError("an actor has no SPIFFE ID");
  }
  if (claims.audience.empty()) return absl::InvalidArgumentError("empty audience");
  if (claims.user.subject.empty() || claims.user.issuer.empty()) {
    return absl::InvalidArgumentError("the user needs a subject and an issuer");
  }
  if (ToUnixSeconds(claims.expires_at) <= ToUnixSeconds(claims.issued_at)) {
    return absl::InvalidArgumentError("a delegation token must expire after it is issued");
  }
  return CheckUserClaims(claims.user.claims);
}

constexpr std::string_view kTokenKind = "delegation token";

template <typename... Args>
absl::Status Reject(std::string_view check, const Args&... why) {
  return JwtRejection(kTokenKind, check, why...);
}

struct Header {
  JwsAlgorithm alg;
  std::string kid;
};

absl::StatusOr<Header> CheckHeader(const json& header) {
  const json* typ = FindMember(header, "typ");
  if (typ == nullptr || !typ->is_string() || *typ != kDelegationTokenTyp) {
    return Reject("typ", "not \"delegation+jwt\"");
  }
  const json* alg = FindMember(header, "alg");
  if (alg == nullptr || !alg->is_string()) return Reject("alg", "missing or not a string");
  std::optional<JwsAlgorithm> parsed = JwsAlgorithmFromName(alg->get_ref<const std::string&>());
  if (!parsed) return Reject("alg", Quote(alg->get_ref<const std::string&>()), " is not allowed");
  const json* kid = FindMember(header, "kid");
  if (kid == nullptr || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return Reject("kid", "missing or not a non-empty string");
  }
  if (FindMember(header, "crit") != nullptr) {
    return Reject("crit", "header names critical extensions this validator does not understand");
  }
  return Header{*parsed, kid->get<std::string>()};
}

absl::StatusOr<TrustDomain> IssuerOf(const json& claims) {
  const json* iss = FindMember(claims, "iss");
  if (iss == nullptr || !iss->is_string()) return Reject("iss", "missing or not a string");
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(iss->get_ref<const std::string&>());
  if (!id.ok() || !id->path().empty()) {
    return Reject("iss", "not a trust domain's SPIFFE ID (spiffe://<trust domain>)");
  }
  return id->trust_domain();
}

absl::Status CheckTimes(const json& claims, TimePoint now, Duration leeway, DelegationClaims& out) {
  SPINEL_ASSIGN_OR_RETURN(out.expires_at, CheckJwtExpiry(claims, now, leeway, kTokenKind));
  SPINEL_RETURN_IF_ERROR(CheckJwtNotAfter(claims, "nbf", now + leeway, kTokenKind).status());
  SPINEL_ASSIGN_OR_RETURN(std::optional<TimePoint> iat,
                          CheckJwtNotAfter(claims, "iat", now + leeway, kTokenKind));
  if (iat) out.issued_at = *iat;
  return absl::OkStatus();
}

absl::Status ReadUser(const json& claims, DelegatedUser& user) {
  const json* sub = FindMember(claims, "sub");
  if (sub == nullptr || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return Reject("sub", "missing or not a non-empty string");
  }
  user.subject = sub->get<std::string>();
  const json* object = FindMember(claims, "user");
  const json* iss = object == nullptr ? nullptr : FindMember(*object, "iss");
  const json* selected = object == nullptr ? nullptr : FindMember(*object, "claims");
  if (iss == nullptr || !iss->is_string() || iss->get_ref<const std::string&>().empty()) {
    return Reject("user", "no \"user\" object with a non-empty \"iss\"");
  }
  user.issuer = iss->get<std::string>();
  if (selected != nullptr) {
    absl::Status valid = CheckUserClaims(*selected);
    if (!valid.ok()) return Reject("user", valid.message());
    user.claims = *selected;
  }
  return absl::OkStatus();
}

absl::Status ReadActors(const json& claims, const TrustDomain& issuer, size_t max_chain,
                        DelegationClaims& out) {
  const json* act = FindMember(claims, "act");
  if (act == nullptr) return Reject("act", "missing (a delegation token names its actors)");
  absl::StatusOr<std::vector<SpiffeId>> actors = ParseNestedAct(*act, max_chain);
  if (!actors.ok()) return Reject("act", actors.status().message());
  if (!actors->front().MemberOf(issuer)) {
    return Reject("act", "the current actor is not in the issuing zone's trust domain");
  }
  out.actors = *std::move(actors);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SpiffeId>> ReadMayAct(const json& claims) {
  const json* may_act = FindMember(claims, "may_act");
  if (may_act == nullptr) return std::optional<SpiffeId>();
  const json* sub = FindMember(*may_act, "sub");
  if (sub == nullptr || !sub->is_string()) return Reject("may_act", "no string \"sub\"");
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(sub->get_ref<const std::string&>());
  if (!id.ok()) return Reject("may_act", "\"sub\" is not a SPIFFE ID");
  return std::optional<SpiffeId>(*std::move(id));
}

absl::StatusOr<ConfirmationKey> ReadConfirmation(const json& claims) {
  const json* cnf = FindMember(claims, "cnf");
  const json* jwk = cnf == nullptr ? nullptr : FindMember(*cnf, "jwk");
  if (jwk == nullptr) return Reject("cnf", "missing cnf.jwk (a delegation token binds a key)");
  absl::StatusOr<ConfirmationKey> key = ParseConfirmationJwk(*jwk);
  if (!key.ok()) return Reject("cnf", key.status().message());
  return key;
}

absl::StatusOr<std::string> ReadJti(const json& claims) {
  const json* jti = FindMember(claims, "jti");
  if (jti == nullptr || !jti->is_string() || jti->get_ref<const std::string&>().empty()) {
    return Reject("jti", "missing or not a non-empty string");
  }
  return jti->get<std::string>();
}

absl::Status CheckPresenter(const DelegationToken& token, const DelegationPresenter& presenter) {
  if (!SameConfirmationKey(token.claims.confirmation, presenter.key)) {
    return Reject("presenter", "the token is bound to another key than the presenter's WIT-SVID");
  }
  if (token.claims.actors.front() != presenter.workload) {
    return Reject("presenter", "the current actor is not the presenting workload ",
                  Quote(presenter.workload.ToString()));
  }
  return absl::OkStatus();
}

// Everything after the signature.
absl::Status ReadClaims(const json& claims, TimePoint now,
                        const DelegationValidationOptions& options, DelegationToken& out) {
  SPINEL_RETURN_IF_ERROR(CheckTimes(claims, now, options.leeway, out.claims));
  const json* aud = FindMember(claims, "aud");
  if (aud == nullptr || !aud->is_string()) return Reject("aud", "missing or not a string");
  if (options.audience.empty() || *aud != options.audience) {
    return Reject("aud", "not this receiver (", Quote(options.audience), ")");
  }
  out.claims.audience = aud->get<std::string>();
  SPINEL_RETURN_IF_ERROR(ReadUser(claims, out.claims.user));
  SPINEL_RETURN_IF_ERROR(ReadActors(claims, out.issuer, options.max_chain, out.claims));
  SPINEL_ASSIGN_OR_RETURN(out.may_act, ReadMayAct(claims));
  SPINEL_ASSIGN_OR_RETURN(out.jti, ReadJti(claims));
  if (options.presenter) return CheckPresenter(out, *options.presenter);
  return absl::OkStatus();
}

}  // namespace

json NestedAct(const std::vector<SpiffeId>& actors) {
  json act;
  for (auto it = actors.rbegin(); it != actors.rend(); ++it) {
    json level = {{"sub", it->ToString()}};
    if (!act.is_null()) level["act"] = std::move(act);
    act = std::move(level);
  }
  return act;
}

absl::StatusOr<std::vector<SpiffeId>> ParseNestedAct(const json& act, size_t max_chain) {
  std::vector<SpiffeId> actors;
  const json* level = &act;
  while (level != nullptr) {
    if (actors.size() >= max_chain) {
      return absl::InvalidArgumentError(StrCat("the chain has more than ", max_chain, " actors"));
    }
    if (!level->is_object()) return absl::InvalidArgumentError("an actor is not an object");
    for (const auto& [name, value] : level->items()) {
      if (name != "sub" && name != "act") {
        return absl::InvalidArgumentError(StrCat("unexpected member ", Quote(name)));
      }
    }
    const json* sub = FindMember(*level, "sub");
    if (sub == nullptr || !sub->is_string()) {
      return absl::InvalidArgumentError("an actor has no string \"sub\"");
    }
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(sub->get_ref<const std::string&>());
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          StrCat("actor ", actors.size(), " is not a SPIFFE ID (", id.status().message(), ")"));
    }
    actors.push_back(*std::move(id));
    level = FindMember(*level, "act");
  }
  return actors;
}

bool SameConfirmationKey(const ConfirmationKey& a, const ConfirmationKey& b) {
  return a.algorithm == b.algorithm && a.key.Equals(b.key);
}

DelegationTokenSigner::DelegationTokenSigner(TrustDomain trust_domain, std::string kid,
                                             JwsSigner signer, std::string encoded_header)
    : trust_domain_(std::move(trust_domain)),
      kid_(std::move(kid)),
      signer_(std::move(signer)),
      encoded_header_(std::move(encoded_header)) {}

absl::StatusOr<std::unique_ptr<DelegationTokenSigner>> DelegationTokenSigner::Create(
    TrustDomain trust_domain, const PrivateKey& key, std::string kid) {
  if (trust_domain.empty()) {
    return absl::InvalidArgumentError("delegation signer: no trust domain");
  }
  if (kid.empty()) return absl::InvalidArgumentError("delegation signer: empty kid");
  SPINEL_ASSIGN_OR_RETURN(JwsSigner signer,
                          JwsSigner::Create(key, DefaultJwsAlgorithm(key.type())));
  SPINEL_ASSIGN_OR_RETURN(std::string encoded_header,
                          EncodeJwtHeader(signer.algorithm(), kid, kDelegationTokenTyp));
  return std::unique_ptr<DelegationTokenSigner>(new DelegationTokenSigner(
      std::move(trust_domain), std::move(kid), std::move(signer), std::move(encoded_header)));
}

absl::StatusOr<json> DelegationTokenSigner::Payload(const DelegationClaims& claims,
                                                    const std::string& jti) const {
  SPINEL_RETURN_IF_ERROR(CheckMintable(claims, trust_domain_));
  SPINEL_ASSIGN_OR_RETURN(json jwk, ConfirmationJwk(claims.confirmation));
  json payload = {{"iss", trust_domain_.IdString()},
                  {"sub", claims.user.subject},
                  {"user", {{"iss", claims.user.issuer}, {"claims", claims.user.claims}}},
                  {"act", NestedAct(claims.actors)},
                  {"aud", claims.audience},
                  {"iat", ToUnixSeconds(claims.issued_at)},
                  {"exp", ToUnixSeconds(claims.expires_at)},
                  {"jti", jti},
                  {"cnf", {{"jwk", std::move(jwk)}}}};
  if (SpiffeId::Parse(claims.audience).ok()) payload["may_act"] = {{"sub", claims.audience}};
  return payload;
}

absl::StatusOr<MintedDelegationToken> DelegationTokenSigner::Mint(
    const DelegationClaims& claims) const {
  SPINEL_ASSIGN_OR_RETURN(std::string random, RandomBytes(kJtiRandomBytes));
  MintedDelegationToken out{"", Base64UrlEncode(random)};
  SPINEL_ASSIGN_OR_RETURN(json payload, Payload(claims, out.jti));
  SPINEL_ASSIGN_OR_RETURN(out.token, SignJwt(signer_, encoded_header_, payload));
  return out;
}

absl::Status DelegationAuthorityMap::Add(const TrustDomain& trust_domain, std::string kid,
                                         PublicKey key) {
  if (trust_domain.empty() || kid.empty()) {
    return absl::InvalidArgumentError("a delegation key needs a trust domain and a kid");
  }
  auto [it, added] = keys_.emplace(std::make_pair(trust_domain.name(), kid), std::move(key));
  if (!added) {
    return absl::AlreadyExistsError(
        StrCat("trust domain ", trust_domain.name(), " already has a delegation key ", Quote(kid)));
  }
  return absl::OkStatus();
}

absl::StatusOr<PublicKey> DelegationAuthorityMap::FindDelegationAuthority(
    const TrustDomain& trust_domain, std::string_view kid) const {
  auto it = keys_.find(std::make_pair(trust_domain.name(), std::string(kid)));
  if (it == keys_.end()) {
    return absl::NotFoundError(
        StrCat("no delegation key ", Quote(kid), " for trust domain ", trust_domain.name()));
  }
  return it->second;
}

absl::StatusOr<DelegationToken> ValidateDelegationToken(
    std::string_view token, const DelegationAuthoritySource& source, TimePoint now,
    const DelegationValidationOptions& options) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(token, options.max_token_bytes);
  if (!jwt.ok()) return Reject("token", jwt.status().message());
  SPINEL_ASSIGN_OR_RETURN(Header header, CheckHeader(jwt->header));
  SPINEL_ASSIGN_OR_RETURN(TrustDomain issuer, IssuerOf(jwt->claims));
  absl::StatusOr<PublicKey> key = source.FindDelegationAuthority(issuer, header.kid);
  if (!key.ok()) return Reject("key", key.status().message());
  absl::Status verified = VerifyJwsSignature(options.signatures, header.alg, *key,
                                             jwt->parts.signing_input, jwt->signature);
  if (!verified.ok()) return Reject("signature", verified.message());
  SPINEL_ASSIGN_OR_RETURN(ConfirmationKey confirmation, ReadConfirmation(jwt->claims));
  DelegationToken out{.claims = {.confirmation = std::move(confirmation)},
                      .issuer = std::move(issuer),
                      .kid = std::move(header.kid)};
  SPINEL_RETURN_IF_ERROR(ReadClaims(jwt->claims, now, options, out));
  return out;
}

}  // namespace spinel::common
