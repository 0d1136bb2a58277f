#include "common/jwt_encode.h"

#include "common/base64.h"
#include "common/json_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {

absl::StatusOr<std::string> EncodeJwtHeader(JwsAlgorithm alg, std::string_view kid,
                                            std::string_view typ) {
  nlohmann::json header = {{"alg", std::string(JwsAlgorithmName(alg))}, {"typ", std::string(typ)}};
  if (!kid.empty()) header["kid"] = std::string(kid);
  SPINEL_ASSIGN_OR_RETURN(std::string header_json, DumpJson(header));
  return StrCat(Base64UrlEncode(header_json), '.');
}

absl::StatusOr<std::string> SignJwt(const JwsSigner& signer, std::string_view encoded_header,
                                    const nlohmann::json& claims) {
  SPINEL_ASSIGN_OR_RETURN(std::string claims_json, DumpJson(claims));
  std::string token = StrCat(encoded_header, Base64UrlEncode(claims_json));
  SPINEL_ASSIGN_OR_RETURN(std::string signature, signer.Sign(token));
  StrAppend(&token, '.', Base64UrlEncode(signature));
  return token;
}

}  // namespace spinel::common
