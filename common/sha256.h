// SHA-256 through OpenSSL EVP, as lower-case hex: one-shot (Sha256Hex) or incremental
// (Sha256). Used for join-token hashes, x509pop CA fingerprints, approval context digests,
// the audit hash chain and executable digests. Thread-safe (a Sha256 object is used by one
// thread at a time).
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/ssl_ptr.h"

namespace spinel::common {

inline constexpr size_t kSha256HexLength = 64;

// Internal when OpenSSL fails (in practice only on allocation failure).
absl::StatusOr<std::string> Sha256Hex(std::string_view data);

// True for exactly 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);

// An incremental SHA-256: Start, Update any number of times, then FinishHex once.
class Sha256 {
 public:
  static absl::StatusOr<Sha256> Start();
  absl::Status Update(std::string_view data);
  absl::StatusOr<std::string> FinishHex();

 private:
  explicit Sha256(SslPtr<EVP_MD_CTX> ctx) : ctx_(std::move(ctx)) {}
  SslPtr<EVP_MD_CTX> ctx_;
};

}  // namespace spinel::common
