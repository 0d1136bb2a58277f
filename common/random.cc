#include "common/random.h"

#include <openssl/rand.h>

#include "common/ssl_error.h"

namespace spinel::common {
namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return SslError("RAND_bytes");
  }
  return out;
}

absl::StatusOr<std::string> RandomHex(size_t n) {
  absl::StatusOr<std::string> bytes = RandomBytes(n);
  if (!bytes.ok()) return bytes.status();
  return Hex(*bytes);
}

absl::StatusOr<std::string> RandomUuid() {
  absl::StatusOr<std::string> bytes = RandomBytes(16);
  if (!bytes.ok()) return bytes.status();
  (*bytes)[6] = static_cast<char>((static_cast<unsigned char>((*bytes)[6]) & 0x0f) | 0x40);
  (*bytes)[8] = static_cast<char>((static_cast<unsigned char>((*bytes)[8]) & 0x3f) | 0x80);
  std::string hex = Hex(*bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace spinel::common
