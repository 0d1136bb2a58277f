// The signing keys of an external token issuer (an organization's OpenID Connect provider), as
// a JWK Set (RFC 7517 §5), and a file holding one that is re-read when it changes.
//
// Parsing (JwkSet::Parse): the document is a JSON object (at most 1 MiB, no duplicate members)
// with a "keys" array. For each entry, which must be an object with a string "kty":
//  - skipped: a "use" other than "sig" (e.g. "enc"); a "kty" other than EC or RSA (OKP, oct:
//    symmetric keys are never used); an "alg" outside the JWS allow-list (common/jws.h:
//    RS/ES/PS 256/384/512), e.g. "EdDSA" or "HS256";
//  - an error: a non-string "use", "alg" or "kid", an "alg" that does not fit the key type, a
//    "kid" used twice, key members that are not a valid public key (jwk.h; a JWK with private
//    members is refused).
// A set with no usable key is an error, so a truncated or emptied file never replaces a good
// one. Errors are InvalidArgument naming the entry ("keys[2]: ..."), never key material.
//
// Key selection (JwkSet::Find) for a token's header: by exact "kid" when the header has one; a
// header without "kid" is accepted only when the set holds exactly one key. The key must fit the
// token's alg (and equal the JWK's "alg" when it has one).
//
// JwksFile keeps the last good JwkSet of one file. Refresh() compares the file's status (inode,
// size, modification and change times, nanoseconds) with the last read; when it differs, it
// reads the file and compares its SHA-256 with the last content, and re-parses only when the
// content changed. A file that cannot be read or parsed leaves the last good set in force and is
// reported by Refresh() and last_error() until a good version appears.
//
// Thread-safety: JwkSet is an immutable value. JwksFile's methods may be called from any thread;
// Current() hands out shared ownership, so a set stays valid for as long as a caller holds it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/jws.h"
#include "common/keys.h"
#include "common/mutex.h"

namespace spinel::common {

inline constexpr size_t kMaxJwksBytes = 1 << 20;

struct JwksKey {
  std::string kid;  // "" when the JWK has none
  PublicKey key;
  std::optional<JwsAlgorithm> algorithm;  // the JWK's "alg", when present
};

class JwkSet {
 public:
  static absl::StatusOr<JwkSet> Parse(std::string_view json);

  // The key that verifies a token whose header names `kid` (nullopt: no "kid") and `alg`.
  // NotFound when no key has that kid (or there is no kid and not exactly one key);
  // InvalidArgument when the key does not fit `alg`.
  absl::StatusOr<PublicKey> Find(std::optional<std::string_view> kid, JwsAlgorithm alg) const;

  const std::vector<JwksKey>& keys() const { return keys_; }

 private:
  explicit JwkSet(std::vector<JwksKey> keys) : keys_(std::move(keys)) {}
  std::vector<JwksKey> keys_;
};

class JwksFile {
 public:
  // Reads and parses `path`. The error of a file that cannot be read or parsed names the path.
  static absl::StatusOr<std::unique_ptr<JwksFile>> Open(std::string path);

  JwksFile(const JwksFile&) = delete;
  JwksFile& operator=(const JwksFile&) = delete;

  // Re-reads the file when it changed (see above). OK when the current set is the file's
  // content; otherwise the reason (the last good set stays in force).
  absl::Status Refresh();
  // The last good set (never null).
  std::shared_ptr<const JwkSet> Current() const;
  // The problem of the last Refresh, or OK.
  absl::Status last_error() const;
  // How many times a changed content was parsed successfully since Open (1 after Open).
  uint64_t generation() const;
  const std::string& path() const { return path_; }

 private:
  struct FileStatus {
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileStatus&) const = default;
  };

  explicit JwksFile(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<FileStatus> Stat() const;
  absl::Status RefreshLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  mutable Mutex mu_;
  std::optional<FileStatus> status_ ABSL_GUARDED_BY(mu_);  // of the last read
  std::string content_hash_ ABSL_GUARDED_BY(mu_);          // of the last good content
  std::shared_ptr<const JwkSet> current_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace spinel::common
