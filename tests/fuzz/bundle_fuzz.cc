// Fuzzes SPIFFE bundle (JWK Set) decoding, Bundle::Parse (common/bundle.h): no crash; an
// accepted bundle re-encodes (ToJson) to a document that parses to an equal bundle, and its
// Workload API JWT bundle parses to the same jwt-svid keys.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spinel::common;
  static const TrustDomain* td = new TrustDomain(*TrustDomain::Parse("fuzz.example.org"));
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto bundle = Bundle::Parse(*td, input);
  if (!bundle.ok()) return 0;
  auto json = bundle->ToJson();
  if (!json.ok()) std::abort();
  auto again = Bundle::Parse(*td, *json);
  if (!again.ok() || !again->Equals(*bundle)) std::abort();
  auto jwt_json = bundle->JwtAuthoritiesJson();
  if (!jwt_json.ok()) std::abort();
  auto jwt_only = Bundle::Parse(*td, *jwt_json);
  if (!jwt_only.ok() || jwt_only->jwt_authorities.size() != bundle->jwt_authorities.size()) {
    std::abort();
  }
  return 0;
}
