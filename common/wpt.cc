#include "common/wpt.h"

#include <algorithm>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/jwt_encode.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr size_t kJtiRandomBytes = 16;

// The "ath"/"tth"/"oth" claims binding `tokens`.
absl::Status AddTokenHashes(const BoundTokens& tokens, json* claims) {
  if (tokens.access_token) {
    SPINEL_ASSIGN_OR_RETURN((*claims)["ath"], TokenHash(*tokens.access_token));
  }
  if (tokens.txn_token) {
    SPINEL_ASSIGN_OR_RETURN((*claims)["tth"], TokenHash(*tokens.txn_token));
  }
  if (tokens.other_tokens.empty()) return absl::OkStatus();
  json oth = json::object();
  for (const auto& [name, value] : tokens.other_tokens) {
    if (!IsLowerCaseHeaderName(name)) {
      return absl::InvalidArgumentError(
          StrCat("WPT: other-token header name ", Quote(name), " must be lower-case"));
    }
    SPINEL_ASSIGN_OR_RETURN(oth[name], OtherTokenHash(value));
  }
  (*claims)["oth"] = std::move(oth);
  return absl::OkStatus();
}

absl::Status CheckCreateParams(const WptParams& params) {
  if (params.audience.empty()) return absl::InvalidArgumentError("WPT: empty audience");
  if (params.audience.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError(
        "WPT: the audience is the target URI without query or fragment");
  }
  if (params.lifetime < std::chrono::seconds(1) || params.lifetime > kDefaultMaxWptLifetime) {
    return absl::InvalidArgumentError("WPT: lifetime must be between 1 s and 300 s");
  }
  return absl::OkStatus();
}

// The WIT's cnf key, checked against the sender's private key and the WIT's exp.
absl::StatusOr<ConfirmationKey> SenderConfirmation(std::string_view wit, const PrivateKey& key,
                                                   TimePoint now) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(wit, kMaxWitSvidBytes);
  if (!jwt.ok()) return absl::InvalidArgumentError(StrCat("WPT: WIT: ", jwt.status().message()));
  const json* cnf = FindMember(jwt->claims, "cnf");
  if (cnf == nullptr) return absl::InvalidArgumentError("WPT: the WIT has no \"cnf\"");
  const json* jwk = FindMember(*cnf, "jwk");
  if (jwk == nullptr) return absl::InvalidArgumentError("WPT: the WIT has no \"cnf.jwk\"");
  SPINEL_ASSIGN_OR_RETURN(ConfirmationKey confirmation, ParseConfirmationJwk(*jwk));
  SPINEL_ASSIGN_OR_RETURN(PublicKey public_key, key.Public());
  if (!public_key.Equals(confirmation.key)) {
    return absl::InvalidArgumentError("WPT: the private key is not the WIT's cnf.jwk key");
  }
  absl::StatusOr<std::optional<TimePoint>> exp = NumericDateClaim(jwt->claims, "exp");
  if (!exp.ok() || !*exp) return absl::InvalidArgumentError("WPT: the WIT has no valid \"exp\"");
  if (now >= **exp) {
    return absl::FailedPreconditionError("WPT: the WIT has expired; its key must not be used");
  }
  return confirmation;
}

}  // namespace

bool IsLowerCaseHeaderName(std::string_view name) {
  return !name.empty() &&
         std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

absl::StatusOr<std::string> OtherTokenHash(std::string_view header_value) {
  while (!header_value.empty() && header_value.front() == ' ') header_value.remove_prefix(1);
  while (!header_value.empty() && header_value.back() == ' ') header_value.remove_suffix(1);
  return TokenHash(header_value);
}

absl::StatusOr<std::string> CreateWpt(std::string_view wit, const PrivateKey& workload_key,
                                      const WptParams& params, TimePoint now) {
  SPINEL_RETURN_IF_ERROR(CheckCreateParams(params));
  SPINEL_ASSIGN_OR_RETURN(ConfirmationKey cnf, SenderConfirmation(wit, workload_key, now));
  SPINEL_ASSIGN_OR_RETURN(JwsSigner signer, JwsSigner::Create(workload_key, cnf.algorithm));
  SPINEL_ASSIGN_OR_RETURN(std::string jti, RandomBytes(kJtiRandomBytes));
  SPINEL_ASSIGN_OR_RETURN(std::string wth, TokenHash(wit));
  json claims = {{"aud", params.audience},
                 {"exp", ToUnixSeconds(now + params.lifetime)},
                 {"jti", Base64UrlEncode(jti)},
                 {"wth", std::move(wth)}};
  SPINEL_RETURN_IF_ERROR(AddTokenHashes(params.tokens, &claims));
  SPINEL_ASSIGN_OR_RETURN(std::string encoded_header,
                          EncodeJwtHeader(cnf.algorithm, /*kid=*/"", kWptTyp));
  return SignJwt(signer, encoded_header, claims);
}

}  // namespace spinel::common
