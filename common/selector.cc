#include "common/selector.h"

#include <algorithm>

#include "common/strings.h"

namespace spinel::common {
namespace {

bool IsTypeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool IsValueChar(char c) { return c > 0x20 && c < 0x7f; }

absl::Status SelectorError(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("invalid selector ", Quote(text), ": ", why));
}

}  // namespace

absl::StatusOr<Selector> Selector::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return SelectorError(text, "expected type:value");
  std::string_view type = text.substr(0, colon);
  std::string_view value = text.substr(colon + 1);
  if (type.empty()) return SelectorError(text, "type is empty");
  if (!std::all_of(type.begin(), type.end(), IsTypeChar)) {
    return SelectorError(text, "type may contain only a-z, 0-9, '_' and '-'");
  }
  if (value.empty()) return SelectorError(text, "value is empty");
  if (!std::all_of(value.begin(), value.end(), IsValueChar)) {
    return SelectorError(text, "value may contain only printable ASCII without spaces");
  }
  return Selector{std::string(type), std::string(value)};
}

void Normalize(SelectorSet& selectors) {
  std::sort(selectors.begin(), selectors.end());
  selectors.erase(std::unique(selectors.begin(), selectors.end()), selectors.end());
}

bool IsSubset(const SelectorSet& required, const SelectorSet& have) {
  return std::includes(have.begin(), have.end(), required.begin(), required.end());
}

}  // namespace spinel::common
