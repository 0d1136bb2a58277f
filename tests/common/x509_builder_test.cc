#include "common/x509_builder.h"

#include <doctest/doctest.h>

#include <set>

using spinel::common::BuildName;
using spinel::common::CheckDnsName;
using spinel::common::KeyUsageExtension;
using spinel::common::RandomSerial;
using spinel::common::RandomSerialBytes;
using spinel::common::SerialDecimal;
using spinel::common::SslPtr;

TEST_CASE("CheckDnsName accepts host names and one leading wildcard label only") {
  for (const char* good : {"a", "example.org", "api.prod.example.org", "*.example.org",
                           "a-b.c_d.example", "xn--nxasmq6b.example", "A.B.C"}) {
    CAPTURE(good);
    CHECK(CheckDnsName(good).ok());
  }
  std::string long_label(64, 'a');
  std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                          std::string(63, 'c') + "." + std::string(63, 'd');  // 255 bytes
  for (const std::string& bad :
       {std::string(), std::string("."), std::string("a..b"), std::string("a."), std::string(".a"),
        std::string("-a.b"), std::string("a-.b"), std::string("a b"), std::string("a,DNS:b"),
        std::string("*.*.a"), std::string("a.*.b"), std::string("*a.b"), std::string("a\nb"),
        long_label + ".x", long_name, std::string("caf\xc3\xa9.fr")}) {
    CAPTURE(bad);
    auto status = CheckDnsName(bad);
    CHECK_FALSE(status.ok());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("serials are positive, 16 bytes long and random") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto bytes = RandomSerialBytes();
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == 16);
    auto first = static_cast<unsigned char>((*bytes)[0]);
    CHECK(first >= 0x40);
    CHECK(first <= 0x7f);
    seen.insert(*bytes);
  }
  CHECK(seen.size() == 100);
  auto serial = RandomSerial();
  REQUIRE(serial.ok());
  CHECK(ASN1_STRING_type(serial->get()) == V_ASN1_INTEGER);
  auto decimal = SerialDecimal(**serial);
  REQUIRE(decimal.ok());
  CHECK(decimal->size() >= 38);  // >= 2^126
}

TEST_CASE("KeyUsageExtension sets exactly the requested bits, critical") {
  for (uint32_t bits : {uint32_t{KU_DIGITAL_SIGNATURE}, uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN},
                        uint32_t{KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT},
                        uint32_t{KU_DECIPHER_ONLY | KU_KEY_AGREEMENT}}) {
    CAPTURE(bits);
    auto ext = KeyUsageExtension(bits);
    REQUIRE(ext.ok());
    CHECK(X509_EXTENSION_get_critical(ext->get()) == 1);
    SslPtr<ASN1_STRING> decoded(static_cast<ASN1_STRING*>(X509V3_EXT_d2i(ext->get())));
    REQUIRE(decoded != nullptr);
    uint32_t got = 0;
    for (int n = 0; n <= 8; ++n) {
      if (ASN1_BIT_STRING_get_bit(decoded.get(), n)) got |= n < 8 ? (0x80u >> n) : 0x8000u;
    }
    CHECK(got == bits);
  }
}

TEST_CASE("BuildName keeps attribute order and rejects unknown fields") {
  auto name = BuildName({{"C", "US"}, {"O", "SPIFFE"}, {"CN", "caf\xc3\xa9"}});
  REQUIRE(name.ok());
  CHECK(X509_NAME_entry_count(name->get()) == 3);
  CHECK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name->get(), 0))) ==
        NID_countryName);
  CHECK(X509_NAME_entry_count(BuildName({})->get()) == 0);
  auto bad = BuildName({{"Nope", "x"}});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("\"Nope\"") != std::string::npos);
}
