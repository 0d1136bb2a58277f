// JWS (RFC 7515) compact-serialization primitives for JWT-SVIDs: the algorithm allow-list,
// splitting a compact token, and signing / verifying its signing input with the RFC 7518
// signature encodings:
//   ES256/384/512: raw R||S, each half the curve's field width (64 / 96 / 132 bytes in all),
//                  converted from and to OpenSSL's DER ECDSA-Sig-Value;
//   RS256/384/512: RSASSA-PKCS1-v1_5;
//   PS256/384/512: RSASSA-PSS, MGF1 with the same hash, salt length = hash length.
// Only these nine algorithms exist here: "none", HMAC (HS*), EdDSA and anything else cannot
// even be named, so no key confusion between them is possible.
//
// All functions and const methods are thread-safe. Errors are InvalidArgument for bad input
// (they never contain key material) and Internal for OpenSSL failures.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/keys.h"
#include "common/ssl_ptr.h"

namespace spinel::common {

enum class JwsAlgorithm { kRs256, kRs384, kRs512, kEs256, kEs384, kEs512, kPs256, kPs384, kPs512 };

// The allow-list: the algorithm named exactly (case-sensitive) `name`, or nullopt.
std::optional<JwsAlgorithm> JwsAlgorithmFromName(std::string_view name);
// "RS256", "ES256", ...
std::string_view JwsAlgorithmName(JwsAlgorithm alg);
// What Spinel signs with: ES256 (P-256), ES384 (P-384), ES512 (P-521), RS256 (RSA).
JwsAlgorithm DefaultJwsAlgorithm(KeyType type);
// OK when a key of `type` may be used with `alg`: ES256 needs P-256, ES384 P-384, ES512
// P-521, RS* and PS* RSA. InvalidArgument naming both otherwise.
absl::Status CheckJwsKeyType(JwsAlgorithm alg, KeyType type);

// The parts of a compact JWS "<header>.<payload>.<signature>" (still base64url-encoded);
// `signing_input` is "<header>.<payload>". Views point into the token.
struct CompactJws {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;
};
// Exactly three dot-separated segments; a five-segment JWE or anything else is rejected. The
// segments are not decoded here.
absl::StatusOr<CompactJws> SplitCompactJws(std::string_view token);

// Signs with one private key and one algorithm. Create() checks that they fit together.
// Sign() is const and safe to call from many threads at once.
class JwsSigner {
 public:
  static absl::StatusOr<JwsSigner> Create(const PrivateKey& key, JwsAlgorithm alg);

  JwsSigner(JwsSigner&&) noexcept = default;
  JwsSigner& operator=(JwsSigner&&) noexcept = default;

  // The JWS signature (raw bytes, not yet base64url) over `signing_input`.
  absl::StatusOr<std::string> Sign(std::string_view signing_input) const;
  JwsAlgorithm algorithm() const { return alg_; }

 private:
  JwsSigner(SslPtr<EVP_PKEY> key, JwsAlgorithm alg) : key_(std::move(key)), alg_(alg) {}
  SslPtr<EVP_PKEY> key_;  // shares the PrivateKey's EVP_PKEY (up-ref)
  JwsAlgorithm alg_;
};

// OK when `signature` (raw bytes) is a valid `alg` signature by `key` over `signing_input`;
// InvalidArgument when the key type does not fit `alg`, an ES* signature has the wrong length,
// or the signature does not verify.
absl::Status VerifyJwsSignature(JwsAlgorithm alg, const PublicKey& key,
                                std::string_view signing_input, std::string_view signature);

// ECDSA signature encodings: DER ECDSA-Sig-Value <-> raw R||S with `width`-byte halves
// (32 for P-256, 48 for P-384, 66 for P-521).
absl::StatusOr<std::string> EcdsaDerToRaw(std::string_view der, size_t width);
absl::StatusOr<std::string> EcdsaRawToDer(std::string_view raw);
// The field width in bytes of an EC key type; 0 for RSA.
size_t EcFieldBytes(KeyType type);

}  // namespace spinel::common
