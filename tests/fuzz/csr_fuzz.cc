// Fuzzes CSR parsing (DER and PEM): no crash; an accepted CSR always carries a usable public
// key whose SPKI re-encodes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/csr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto csr = spinel::common::Csr::Parse(input);
  if (csr.ok()) {
    if (!csr->public_key().ToSpkiDer().ok()) std::abort();
    (void)csr->RequestedSpiffeId();
  }
  return 0;
}
