// Tests for der_reader.h and der_writer.h.
#include <doctest/doctest.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "common/der_reader.h"
#include "common/der_writer.h"
#include "common/ssl_ptr.h"

using spinel::common::AppendTlv;
using spinel::common::BitStringBytes;
using spinel::common::DerBitString;
using spinel::common::DerOid;
using spinel::common::DerReader;
using spinel::common::DerTime;
using spinel::common::FromUnixSeconds;
using spinel::common::OidIs;
using spinel::common::Tlv;
namespace der = spinel::common::der;

TEST_CASE("Tlv encodes short and long definite lengths") {
  CHECK(Tlv(der::kOctetString, "") == std::string("\x04\x00", 2));
  CHECK(Tlv(der::kOctetString, std::string(127, 'a')).substr(0, 2) == "\x04\x7f");
  CHECK(Tlv(der::kOctetString, std::string(128, 'a')).substr(0, 3) == "\x04\x81\x80");
  CHECK(Tlv(der::kOctetString, std::string(255, 'a')).substr(0, 3) == "\x04\x81\xff");
  CHECK(Tlv(der::kOctetString, std::string(256, 'a')).substr(0, 4) ==
        std::string("\x04\x82\x01\x00", 4));
  CHECK(Tlv(der::kOctetString, std::string(65536, 'a')).substr(0, 5) ==
        std::string("\x04\x83\x01\x00\x00", 5));
  std::string appended = "x";
  AppendTlv(appended, der::kSequence, "ab");
  CHECK(appended ==
        "x\x30\x02"
        "ab");
}

TEST_CASE("DerReader walks what the writer wrote") {
  std::string inner = Tlv(der::kInteger, "\x05") + DerOid(NID_subject_alt_name) +
                      DerBitString("key") + Tlv(der::ContextConstructed(0), "");
  std::string outer = Tlv(der::kSequence, inner);
  DerReader reader(outer);
  auto seq = reader.Expect(V_ASN1_SEQUENCE, "outer");
  REQUIRE(seq.ok());
  CHECK(seq->whole == outer);
  CHECK(reader.ExpectEnd("outer").ok());
  DerReader fields(seq->content);
  CHECK(fields.Expect(V_ASN1_INTEGER, "int")->content == "\x05");
  auto oid = fields.Expect(V_ASN1_OBJECT, "oid");
  REQUIRE(oid.ok());
  CHECK(OidIs(*oid, NID_subject_alt_name));
  CHECK_FALSE(OidIs(*oid, NID_basic_constraints));
  auto bits = fields.Expect(V_ASN1_BIT_STRING, "bits");
  REQUIRE(bits.ok());
  CHECK(*BitStringBytes(*bits, "bits") == "key");
  auto tagged = fields.Next("tagged");
  REQUIRE(tagged.ok());
  CHECK(tagged->tag_class == V_ASN1_CONTEXT_SPECIFIC);
  CHECK(tagged->tag == 0);
  CHECK(tagged->constructed);
  CHECK(fields.empty());
  CHECK_FALSE(fields.Next("missing").ok());
}

TEST_CASE("DerReader rejects truncation, indefinite lengths and wrong types") {
  std::string seq = Tlv(der::kSequence, std::string(10, '\0'));
  CHECK_FALSE(DerReader(seq.substr(0, 5)).Next("x").ok());
  CHECK_FALSE(DerReader(std::string("\x30\x80\x00\x00", 4)).Next("x").ok());
  CHECK_FALSE(DerReader(seq).Expect(V_ASN1_SET, "x").ok());
  CHECK_FALSE(DerReader(Tlv(der::kInteger, "\x01")).Expect(V_ASN1_SEQUENCE, "x").ok());
  std::string with_trailing = seq + std::string("\x05\x00", 2);
  DerReader trailing(with_trailing);
  CHECK(trailing.Next("x").ok());
  CHECK_FALSE(trailing.ExpectEnd("x").ok());
  const std::string unused_bits("\x03\x02\x01\xfe", 4);  // outlives the element read from it
  auto with_unused = DerReader(unused_bits).Next("bits");
  REQUIRE(with_unused.ok());
  CHECK_FALSE(BitStringBytes(*with_unused, "bits").ok());
}

TEST_CASE("DerTime uses UTCTime through 2049 and GeneralizedTime from 2050") {
  CHECK(DerTime(FromUnixSeconds(1'800'000'000)) == std::string("\x17\x0d") + "270115080000Z");
  CHECK(DerTime(FromUnixSeconds(2'524'607'999)) == std::string("\x17\x0d") + "491231235959Z");
  CHECK(DerTime(FromUnixSeconds(2'524'608'000)) == std::string("\x18\x0f") + "20500101000000Z");
  CHECK(DerTime(FromUnixSeconds(-631'152'001)) == std::string("\x18\x0f") + "19491231235959Z");
  // OpenSSL reads them back to the same second.
  for (int64_t t : {int64_t{0}, int64_t{1'800'000'000}, int64_t{2'524'608'000}}) {
    std::string encoded = DerTime(FromUnixSeconds(t));
    const auto* p = reinterpret_cast<const unsigned char*>(encoded.data());
    spinel::common::SslPtr<ASN1_STRING> parsed(
        d2i_ASN1_TIME(nullptr, &p, static_cast<long>(encoded.size())));
    REQUIRE(parsed != nullptr);
    CHECK(ASN1_TIME_cmp_time_t(parsed.get(), static_cast<time_t>(t)) == 0);
  }
}
