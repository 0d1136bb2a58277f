#include "trust-zones/pattern.h"

#include <bitset>

#include "common/strings.h"

namespace spinel::zones {
namespace {

using common::Quote;
using common::StrCat;

absl::Status PatternError(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("invalid pattern ", Quote(text), ": ", why));
}

// Positions 0..n of the name that the tokens seen so far can end at.
using Reach = std::bitset<kMaxResourceNameLength + 1>;

}  // namespace

absl::StatusOr<Pattern> Pattern::Compile(std::string_view text) {
  if (text.empty()) return PatternError(text, "must not be empty");
  if (text.size() > kMaxResourceNameLength) return PatternError(text, "too long");
  Pattern p;
  p.text_ = std::string(text);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c <= 0x20 || c >= 0x7f) {
      return PatternError(text, "only printable ASCII without spaces is allowed");
    }
    if (c == '*') {
      size_t run = text.find_first_not_of('*', i);
      run = (run == std::string_view::npos ? text.size() : run) - i;
      if (run > 2) return PatternError(text, "use '*' or '**', not three or more '*' in a row");
      p.tokens_.push_back({run == 1 ? Op::kStar : Op::kDoubleStar, ""});
      p.literal_only_ = false;
      i += run;
    } else if (c == '?') {
      p.tokens_.push_back({Op::kAnyChar, ""});
      p.literal_only_ = false;
      ++i;
    } else {
      if (p.tokens_.empty() || p.tokens_.back().op != Op::kLiteral) {
        p.tokens_.push_back({Op::kLiteral, ""});
      }
      p.tokens_.back().literal.push_back(c);
      ++i;
    }
  }
  return p;
}

bool Pattern::Matches(std::string_view name) const {
  if (name.size() > kMaxResourceNameLength || tokens_.empty()) return false;
  if (literal_only_) return name == text_;
  const size_t n = name.size();
  Reach cur;
  Reach next;
  cur[0] = true;
  for (const Token& token : tokens_) {
    next.reset();
    switch (token.op) {
      case Op::kLiteral: {
        const size_t len = token.literal.size();
        for (size_t i = 0; i + len <= n; ++i) {
          if (cur[i] && name.compare(i, len, token.literal) == 0) next[i + len] = true;
        }
        break;
      }
      case Op::kAnyChar:
        for (size_t i = 0; i < n; ++i) {
          if (cur[i] && name[i] != '/') next[i + 1] = true;
        }
        break;
      case Op::kStar:
      case Op::kDoubleStar: {
        const bool crosses_slash = token.op == Op::kDoubleStar;
        bool reachable = false;
        for (size_t j = 0; j <= n; ++j) {
          reachable = reachable || cur[j];
          next[j] = reachable;
          if (j < n && name[j] == '/' && !crosses_slash) reachable = false;
        }
        break;
      }
    }
    if (next.none()) return false;
    cur = next;
  }
  return cur[n];
}

}  // namespace spinel::zones
