#include "common/spiffe_id.h"

#include "common/strings.h"

namespace spinel::common {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathChar(char c) { return IsTrustDomainChar(c) || (c >= 'A' && c <= 'Z'); }

absl::Status IdStatus(std::string_view what, std::string_view input, IdError error) {
  return absl::InvalidArgumentError(
      StrCat("invalid ", what, " ", Quote(input), ": ", IdErrorMessage(error)));
}

}  // namespace

std::string_view IdErrorMessage(IdError error) {
  switch (error) {
    case IdError::kEmpty:
      return "cannot be empty";
    case IdError::kWrongScheme:
      return "scheme is missing or invalid";
    case IdError::kMissingTrustDomain:
      return "trust domain is missing";
    case IdError::kBadTrustDomainChar:
      return "trust domain characters are limited to lowercase letters, numbers, dots, dashes, "
             "and underscores";
    case IdError::kBadPathSegmentChar:
      return "path segment characters are limited to letters, numbers, dots, dashes, and "
             "underscores";
    case IdError::kEmptySegment:
      return "path cannot contain empty segments";
    case IdError::kDotSegment:
      return "path cannot contain dot segments";
    case IdError::kTrailingSlash:
      return "path cannot have a trailing slash";
    case IdError::kNoLeadingSlash:
      return "path must have a leading slash";
    case IdError::kTooLong:
      return "too long (a SPIFFE ID is at most 2048 bytes and a trust domain at most 255)";
  }
  return "unknown error";
}

std::optional<IdError> CheckTrustDomainName(std::string_view name) {
  if (name.empty()) return IdError::kMissingTrustDomain;
  for (char c : name) {
    if (!IsTrustDomainChar(c)) return IdError::kBadTrustDomainChar;
  }
  if (name.size() > kMaxTrustDomainLength) return IdError::kTooLong;
  return std::nullopt;
}

std::optional<IdError> CheckPathSegment(std::string_view segment) {
  if (segment.empty()) return IdError::kEmptySegment;
  if (segment == "." || segment == "..") return IdError::kDotSegment;
  for (char c : segment) {
    if (!IsPathChar(c)) return IdError::kBadPathSegmentChar;
  }
  return std::nullopt;
}

std::optional<IdError> CheckPath(std::string_view path) {
  if (path.empty()) return std::nullopt;
  if (path[0] != '/') return IdError::kNoLeadingSlash;
  // Scan left to right; at each '/' (and at the end) judge the segment just finished.
  size_t segment_start = 1;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') {
      if (!IsPathChar(path[i])) return IdError::kBadPathSegmentChar;
      continue;
    }
    std::string_view segment = path.substr(segment_start, i - segment_start);
    if (segment.empty()) {
      return i == path.size() ? IdError::kTrailingSlash : IdError::kEmptySegment;
    }
    if (segment == "." || segment == "..") return IdError::kDotSegment;
    segment_start = i + 1;
  }
  return std::nullopt;
}

std::optional<IdError> CheckSpiffeId(std::string_view id) {
  if (id.empty()) return IdError::kEmpty;
  if (id.substr(0, kScheme.size()) != kScheme) return IdError::kWrongScheme;
  std::string_view rest = id.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  for (char c : authority) {
    if (!IsTrustDomainChar(c)) return IdError::kBadTrustDomainChar;
  }
  if (authority.empty()) return IdError::kMissingTrustDomain;
  if (slash != std::string_view::npos) {
    if (auto err = CheckPath(rest.substr(slash))) return err;
  }
  if (authority.size() > kMaxTrustDomainLength || id.size() > kMaxSpiffeIdLength) {
    return IdError::kTooLong;
  }
  return std::nullopt;
}

absl::StatusOr<TrustDomain> TrustDomain::Parse(std::string_view name_or_id) {
  if (name_or_id.find(":/") != std::string_view::npos) {
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(name_or_id);
    if (!id.ok()) return id.status();
    return id->trust_domain();
  }
  if (auto err = CheckTrustDomainName(name_or_id)) {
    return IdStatus("trust domain", name_or_id, *err);
  }
  return TrustDomain(std::string(name_or_id));
}

absl::StatusOr<SpiffeId> SpiffeId::Parse(std::string_view id) {
  if (auto err = CheckSpiffeId(id)) return IdStatus("SPIFFE ID", id, *err);
  std::string_view rest = id.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  return SpiffeId(TrustDomain(std::string(rest.substr(0, slash))), std::string(path));
}

absl::StatusOr<SpiffeId> SpiffeId::FromPath(const TrustDomain& td, std::string_view path) {
  if (td.empty()) return absl::InvalidArgumentError("trust domain is empty");
  if (auto err = CheckPath(path)) return IdStatus("SPIFFE ID path", path, *err);
  if (kScheme.size() + td.name().size() + path.size() > kMaxSpiffeIdLength) {
    return IdStatus("SPIFFE ID path", path, IdError::kTooLong);
  }
  return SpiffeId(td, std::string(path));
}

absl::StatusOr<SpiffeId> SpiffeId::FromSegments(const TrustDomain& td,
                                                const std::vector<std::string_view>& segments) {
  std::string path;
  for (std::string_view segment : segments) {
    if (auto err = CheckPathSegment(segment)) return IdStatus("path segment", segment, *err);
    StrAppend(&path, "/", segment);
  }
  return FromPath(td, path);
}

absl::StatusOr<SpiffeId> SpiffeId::AppendPath(std::string_view path) const {
  if (empty()) return absl::InvalidArgumentError("cannot append path on a zero ID value");
  if (path.empty()) return *this;
  if (auto err = CheckPath(path)) return IdStatus("SPIFFE ID path", path, *err);
  return FromPath(td_, path_ + std::string(path));
}

}  // namespace spinel::common
