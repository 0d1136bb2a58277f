// Fuzzes JWT-SVID validation (common/jwt_svid.h, common/jws.h) in two ways:
//  1. the input as a compact token against a fixed bundle whose key the fuzzer cannot hold:
//     no crash, and never accepted;
//  2. the input's "<header>.<payload>" re-signed here with that bundle's ES256 key, so the
//     header and claim checks behind the signature are reached too: no crash, and an accepted
//     token always names a subject of the bundle's trust domain, an expected audience and an
//     expiry not before now - leeway.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "common/bundle.h"
#include "common/jws.h"
#include "common/jwt_svid.h"

namespace {

using namespace spinel::common;

constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kKid = "fuzz-kid";

struct Fixture {
  TrustDomain td = *TrustDomain::Parse("fuzz.example.org");
  PrivateKey key = *PrivateKey::Generate();
  JwsSigner signer = *JwsSigner::Create(key, JwsAlgorithm::kEs256);
  BundleSet bundles;
  Fixture() {
    Bundle bundle{.trust_domain = td};
    bundle.jwt_authorities.emplace(std::string(kKid), *key.Public());
    if (!bundles.Put(std::move(bundle)).ok()) std::abort();
  }
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

void CheckAccepted(const JwtSvid& svid, const Fixture& f) {
  if (svid.subject.trust_domain() != f.td) std::abort();
  bool has_audience = false;
  for (const std::string& aud : svid.audience) has_audience |= (aud == "fuzz-audience");
  if (!has_audience) std::abort();
  if (svid.expires_at + kDefaultJwtLeeway < FromUnixSeconds(kNow)) std::abort();
  if (svid.kid != kKid) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = GetFixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> audiences = {"fuzz-audience"};
  const TimePoint now = FromUnixSeconds(kNow);

  if (ValidateJwtSvid(input, audiences, f.bundles, now).ok()) std::abort();
  (void)SplitCompactJws(input);

  // "<header>.<payload>" is everything before the second dot (or the whole input).
  size_t first = input.find('.');
  if (first == std::string_view::npos) return 0;
  size_t second = input.find('.', first + 1);
  std::string_view signing_input = input.substr(0, second);
  auto signature = f.signer.Sign(signing_input);
  if (!signature.ok()) std::abort();
  std::string token = std::string(signing_input) + "." + Base64UrlEncode(*signature);
  auto svid = ValidateJwtSvid(token, audiences, f.bundles, now);
  if (svid.ok()) CheckAccepted(*svid, f);
  return 0;
}
