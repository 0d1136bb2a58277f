// Private keys as JSON Web Keys (RFC 7517, RFC 7518 §6.2.2), and JWK thumbprints (RFC 7638).
//
// The Workload API's WITSVID.wit_svid_key is "the private key as an RFC 7517 JWK"
// (shared/spec/wimse.md §2). Spinel writes it as the private half of the WIT-SVID's cnf.jwk
// (§2 [Impl]): {"kty":"EC","crv":..,"x":..,"y":..,"d":..,"alg":..} with the same public
// members as cnf.jwk and "alg" equal to cnf.jwk.alg. Only EC keys (P-256/384/521) are written
// or read here: the agent generates EC keys, and an RSA private JWK is refused (Unimplemented).
// The JSON text lives only in SecretData; errors never contain key material.
//
// JwkThumbprint: b64u(SHA-256(the required members of the public JWK, lexicographically
// ordered, no whitespace)): {"crv","kty","x","y"} for EC, {"e","kty","n"} for RSA.
//
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/jws.h"
#include "common/keys.h"
#include "common/secret_data.h"

namespace spinel::common {

// The private JWK of `key` with "alg" = `alg`. InvalidArgument when `alg` does not fit the
// key; Unimplemented for RSA.
absl::StatusOr<SecretData> PrivateKeyToJwk(const PrivateKey& key, JwsAlgorithm alg);

// The key of a private EC JWK (JSON text). InvalidArgument naming the member that is missing
// or wrong, or when the public members are not the private key's; Unimplemented for other kty.
absl::StatusOr<PrivateKey> PrivateKeyFromJwk(std::string_view jwk_json);

// RFC 7638 thumbprint (SHA-256, base64url) of `key`.
absl::StatusOr<std::string> JwkThumbprint(const PublicKey& key);

}  // namespace spinel::common
