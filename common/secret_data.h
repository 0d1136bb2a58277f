// SecretData: bytes of a secret (private key DER/PEM, token material). The buffer is wiped
// with OPENSSL_cleanse when released, compared in constant time, and never printed: streaming
// it yields "[redacted]". Move-only, so secrets are not copied around by accident.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <openssl/crypto.h>

namespace spinel::common {

class SecretData {
 public:
  SecretData() = default;
  explicit SecretData(std::string_view bytes) : bytes_(bytes) {}
  SecretData(const uint8_t* data, size_t size)
      : bytes_(reinterpret_cast<const char*>(data), size) {}
  ~SecretData() { Wipe(); }

  SecretData(SecretData&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Wipe(); }
  SecretData& operator=(SecretData&& other) noexcept {
    if (this != &other) {
      Wipe();
      bytes_ = std::move(other.bytes_);
      other.Wipe();
    }
    return *this;
  }
  SecretData(const SecretData&) = delete;
  SecretData& operator=(const SecretData&) = delete;

  // Explicit copy, for the rare place that must hold two owners (e.g. a cache and a response).
  SecretData Clone() const { return SecretData(bytes_); }

  // The secret bytes. Callers must not log them.
  std::string_view view() const { return bytes_; }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(bytes_.data()); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // Constant-time equality.
  bool Equals(const SecretData& other) const {
    return bytes_.size() == other.bytes_.size() &&
           CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
  }

 private:
  void Wipe() {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    // Also wipe spare capacity that may hold an earlier, longer secret.
    bytes_.resize(bytes_.capacity());
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
  }

  std::string bytes_;
};

inline std::ostream& operator<<(std::ostream& os, const SecretData&) { return os << "[redacted]"; }

}  // namespace spinel::common
