// Fuzzes X.509 chain parsing and SVID validation against a fixed bundle: no crash, and nothing
// made up by the fuzzer is ever accepted as an SVID of the bundle's trust domain.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/certificate.h"
#include "common/x509_ca.h"
#include "common/x509_svid_validator.h"

namespace {

const spinel::common::X509AuthorityMap& Authorities() {
  static const auto* map = [] {
    auto td = *spinel::common::TrustDomain::Parse("fuzz.example.org");
    auto key = spinel::common::PrivateKey::Generate();
    auto ca = spinel::common::CreateSelfSignedCa(
        td, *key, spinel::common::FromUnixSeconds(1'800'000'000), std::chrono::hours(24));
    auto* m = new spinel::common::X509AuthorityMap();
    m->Set(td, {*ca});
    return m;
  }();
  return *map;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto verified = spinel::common::VerifyX509SvidDer(input, Authorities(),
                                                    spinel::common::FromUnixSeconds(1'800'000'100));
  if (verified.ok()) std::abort();  // the fuzzer cannot hold the CA key
  (void)spinel::common::Certificate::ParsePemChain(input);
  return 0;
}
