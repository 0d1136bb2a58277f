#include "common/base64.h"

#include <array>
#include <cstdint>

#include "common/strings.h"

namespace spinel::common {
namespace {

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

using DecodeTable = std::array<int8_t, 256>;

constexpr DecodeTable MakeDecodeTable(const char* alphabet) {
  DecodeTable table{};
  for (int8_t& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr DecodeTable kStdTable = MakeDecodeTable(kStdAlphabet);
constexpr DecodeTable kUrlTable = MakeDecodeTable(kUrlAlphabet);

std::string Encode(std::string_view data, const char* alphabet, bool pad) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8 | p[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const size_t rest = n - i;
  if (rest == 0) return out;
  const uint32_t v = uint32_t{p[i]} << 16 | (rest == 2 ? uint32_t{p[i + 1]} << 8 : 0);
  out += alphabet[v >> 18];
  out += alphabet[(v >> 12) & 63];
  if (rest == 2) out += alphabet[(v >> 6) & 63];
  if (pad) out.append(rest == 1 ? "==" : "=");
  return out;
}

absl::Status BadChar(std::string_view codec, size_t offset, char c) {
  if (c == '=') {
    return absl::InvalidArgumentError(StrCat(codec, ": unexpected '=' padding at offset ", offset));
  }
  return absl::InvalidArgumentError(StrCat(codec, ": invalid character at offset ", offset));
}

// Decodes unpadded `text` (its length must not be 4n+1) over `table`.
absl::StatusOr<std::string> DecodeUnpadded(std::string_view text, const DecodeTable& table,
                                           std::string_view codec) {
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError(StrCat(codec, ": invalid length ", text.size()));
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int8_t v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) return BadChar(codec, i, text[i]);
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // 2 or 4 bits are left over after a partial group; they must be zero.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError(StrCat(codec, ": non-canonical final character"));
  }
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view data) { return Encode(data, kUrlAlphabet, false); }

absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  return DecodeUnpadded(text, kUrlTable, "base64url");
}

std::string Base64Encode(std::string_view data) { return Encode(data, kStdAlphabet, true); }

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        StrCat("base64: length ", text.size(), " is not a multiple of 4"));
  }
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  // A third '=' (or one in the middle) is reported as a bad character by the decoder.
  return DecodeUnpadded(text.substr(0, text.size() - padding), kStdTable, "base64");
}

}  // namespace spinel::common
