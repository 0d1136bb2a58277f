#include "common/sha256.h"

#include <doctest/doctest.h>

#include <string>

using spinel::common::IsSha256Hex;
using spinel::common::Sha256;
using spinel::common::Sha256Hex;

namespace {

// FIPS 180-2 test vectors.
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kTwoBlocks[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kTwoBlocksInput[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

TEST_CASE("Sha256Hex: the FIPS 180-2 test vectors") {
  CHECK(*Sha256Hex("abc") == kAbc);
  CHECK(*Sha256Hex("") == kEmpty);
  CHECK(*Sha256Hex(kTwoBlocksInput) == kTwoBlocks);
  CHECK(*Sha256Hex(std::string("a\0b", 3)) != *Sha256Hex("ab"));  // binary input, not C strings
}

TEST_CASE("Sha256: incremental updates give the one-shot digest") {
  absl::StatusOr<Sha256> sha = Sha256::Start();
  REQUIRE(sha.ok());
  const std::string input = kTwoBlocksInput;
  for (size_t at = 0; at < input.size(); at += 7) REQUIRE(sha->Update(input.substr(at, 7)).ok());
  CHECK(*sha->FinishHex() == kTwoBlocks);

  absl::StatusOr<Sha256> nothing = Sha256::Start();
  REQUIRE(nothing.ok());
  CHECK(*nothing->FinishHex() == kEmpty);
}

TEST_CASE("IsSha256Hex: exactly 64 lower-case hex digits") {
  CHECK(IsSha256Hex(kAbc));
  CHECK_FALSE(IsSha256Hex(""));
  CHECK_FALSE(IsSha256Hex(std::string(kAbc).substr(1)));
  CHECK_FALSE(IsSha256Hex(std::string(kAbc) + "0"));
  std::string upper = kAbc;
  upper[0] = 'B';
  CHECK_FALSE(IsSha256Hex(upper));
  std::string not_hex = kAbc;
  not_hex[5] = 'g';
  CHECK_FALSE(IsSha256Hex(not_hex));
}
