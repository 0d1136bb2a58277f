// Cryptographically secure random values (OpenSSL RAND_bytes): for tokens, key ids, nonces
// and identifiers. Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace spinel::common {

// `n` random bytes. Internal error if the generator fails (it should never).
absl::StatusOr<std::string> RandomBytes(size_t n);
// `n` random bytes as 2n lower-case hex characters.
absl::StatusOr<std::string> RandomHex(size_t n);
// A random RFC 4122 version-4 UUID, e.g. "3f0c6a9e-8d2b-4c1e-9a57-0e2b5c7d9f10".
absl::StatusOr<std::string> RandomUuid();

}  // namespace spinel::common
