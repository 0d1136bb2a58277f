// Encoding and signing of a compact JWT (RFC 7519 claims in an RFC 7515 compact JWS), the
// counterpart of jwt_decode.h, shared by the token signers (JWT-SVID, WIT-SVID, delegation
// token, Workload Proof Token): the encoded protected header, computed once per signer, and
// the signed token.
//
// All functions are thread-safe (JwsSigner::Sign is const).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/jws.h"

namespace spinel::common {

// "<b64u(header JSON)>." for the header {"alg": alg, "kid": kid, "typ": typ} (no "kid" when
// `kid` is empty), the prefix SignJwt takes. Errors: DumpJson's.
absl::StatusOr<std::string> EncodeJwtHeader(JwsAlgorithm alg, std::string_view kid,
                                            std::string_view typ);

// `encoded_header` + b64u(claims JSON) + "." + b64u(signer's signature over the two). Errors:
// DumpJson's or the signer's.
absl::StatusOr<std::string> SignJwt(const JwsSigner& signer, std::string_view encoded_header,
                                    const nlohmann::json& claims);

}  // namespace spinel::common
