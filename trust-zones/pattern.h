// Glob patterns for resource names in zone rules ("training/*", "deploy.*", "docs/**").
//
//   *    any run of characters except '/' (it crosses '.', so "deploy.*" matches
//        "deploy.api.v2", but "training/*" does not match "training/a/b")
//   **   any run of characters including '/' ("training/**" matches "training/a/b")
//   ?    exactly one character other than '/'
//
// Every other character matches itself: there are no character classes and no escapes, and
// matching is case-sensitive and anchored at both ends (the whole name must match). A run of
// three or more '*' is rejected as ambiguous. Pattern text is printable ASCII without spaces.
//
// Matching is O(tokens x name length) with no heap allocation (a fixed-size bit set on the
// stack), so it is safe on the authorization hot path. Names longer than kMaxResourceNameLength
// never match. Immutable after Compile; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace spinel::zones {

// Longest resource name the policy will consider; longer names are denied.
inline constexpr size_t kMaxResourceNameLength = 1024;

class Pattern {
 public:
  // An empty pattern; it matches nothing (resource names are never empty).
  Pattern() = default;

  // Compiles `text`; the error names the text and the rule broken.
  static absl::StatusOr<Pattern> Compile(std::string_view text);

  bool Matches(std::string_view name) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op : uint8_t { kLiteral, kAnyChar, kStar, kDoubleStar };
  struct Token {
    Op op;
    std::string literal;  // kLiteral only
  };

  std::string text_;
  std::vector<Token> tokens_;
  bool literal_only_ = true;
};

}  // namespace spinel::zones
