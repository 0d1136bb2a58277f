#include "common/wpt_verifier.h"

#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr std::string_view kTokenKind = "WPT";

template <typename... Args>
absl::Status Reject(std::string_view check, const Args&... why) {
  return JwtRejection(kTokenKind, check, why...);
}

// Step 4: alg string-equals cnf.jwk.alg; none and HMAC refused before anything else.
absl::Status CheckAlg(const json& header, const ConfirmationKey& cnf) {
  const json* alg = FindMember(header, "alg");
  if (alg == nullptr || !alg->is_string()) return Reject("alg", "missing or not a string");
  const std::string& name = alg->get_ref<const std::string&>();
  if (AsciiLower(name) == "none" || name.rfind("HS", 0) == 0) {
    return Reject("alg", Quote(name), " is not an asymmetric signature algorithm");
  }
  if (name != JwsAlgorithmName(cnf.algorithm)) {
    return Reject("alg", Quote(name), " does not equal the WIT's cnf.jwk.alg ",
                  JwsAlgorithmName(cnf.algorithm));
  }
  return absl::OkStatus();
}

// Step 6: typ conveys the media type wpt+jwt (RFC 7515 §4.1.9: "application/" may be left
// out, and media types compare without case).
absl::Status CheckTyp(const json& header) {
  const json* typ = FindMember(header, "typ");
  if (typ == nullptr) return Reject("typ", "missing; a WPT is typed \"wpt+jwt\"");
  if (!typ->is_string()) return Reject("typ", "not a string");
  std::string value = AsciiLower(typ->get_ref<const std::string&>());
  if (value.rfind("application/", 0) == 0) value.erase(0, 12);
  if (value != kWptTyp) {
    return Reject("typ", Quote(typ->get_ref<const std::string&>()), " is not \"wpt+jwt\"");
  }
  return absl::OkStatus();
}

// Step 7: aud equals the target URI without query and fragment, or a configured alias.
absl::Status CheckAudience(const json& claims, std::string_view target_uri,
                           const std::vector<std::string>& aliases) {
  const json* aud = FindMember(claims, "aud");
  if (aud == nullptr) return Reject("aud", "missing");
  if (!aud->is_string()) return Reject("aud", "not a string");
  const std::string& value = aud->get_ref<const std::string&>();
  if (value.find_first_of("?#") != std::string::npos) {
    return Reject("aud", "has a query or fragment; it never matches a target URI");
  }
  const std::string_view target = target_uri.substr(0, target_uri.find_first_of("?#"));
  if (!target.empty() && value == target) return absl::OkStatus();
  for (const std::string& alias : aliases) {
    if (value == alias) return absl::OkStatus();
  }
  return Reject("aud", Quote(value), " is not this request's target URI");
}

// Step 8: present, not passed, not unreasonably far in the future.
absl::StatusOr<TimePoint> CheckExpiry(const json& claims, TimePoint now,
                                      const WptVerificationOptions& options) {
  SPINEL_ASSIGN_OR_RETURN(TimePoint exp, CheckJwtExpiry(claims, now, options.leeway, kTokenKind));
  if (exp - now > options.max_lifetime) {
    return Reject("exp", "unreasonably far in the future (more than ",
                  std::chrono::duration_cast<std::chrono::seconds>(options.max_lifetime).count(),
                  " s from now)");
  }
  return exp;
}

// Steps 9 and 11: the hash claim `name` binds `token`, or is absent when there is no token.
absl::Status CheckHashClaim(const json& claims, std::string_view name,
                            const std::optional<std::string_view>& token, std::string_view what) {
  const json* claim = FindMember(claims, name);
  if (!token) {
    if (claim == nullptr) return absl::OkStatus();
    return Reject(name, "present, but the request carries no ", what);
  }
  if (claim == nullptr) return Reject(name, "missing, but the request carries ", what);
  SPINEL_ASSIGN_OR_RETURN(std::string expected, TokenHash(*token));
  if (!claim->is_string() || *claim != expected) {
    return Reject(name, "does not match the hash of the ", what);
  }
  return absl::OkStatus();
}

absl::Status CheckOthEntry(const std::string& name, const json& hash, const BoundTokens& tokens,
                           const std::set<std::string>& understood) {
  if (!IsLowerCaseHeaderName(name)) return Reject("oth", "key ", Quote(name), " is not lower-case");
  if (understood.count(name) == 0) {
    return Reject("oth", "entry ", Quote(name), " is not understood by this recipient");
  }
  auto token = tokens.other_tokens.find(name);
  if (token == tokens.other_tokens.end()) {
    return Reject("oth", "entry ", Quote(name), " names a header the request does not carry");
  }
  SPINEL_ASSIGN_OR_RETURN(std::string expected, OtherTokenHash(token->second));
  if (!hash.is_string() || hash != expected) {
    return Reject("oth", "entry ", Quote(name), " does not match the hash of its header");
  }
  return absl::OkStatus();
}

