// JSON Web Key (RFC 7517, RFC 7518 §6) encoding of public keys, for SPIFFE bundles.
//
//  EC:  {"kty":"EC","crv":"P-256"|"P-384"|"P-521","x":..,"y":..}  coordinates base64url,
//       unpadded, exactly the curve's field width (32 / 48 / 66 bytes) as RFC 7518 §6.2.1.2
//       requires.
//  RSA: {"kty":"RSA","n":..,"e":..}  big-endian unsigned integers, base64url, unpadded.
//
// Keys are built from JWK members with OpenSSL 3 EVP_PKEY_fromdata only and then checked:
// EC points must lie on the curve (EVP_PKEY_public_check); RSA moduli must be odd and
// 2048..8192 bits, exponents odd, > 1 and at most 64 bits. Members other than the key
// parameters ("use", "kid", "x5c", ...) are ignored here; a JWK carrying private key members
// ("d", "p", "q", ...) is rejected, so a private key never travels as "public".
//
// Errors: InvalidArgument naming the member that is wrong (never its value, which may be key
// material); Unimplemented for a "kty" other than "EC" or "RSA" (callers such as the bundle
// parser skip those JWKs). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/keys.h"

namespace spinel::common {

// True for the "kty" values PublicKeyFromJwk understands: "EC" and "RSA".
bool IsSupportedJwkKty(std::string_view kty);

// The key members of `key` as a JSON object (no "use"/"kid"; callers add those).
absl::StatusOr<nlohmann::json> PublicKeyToJwk(const PublicKey& key);

// Builds a public key from the key members of the JWK object `jwk`.
absl::StatusOr<PublicKey> PublicKeyFromJwk(const nlohmann::json& jwk);

}  // namespace spinel::common
