// Minimal DER (ITU-T X.690) encoding helpers: tag-length-value elements appended to strings.
// Used to encode X509-SVIDs directly (x509_svid.cc), which is several times cheaper than
// filling and serializing OpenSSL X509 objects under OpenSSL 3.0.
//
// Callers are responsible for the structure; these helpers only get lengths, OIDs and times
// right. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace spinel::common {

// Identifier octets used by Spinel's encoders.
namespace der {
inline constexpr uint8_t kBoolean = 0x01;
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;
// [n] IMPLICIT primitive / [n] EXPLICIT (constructed), context-specific.
constexpr uint8_t ContextPrimitive(int n) { return static_cast<uint8_t>(0x80 | n); }
constexpr uint8_t ContextConstructed(int n) { return static_cast<uint8_t>(0xa0 | n); }
}  // namespace der

// Appends tag, definite length and `content` to `out`.
void AppendTlv(std::string& out, uint8_t tag, std::string_view content);
// The same, as a new string.
std::string Tlv(uint8_t tag, std::string_view content);
// An OBJECT IDENTIFIER element for an OpenSSL NID ("" for an unknown NID).
std::string DerOid(int nid);
// A BIT STRING element holding `bytes` with no unused bits.
std::string DerBitString(std::string_view bytes);
// An X.509 Time (RFC 5280 §4.1.2.5): UTCTime for 1950-2049, GeneralizedTime otherwise;
// whole seconds, "Z".
std::string DerTime(TimePoint t);

}  // namespace spinel::common