// Step 12: every oth entry checks out, and every other token of the request is covered.
absl::Status CheckOth(const json& claims, const BoundTokens& tokens,
                      const std::set<std::string>& understood) {
  const json* oth = FindMember(claims, "oth");
  if (oth != nullptr) {
    if (!oth->is_object()) return Reject("oth", "not an object");
    for (const auto& [name, hash] : oth->items()) {
      SPINEL_RETURN_IF_ERROR(CheckOthEntry(name, hash, tokens, understood));
    }
  }
  for (const auto& [name, value] : tokens.other_tokens) {
    if (oth == nullptr || FindMember(*oth, name) == nullptr) {
      return Reject("oth", "the request's ", Quote(name), " token is not bound by the WPT");
    }
  }
  return absl::OkStatus();
}

std::optional<std::string_view> View(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  return std::string_view(*value);
}

}  // namespace

WptVerifier::WptVerifier(const WitAuthoritySource& authorities, WptReplayCache& replay_cache,
                         WptVerificationOptions options)
    : authorities_(authorities), replay_cache_(replay_cache), options_(std::move(options)) {}

absl::StatusOr<ProvenWorkload> WptVerifier::Verify(const WptRequest& request, TimePoint now) const {
  absl::StatusOr<DecodedJwt> wpt = DecodeCompactJwt(request.wpt, kMaxWptBytes);
  if (!wpt.ok()) return Reject("token", wpt.status().message());
  SPINEL_ASSIGN_OR_RETURN(UnprovenWitSvid wit,
                          ValidateWitSvid(request.wit, authorities_, now, options_.wit));
  SPINEL_RETURN_IF_ERROR(CheckAlg(wpt->header, wit.confirmation));
  absl::Status signed_by_cnf = VerifyJwsSignature(wit.confirmation.algorithm, wit.confirmation.key,
                                                  wpt->parts.signing_input, wpt->signature);
  if (!signed_by_cnf.ok()) return Reject("signature", "not made with the WIT's cnf.jwk key");
  SPINEL_RETURN_IF_ERROR(CheckTyp(wpt->header));
  SPINEL_RETURN_IF_ERROR(CheckAudience(wpt->claims, request.target_uri, options_.audience_aliases));
  SPINEL_ASSIGN_OR_RETURN(TimePoint expires_at, CheckExpiry(wpt->claims, now, options_));
  SPINEL_RETURN_IF_ERROR(CheckHashClaim(wpt->claims, "wth", request.wit, "WIT"));
  SPINEL_ASSIGN_OR_RETURN(std::string jti, CheckJti(wpt->claims, wit.subject, expires_at, now));
  SPINEL_RETURN_IF_ERROR(
      CheckHashClaim(wpt->claims, "ath", View(request.tokens.access_token), "access token"));
  SPINEL_RETURN_IF_ERROR(
      CheckHashClaim(wpt->claims, "tth", View(request.tokens.txn_token), "Txn-Token"));
  SPINEL_RETURN_IF_ERROR(CheckOth(wpt->claims, request.tokens, options_.other_token_headers));
  std::vector<std::string> others;
  for (const auto& [name, value] : request.tokens.other_tokens) others.push_back(name);
  return ProvenWorkload{wit.subject,
                        std::move(wit),
                        std::move(jti),
                        expires_at,
                        request.tokens.access_token.has_value(),
                        request.tokens.txn_token.has_value(),
                        std::move(others)};
}

absl::StatusOr<std::string> WptVerifier::CheckJti(const json& claims, const SpiffeId& subject,
                                                  TimePoint expires_at, TimePoint now) const {
  const json* jti = FindMember(claims, "jti");
  if (jti == nullptr) return Reject("jti", "missing");
  if (!jti->is_string() || jti->get_ref<const std::string&>().empty()) {
    return Reject("jti", "not a non-empty string");
  }
  const std::string& value = jti->get_ref<const std::string&>();
  absl::Status fresh =
      replay_cache_.CheckAndRecord(subject.ToString(), value, expires_at + options_.leeway, now);
  if (!fresh.ok()) {
    return absl::Status(fresh.code(), StrCat("WPT rejected: jti: ", fresh.message()));
  }
  return value;
}

}  // namespace spinel::common
