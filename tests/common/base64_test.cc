#include "common/base64.h"

#include <doctest/doctest.h>

#include <string>

using spinel::common::Base64Decode;
using spinel::common::Base64Encode;
using spinel::common::Base64UrlDecode;
using spinel::common::Base64UrlEncode;

namespace {

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("base64 encodes the RFC 4648 section 10 test vectors") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(Base64Encode(plain) == encoded);
    CHECK(*Base64Decode(encoded) == plain);
    std::string unpadded = encoded.substr(0, encoded.find('='));
    CHECK(Base64UrlEncode(plain) == unpadded);
    CHECK(*Base64UrlDecode(unpadded) == plain);
  }
}

TEST_CASE("base64url uses - and _ where base64 uses + and /") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(Base64Encode(bytes) == "+/+/");
  CHECK(Base64UrlEncode(bytes) == "-_-_");
  CHECK(*Base64UrlDecode("-_-_") == bytes);
  CHECK(*Base64Decode("+/+/") == bytes);
}

TEST_CASE("every byte value and length round-trips through both codecs") {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data.push_back(static_cast<char>((i * 37 + 11) & 0xff));
    CHECK(*Base64Decode(Base64Encode(data)) == data);
    CHECK(*Base64UrlDecode(Base64UrlEncode(data)) == data);
  }
}

TEST_CASE("base64url decoding is strict") {
  SUBCASE("padding is rejected") {
    auto r = Base64UrlDecode("Zg==");
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(r.status()).find("padding") != std::string::npos);
    CHECK_FALSE(Base64UrlDecode("Zm8=").ok());
  }
  SUBCASE("the standard alphabet's + and / are rejected") {
    CHECK_FALSE(Base64UrlDecode("+/+/").ok());
    CHECK_FALSE(Base64UrlDecode("ab+c").ok());
  }
  SUBCASE("whitespace and other bytes are rejected") {
    CHECK_FALSE(Base64UrlDecode("Zm9v\n").ok());
    CHECK_FALSE(Base64UrlDecode("Zm 9v").ok());
    CHECK_FALSE(Base64UrlDecode("Zm9v.").ok());
    CHECK_FALSE(Base64UrlDecode(std::string("Zm\0v", 4)).ok());
    CHECK_FALSE(Base64UrlDecode("Zm\xc3\xa9v").ok());
  }
  SUBCASE("a length of 4n+1 is rejected") {
    CHECK_FALSE(Base64UrlDecode("Z").ok());
    CHECK_FALSE(Base64UrlDecode("Zm9vY").ok());
  }
  SUBCASE("non-zero unused bits are rejected") {
    CHECK(Base64UrlDecode("Zg").ok());
    CHECK_FALSE(Base64UrlDecode("Zh").ok());
    CHECK(Base64UrlDecode("Zm8").ok());
    CHECK_FALSE(Base64UrlDecode("Zm9").ok());
  }
  SUBCASE("errors name the offset, not the input") {
    auto r = Base64UrlDecode("c2VjcmV0LWtleQ*");
    REQUIRE_FALSE(r.ok());
    CHECK(Message(r.status()).find("offset 14") != std::string::npos);
    CHECK(Message(r.status()).find("c2Vjc") == std::string::npos);
  }
  CHECK(Base64UrlDecode("")->empty());
}

TEST_CASE("standard base64 decoding is strict") {
  CHECK_FALSE(Base64Decode("Zg").ok());     // missing padding
  CHECK_FALSE(Base64Decode("Zg=").ok());    // wrong length
  CHECK_FALSE(Base64Decode("Zg===").ok());  // too much padding
  CHECK_FALSE(Base64Decode("Z===").ok());
  CHECK_FALSE(Base64Decode("====").ok());
  CHECK_FALSE(Base64Decode("Zg==Zg==").ok());  // padding in the middle
  CHECK_FALSE(Base64Decode("-_-_").ok());      // url alphabet
  CHECK_FALSE(Base64Decode("Zm9v\nYmFy").ok());
  CHECK_FALSE(Base64Decode("Zh==").ok());  // non-canonical
  CHECK_FALSE(Base64Decode("Zm9=").ok());
  CHECK(*Base64Decode("Zm8=") == "fo");
}
