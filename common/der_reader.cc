#include "common/der_reader.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {

absl::StatusOr<DerElement> DerReader::Next(std::string_view what) {
  if (rest_.empty()) return absl::InvalidArgumentError(StrCat(what, ": missing"));
  const auto* start = reinterpret_cast<const unsigned char*>(rest_.data());
  const unsigned char* p = start;
  long length = 0;
  int tag = 0;
  int tag_class = 0;
  int flags = ASN1_get_object(&p, &length, &tag, &tag_class, static_cast<long>(rest_.size()));
  if ((flags & 0x80) != 0) {
    ClearSslErrors();
    return absl::InvalidArgumentError(StrCat(what, ": malformed or truncated DER"));
  }
  if ((flags & 0x01) != 0) {  // indefinite length: BER, not DER
    return absl::InvalidArgumentError(StrCat(what, ": indefinite length is not DER"));
  }
  size_t header = static_cast<size_t>(p - start);
  size_t total = header + static_cast<size_t>(length);
  DerElement element;
  element.tag = tag;
  element.tag_class = tag_class;
  element.constructed = (flags & V_ASN1_CONSTRUCTED) != 0;
  element.whole = rest_.substr(0, total);
  element.content = rest_.substr(header, static_cast<size_t>(length));
  rest_.remove_prefix(total);
  return element;
}

absl::StatusOr<DerElement> DerReader::Expect(int tag, std::string_view what) {
  absl::StatusOr<DerElement> element = Next(what);
  if (!element.ok()) return element;
  bool want_constructed = tag == V_ASN1_SEQUENCE || tag == V_ASN1_SET;
  if (element->tag_class != V_ASN1_UNIVERSAL || element->tag != tag ||
      element->constructed != want_constructed) {
    return absl::InvalidArgumentError(StrCat(what, ": unexpected DER element"));
  }
  return element;
}

absl::Status DerReader::ExpectEnd(std::string_view what) const {
  if (!rest_.empty()) return absl::InvalidArgumentError(StrCat(what, ": trailing bytes"));
  return absl::OkStatus();
}

bool OidIs(const DerElement& oid, int nid) {
  const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
  if (oid.tag_class != V_ASN1_UNIVERSAL || oid.tag != V_ASN1_OBJECT || obj == nullptr) {
    return false;
  }
  std::string_view want(reinterpret_cast<const char*>(OBJ_get0_data(obj)), OBJ_length(obj));
  return !want.empty() && oid.content == want;
}

absl::StatusOr<std::string_view> BitStringBytes(const DerElement& bit_string,
                                                std::string_view what) {
  if (bit_string.content.empty() || bit_string.content[0] != 0) {
    return absl::InvalidArgumentError(StrCat(what, ": BIT STRING with unused bits"));
  }
  return bit_string.content.substr(1);
}

}  // namespace spinel::common
