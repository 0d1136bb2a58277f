// DerReader: a cursor over DER bytes (ITU-T X.690) that reads one tag-length-value element at
// a time, without allocating and without building OpenSSL objects. Used where OpenSSL's
// d2i_* functions would do more work than needed (see spki.h and csr.cc).
//
// The reader borrows the bytes it is given; returned elements point into them. Not
// thread-safe (a cursor); create one per parse. Errors are InvalidArgument naming `what`.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace spinel::common {

struct DerElement {
  int tag = 0;        // V_ASN1_SEQUENCE, V_ASN1_INTEGER, ... or the context-specific number
  int tag_class = 0;  // V_ASN1_UNIVERSAL, V_ASN1_CONTEXT_SPECIFIC, ...
  bool constructed = false;
  std::string_view whole;    // header and content
  std::string_view content;  // content only
};

class DerReader {
 public:
  explicit DerReader(std::string_view der) : rest_(der) {}

  bool empty() const { return rest_.empty(); }
  // The next element, whatever it is. Rejects truncated input and indefinite lengths.
  absl::StatusOr<DerElement> Next(std::string_view what);
  // The next element, which must be the universal `tag` (constructed for SEQUENCE and SET,
  // primitive otherwise).
  absl::StatusOr<DerElement> Expect(int tag, std::string_view what);
  // Fails unless every byte has been read.
  absl::Status ExpectEnd(std::string_view what) const;

 private:
  std::string_view rest_;
};

// True when `oid` is an OBJECT IDENTIFIER element whose value is the OID of `nid`.
bool OidIs(const DerElement& oid, int nid);

// The bytes of a BIT STRING element's value; InvalidArgument unless it has no unused bits.
absl::StatusOr<std::string_view> BitStringBytes(const DerElement& bit_string,
                                                std::string_view what);

}  // namespace spinel::common
