#include "common/der_writer.h"

#include <openssl/objects.h>

#include <cstdio>
#include <ctime>

namespace spinel::common {

void AppendTlv(std::string& out, uint8_t tag, std::string_view content) {
  out.push_back(static_cast<char>(tag));
  size_t length = content.size();
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
  } else {
    char bytes[sizeof(size_t)];
    int count = 0;
    for (size_t l = length; l != 0; l >>= 8) bytes[count++] = static_cast<char>(l & 0xff);
    out.push_back(static_cast<char>(0x80 | count));
    while (count > 0) out.push_back(bytes[--count]);
  }
  out.append(content);
}

std::string Tlv(uint8_t tag, std::string_view content) {
  std::string out;
  out.reserve(content.size() + 6);
  AppendTlv(out, tag, content);
  return out;
}

std::string DerOid(int nid) {
  const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
  if (obj == nullptr || OBJ_length(obj) == 0) return std::string();
  return Tlv(der::kOid,
             std::string_view(reinterpret_cast<const char*>(OBJ_get0_data(obj)), OBJ_length(obj)));
}

std::string DerBitString(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 6);
  std::string content(1, '\0');  // no unused bits
  content.append(bytes);
  AppendTlv(out, der::kBitString, content);
  return out;
}

std::string DerTime(TimePoint t) {
  time_t seconds = static_cast<time_t>(ToUnixSeconds(t));
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  int year = tm.tm_year + 1900;
  char text[32];
  bool utc_time = year >= 1950 && year <= 2049;
  int len = utc_time ? snprintf(text, sizeof(text), "%02d%02d%02d%02d%02d%02dZ", year % 100,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
                     : snprintf(text, sizeof(text), "%04d%02d%02d%02d%02d%02dZ", year,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return Tlv(utc_time ? der::kUtcTime : der::kGeneralizedTime,
             std::string_view(text, static_cast<size_t>(len)));
}

}  // namespace spinel::common
