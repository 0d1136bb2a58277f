// SecretData: bytes of a secret (private key DER/PEM, token material). The buffer is wiped
// with OPENSSL_cleanse when released, compared in constant time, and never printed: streaming
// it yields "[redacted]". Move-only, so secrets are not copied around by accident.
// WipeSecret is the one way to wipe secret bytes that must sit in a plain std::string (e.g. a
// protobuf field); nothing else in the tree calls OPENSSL_cleanse. Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <openssl/crypto.h>

namespace spinel::common {

// Overwrites every byte of `bytes` with OPENSSL_cleanse, also its spare capacity (which may
// hold an earlier, longer secret), and leaves it empty.
inline void WipeSecret(std::string& bytes) {
  bytes.resize(bytes.capacity());  // the spare capacity becomes bytes that can be wiped
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  bytes.clear();
}

class SecretData {
 public:
  SecretData() = default;
  // Copies `bytes`; the caller wipes its own copy.
  explicit SecretData(std::string_view bytes) : bytes_(bytes) {}
  // Takes over `bytes` without a copy and wipes what the move leaves in it (a short string's
  // bytes are copied, not moved).
  explicit SecretData(std::string&& bytes) : bytes_(std::move(bytes)) { WipeSecret(bytes); }
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
  void Wipe() { WipeSecret(bytes_); }

  std::string bytes_;
};

inline std::ostream& operator<<(std::ostream& os, const SecretData&) { return os << "[redacted]"; }

}  // namespace spinel::common
