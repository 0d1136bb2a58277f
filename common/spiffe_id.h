// SPIFFE IDs and trust domains, validated by every rule of the SPIFFE ID specification
// (shared/spec/spiffeid_cases.md). Parsing never normalises: an upper-case trust domain or a
// trailing slash is an error, not silently fixed, so IDs compare byte for byte with SPIRE and
// go-spiffe. Rejections carry an IdError naming the rule that was broken; the first problem met
// scanning left to right wins (the go-spiffe precedence).
//
// Length policy (the spec leaves it to implementations): IDs up to 2048 bytes and trust domains
// up to 255 bytes are accepted; longer ones are rejected with kTooLong.
//
// Values are immutable and cheap to copy; all functions are thread-safe.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace spinel::common {

inline constexpr size_t kMaxSpiffeIdLength = 2048;
inline constexpr size_t kMaxTrustDomainLength = 255;

enum class IdError {
  kEmpty,
  kWrongScheme,
  kMissingTrustDomain,
  kBadTrustDomainChar,
  kBadPathSegmentChar,
  kEmptySegment,
  kDotSegment,
  kTrailingSlash,
  kNoLeadingSlash,
  kTooLong,
};

// The rule text for an error, e.g. "path cannot contain empty segments".
std::string_view IdErrorMessage(IdError error);

// Raw checks, returning the first broken rule or nullopt when valid.
std::optional<IdError> CheckSpiffeId(std::string_view id);
std::optional<IdError> CheckTrustDomainName(std::string_view name);
// `path` is "" or starts with '/'.
std::optional<IdError> CheckPath(std::string_view path);
// A single segment without slashes.
std::optional<IdError> CheckPathSegment(std::string_view segment);

class TrustDomain {
 public:
  TrustDomain() = default;  // the zero value; empty()

  // Accepts a bare name ("example.org") or a SPIFFE ID ("spiffe://example.org/x", path
  // discarded). Anything containing ":/" is parsed as a SPIFFE ID.
  static absl::StatusOr<TrustDomain> Parse(std::string_view name_or_id);

  const std::string& name() const { return name_; }
  // "spiffe://<name>": the trust domain's own SPIFFE ID, used as bundle map keys.
  std::string IdString() const { return "spiffe://" + name_; }
  bool empty() const { return name_.empty(); }

  auto operator<=>(const TrustDomain&) const = default;

 private:
  explicit TrustDomain(std::string name) : name_(std::move(name)) {}
  friend class SpiffeId;
  std::string name_;
};

class SpiffeId {
 public:
  SpiffeId() = default;  // the zero value; empty()

  static absl::StatusOr<SpiffeId> Parse(std::string_view id);
  // `path` must be "" or start with '/'.
  static absl::StatusOr<SpiffeId> FromPath(const TrustDomain& td, std::string_view path);
  // Each segment is one path element without slashes.
  static absl::StatusOr<SpiffeId> FromSegments(const TrustDomain& td,
                                               const std::vector<std::string_view>& segments);
  // Returns this ID with `path` (starting with '/') appended.
  absl::StatusOr<SpiffeId> AppendPath(std::string_view path) const;

  const TrustDomain& trust_domain() const { return td_; }
  const std::string& path() const { return path_; }
  std::string ToString() const { return empty() ? std::string() : td_.IdString() + path_; }
  bool empty() const { return td_.empty(); }
  bool MemberOf(const TrustDomain& td) const { return !empty() && td_ == td; }

  auto operator<=>(const SpiffeId&) const = default;

 private:
  SpiffeId(TrustDomain td, std::string path) : td_(std::move(td)), path_(std::move(path)) {}
  TrustDomain td_;
  std::string path_;
};

}  // namespace spinel::common
