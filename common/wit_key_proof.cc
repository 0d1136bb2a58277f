#include "common/wit_key_proof.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/jwt_decode.h"
#include "common/private_jwk.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr size_t kMaxProofBytes = 8 * 1024;
constexpr size_t kMinJtiBytes = 16;

absl::Status Rejected(std::string_view why) {
  return absl::InvalidArgumentError(StrCat("key proof rejected: ", why));
}

// The string member `name` of `claims`, or nullptr.
const std::string* StringClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

absl::Status CheckTimes(const json& claims, TimePoint now) {
  absl::StatusOr<std::optional<TimePoint>> iat = NumericDateClaim(claims, "iat");
  absl::StatusOr<std::optional<TimePoint>> exp = NumericDateClaim(claims, "exp");
  if (!iat.ok() || !exp.ok() || !iat->has_value() || !exp->has_value()) {
    return Rejected("\"iat\" and \"exp\" must be present NumericDates");
  }
  if (**exp <= **iat || **exp - **iat > kMaxWitKeyProofLifetime) {
    return Rejected("lifetime must be 1 to 60 seconds");
  }
  if (**iat > now + kWitKeyProofLeeway) return Rejected("issued in the future");
  if (now >= **exp + kWitKeyProofLeeway) return Rejected("expired");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CreateWitKeyProof(const PrivateKey& key, JwsAlgorithm key_alg,
                                              std::string_view spiffe_id, TimePoint now,
                                              Duration lifetime) {
  if (lifetime < std::chrono::seconds(1) || lifetime > kMaxWitKeyProofLifetime) {
    return absl::InvalidArgumentError("key proof lifetime must be 1 to 60 seconds");
  }
  SPINEL_ASSIGN_OR_RETURN(JwsSigner signer, JwsSigner::Create(key, key_alg));
  SPINEL_ASSIGN_OR_RETURN(PublicKey pub, key.Public());
  SPINEL_ASSIGN_OR_RETURN(std::string jkt, JwkThumbprint(pub));
  SPINEL_ASSIGN_OR_RETURN(std::string jti, RandomBytes(16));
  const int64_t iat = ToUnixSeconds(now);
  const json header = {{"alg", JwsAlgorithmName(key_alg)}, {"typ", kWitKeyProofTyp}};
  const json claims = {
      {"aud", kWitKeyProofAudience},
      {"jkt", jkt},
      {"sub", spiffe_id},
      {"iat", iat},
      {"exp", iat + std::chrono::duration_cast<std::chrono::seconds>(lifetime).count()},
      {"jti", Base64UrlEncode(jti)}};
  const std::string input =
      StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(claims.dump()));
  SPINEL_ASSIGN_OR_RETURN(std::string signature, signer.Sign(input));
  return StrCat(input, ".", Base64UrlEncode(signature));
}

absl::Status VerifyWitKeyProof(std::string_view proof, const ConfirmationKey& key,
                               std::string_view spiffe_id, TimePoint now, WptReplayCache& replay) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(proof, kMaxProofBytes);
  if (!jwt.ok()) return Rejected(std::string(jwt.status().message()));
  const std::string* typ = StringClaim(jwt->header, "typ");
  if (typ == nullptr || *typ != kWitKeyProofTyp)
    return Rejected("\"typ\" must be wit-key-proof+jwt");
  const std::string* alg = StringClaim(jwt->header, "alg");
  if (alg == nullptr || *alg != JwsAlgorithmName(key.algorithm)) {
    return Rejected("\"alg\" must equal the key's \"alg\"");
  }
  if (jwt->header.contains("crit")) return Rejected("\"crit\" is not understood");
  if (!VerifyJwsSignature(key.algorithm, key.key, jwt->parts.signing_input, jwt->signature).ok()) {
    return Rejected("signature does not verify with the key");
  }
  const json& claims = jwt->claims;
  const std::string* aud = StringClaim(claims, "aud");
  if (aud == nullptr || *aud != kWitKeyProofAudience) {
    return Rejected("\"aud\" must be spinel:wit-svid-for-key");
  }
  SPINEL_ASSIGN_OR_RETURN(std::string thumbprint, JwkThumbprint(key.key));
  const std::string* jkt = StringClaim(claims, "jkt");
  if (jkt == nullptr || *jkt != thumbprint) return Rejected("\"jkt\" is not the key's thumbprint");
  const std::string* sub = StringClaim(claims, "sub");
  if (sub == nullptr || *sub != spiffe_id) {
    return Rejected("\"sub\" is not the requested SPIFFE ID");
  }
  SPINEL_RETURN_IF_ERROR(CheckTimes(claims, now));
  const std::string* jti = StringClaim(claims, "jti");
  if (jti == nullptr || jti->size() < kMinJtiBytes || jti->size() > kMaxWptJtiBytes) {
    return Rejected("\"jti\" must be a string of 16 to 256 characters");
  }
  const TimePoint exp = **NumericDateClaim(claims, "exp");
  absl::Status fresh = replay.CheckAndRecord(thumbprint, *jti, exp + kWitKeyProofLeeway, now);
  if (absl::IsAlreadyExists(fresh)) return Rejected("proof replayed");
  return fresh;
}

}  // namespace spinel::common
