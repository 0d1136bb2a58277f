// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) in and out of OpenSSL objects on the hot path of
// SVID issuance.
//
// Why this exists: OpenSSL 3.0 decodes and encodes provider keys through OSSL_DECODER /
// OSSL_ENCODER, building a decoder chain on every call. On this platform d2i_PUBKEY costs
// ~240 us and X509_set_pubkey ~300 us, against ~45 us for an ECDSA P-256 signature. For EC
// keys (what Spinel generates and what SPIFFE workloads use) these functions go through
// OSSL_PARAM accessors instead (~5 us): the curve comes from the algorithm parameters, the
// point is validated to be on the curve by OpenSSL when it is set. Other key types take
// OpenSSL's generic (slow) path, so every key keys.h supports works.
//
// All functions are thread-safe. Errors: InvalidArgument for malformed or unsupported input,
// Internal for OpenSSL failures.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/keys.h"
#include "common/ssl_ptr.h"

namespace spinel::common {

struct SpkiKey {
  PublicKey key;
  // The canonical DER SubjectPublicKeyInfo of `key` (re-encoded, not the input bytes).
  std::string der;
};

// Parses a DER SubjectPublicKeyInfo (exactly one; trailing bytes are an error). Equivalent to
// PublicKey::FromSpkiDer plus ToSpkiDer, much faster for EC P-256/P-384/P-521 keys with
// named curves. The point must be on the curve; the point at infinity is rejected.
absl::StatusOr<SpkiKey> ParseSpki(std::string_view der);

// The DER SubjectPublicKeyInfo of (the public half of) `key`. Equivalent to i2d_PUBKEY,
// faster for EC keys.
absl::StatusOr<std::string> EncodeSpki(EVP_PKEY* key);

// Writes the public half of `key` as the subjectPublicKeyInfo of an unsigned request. For EC
// keys the X509_REQ then holds only the encoded key, not a decoded EVP_PKEY
// (X509_REQ_get0_pubkey() returns null): use it only for requests that are signed and
// serialized, never handed out as parsed objects.
absl::Status SetRequestPublicKey(X509_REQ* req, EVP_PKEY* key);

}  // namespace spinel::common
