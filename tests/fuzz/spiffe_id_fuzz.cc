// Fuzzes SPIFFE ID and trust-domain parsing: no crash, and every accepted ID round-trips to the
// exact input bytes and re-parses to an equal value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/spiffe_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto id = spinel::common::SpiffeId::Parse(input);
  if (id.ok()) {
    if (id->ToString() != input) std::abort();
    auto again = spinel::common::SpiffeId::Parse(id->ToString());
    if (!again.ok() || *again != *id) std::abort();
  }
  auto td = spinel::common::TrustDomain::Parse(input);
  if (td.ok() && !spinel::common::TrustDomain::Parse(td->name()).ok()) std::abort();
  return 0;
}
