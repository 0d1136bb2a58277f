// Asymmetric keys (OpenSSL 3 EVP only). Spinel generates ECDSA P-256 keys by default
// (P-384 on request); for verification it also accepts RSA keys of at least 2048 bits.
// Private keys travel only as PKCS#8 (DER or PEM) inside SecretData, which is wiped on release
// and never printed. PrivateKey is move-only; PublicKey is cheap to copy (reference-counted).
// Both are safe to use from several threads at once (EVP_PKEY is read-only after creation).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_data.h"
#include "common/ssl_ptr.h"

namespace spinel::common {

enum class KeyType { kEcP256, kEcP384, kEcP521, kRsa };

// "EC P-256", "EC P-384", "EC P-521", "RSA".
std::string_view KeyTypeName(KeyType type);

class PublicKey {
 public:
  // Takes a reference to `pkey` (up-ref); rejects unsupported types and RSA < 2048 bits.
  static absl::StatusOr<PublicKey> FromEvp(EVP_PKEY* pkey);
  // SubjectPublicKeyInfo DER / PEM ("PUBLIC KEY").
  static absl::StatusOr<PublicKey> FromSpkiDer(std::string_view der);
  static absl::StatusOr<PublicKey> FromPem(std::string_view pem);

  PublicKey(const PublicKey& other);
  PublicKey& operator=(const PublicKey& other);
  PublicKey(PublicKey&&) noexcept = default;
  PublicKey& operator=(PublicKey&&) noexcept = default;

  absl::StatusOr<std::string> ToSpkiDer() const;
  absl::StatusOr<std::string> ToPem() const;
  KeyType type() const { return type_; }
  bool Equals(const PublicKey& other) const;
  // Borrowed; owned by this object.
  EVP_PKEY* evp() const { return pkey_.get(); }

 private:
  PublicKey(SslPtr<EVP_PKEY> pkey, KeyType type) : pkey_(std::move(pkey)), type_(type) {}
  SslPtr<EVP_PKEY> pkey_;
  KeyType type_;
};

class PrivateKey {
 public:
  // Generates a fresh key; only the EC types can be generated.
  static absl::StatusOr<PrivateKey> Generate(KeyType type = KeyType::kEcP256);
  // PKCS#8 DER / PEM ("PRIVATE KEY"). Errors never echo key bytes.
  static absl::StatusOr<PrivateKey> FromPkcs8Der(std::string_view der);
  static absl::StatusOr<PrivateKey> FromPem(std::string_view pem);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;

  // Another owner of the same key (the EVP_PKEY is shared and immutable).
  PrivateKey Clone() const;

  absl::StatusOr<SecretData> ToPkcs8Der() const;
  absl::StatusOr<SecretData> ToPkcs8Pem() const;
  absl::StatusOr<PublicKey> Public() const;
  KeyType type() const { return type_; }
  // Borrowed; owned by this object.
  EVP_PKEY* evp() const { return pkey_.get(); }

 private:
  PrivateKey(SslPtr<EVP_PKEY> pkey, KeyType type) : pkey_(std::move(pkey)), type_(type) {}
  SslPtr<EVP_PKEY> pkey_;
  KeyType type_;
};

// The digest Spinel signs with for a key type: SHA-256 (P-256, RSA), SHA-384 (P-384),
// SHA-512 (P-521).
const EVP_MD* DefaultDigest(KeyType type);

}  // namespace spinel::common
