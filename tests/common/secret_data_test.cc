#include "common/secret_data.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>

using spinel::common::SecretData;
using spinel::common::WipeSecret;

namespace {

// True when the `size` bytes at `bytes` are all zero.
bool AllZero(const char* bytes, size_t size) {
  return std::all_of(bytes, bytes + size, [](char c) { return c == '\0'; });
}

}  // namespace

TEST_CASE("WipeSecret zeroes the bytes and the spare capacity in place, and empties") {
  std::string key(100, 'k');
  key.resize(10);  // 90 bytes of the earlier, longer secret now sit in the spare capacity
  const char* buffer = key.data();
  const size_t capacity = key.capacity();
  REQUIRE(capacity >= 100);
  WipeSecret(key);
  CHECK(key.empty());
  CHECK(key.data() == buffer);  // wiped where it was, not moved away from
  CHECK(key.capacity() == capacity);
  CHECK(AllZero(buffer, capacity));

  std::string empty;
  WipeSecret(empty);
  CHECK(empty.empty());
}

TEST_CASE("SecretData takes a moved string's buffer and wipes what the move leaves") {
  std::string long_key(64, 'L');
  const char* buffer = long_key.data();
  SecretData taken(std::move(long_key));
  CHECK(taken.view() == std::string(64, 'L'));
  CHECK(taken.view().data() == buffer);  // no copy of the bytes was made

  std::string short_key = "short";  // kept inline: the move copies it
  const char* inline_buffer = short_key.data();
  SecretData copied(std::move(short_key));
  CHECK(copied.view() == "short");
  CHECK(short_key.empty());
  CHECK(AllZero(inline_buffer, 5));
}

TEST_CASE("SecretData compares in constant time and never prints its bytes") {
  SecretData a(std::string_view("same bytes"));
  SecretData b(std::string_view("same bytes"));
  SecretData c(std::string_view("other byte"));
  CHECK(a.Equals(b));
  CHECK_FALSE(a.Equals(c));
  CHECK_FALSE(a.Equals(SecretData(std::string_view("same"))));
  std::ostringstream printed;
  printed << a;
  CHECK(printed.str() == "[redacted]");
  SecretData moved(std::move(a));
  CHECK(moved.view() == "same bytes");
  CHECK(a.empty());
}
