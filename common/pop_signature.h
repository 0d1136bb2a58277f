// Proof of possession for x509pop node attestation: the node signs the server's fresh nonce
// with its node key (SHA-256; ECDSA signatures DER-encoded, RSA PKCS#1 v1.5), the server checks
// it with the public key of the node certificate. Both sides use these two functions, so they
// always agree on the encoding. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/keys.h"

namespace spinel::common {

absl::StatusOr<std::string> SignPossessionProof(const PrivateKey& key, std::string_view nonce);
// PermissionDenied when the signature does not verify.
absl::Status VerifyPossessionProof(const PublicKey& key, std::string_view nonce,
                                   std::string_view signature);

}  // namespace spinel::common
