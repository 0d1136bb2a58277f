// SHA-256 as lower-case hex, via OpenSSL EVP (used for approval context digests and the audit
// hash chain). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace spinel::zones {

inline constexpr size_t kSha256HexLength = 64;

// Internal when OpenSSL fails (in practice only on allocation failure).
absl::StatusOr<std::string> Sha256Hex(std::string_view data);

// True for exactly 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);

}  // namespace spinel::zones
