// String building for messages. StrCat/StrAppend take std::string_view: Debian's abseil is built
// with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat does not take
// std::string_view; this does. Accepts anything convertible to std::string_view, plus integers and
// chars.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace spinel::common {

namespace str_cat_internal {
inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, char c) { out.push_back(c); }
// absl::Status::message() returns absl::string_view, a distinct type on this platform. A
// constrained template, so string literals and std::string still pick the overload above.
template <typename T>
requires(std::same_as<T, absl::string_view> &&
         !std::same_as<T, std::string_view>) void Append(std::string& out, const T& s) {
  out.append(s.data(), s.size());
}
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void Append(std::string& out, T v) {
  out.append(std::to_string(v));
}
}  // namespace str_cat_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (str_cat_internal::Append(out, args), ...);
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (str_cat_internal::Append(*out, args), ...);
}

// `text` with the ASCII letters A-Z lower-cased; every other byte unchanged (no locale).
std::string AsciiLower(std::string_view text);

// Quotes untrusted input for an error or log message: wrapped in double quotes, non-printable
// bytes, quotes and backslashes C-escaped, cut to `max_bytes` of input (then "...").
std::string Quote(std::string_view input, size_t max_bytes = 96);

}  // namespace spinel::common
