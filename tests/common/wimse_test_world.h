// Shared fixture for the WIT-SVID / WPT tests (shared/spec/wimse.md §5).
//  - Baseline A: the IETF example pair (draft-ietf-wimse-s2s-protocol includes/wit.txt and the
//    WPT of includes/wpt-request.txt), with its published issuer key "June 5" and Ed25519
//    workload key, at now = 1745509800.
//  - Baseline B (WimseWorld): a WIT-SVID + WPT pair we mint ourselves with ES256: trust domain
//    example.org whose bundle has a wit-svid key "wit-1" and a separate jwt-svid key "jwt-1",
//    a P-256 workload key, a replay cache and a verifier for https://workload.example.com/path.
#pragma once

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>

#include "common/jwt_decode.h"
#include "common/replay_cache.h"
#include "common/wit_svid.h"
#include "common/workload_proof_request.h"
#include "common/wpt.h"
#include "common/wpt_verifier.h"
#include "tests/common/jwt_test_world.h"

namespace spinel::testing::wimse {

inline constexpr int64_t kNow = 1745509800;
inline constexpr char kIetfWit[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Ikp1bmUgNSIsInR5cCI6IndpdCtqd3QifQ.eyJjbmYiOnsiandrIjp7ImFsZy"
    "I6IkVkRFNBIiwiY3J2IjoiRWQyNTUxOSIsImt0eSI6Ik9LUCIsIngiOiIxQ1hYdmZsTl9MVlZzSXNZWHNVdkIwM0pt"
    "bEdXZUNIcVFWdW91Q0Y5MmJnIn19LCJleHAiOjE3NDU1MTI1MTAsImlhdCI6MTc0NTUwODkxMCwianRpIjoieC1fMU"
    "NUTDJjY2EzQ1NFNGN3Yl9sIiwic3ViIjoid2ltc2U6Ly9leGFtcGxlLmNvbS9zcGVjaWZpYy13b3JrbG9hZCJ9.6K"
    "raSQUxWdl9dxFQ3Fj6dPY0Vi88OkwFwZpAIOhLeq6AbXAnLLQgOp8U9UDGcBuYF3KiNv6oKQD1ZWAzrMZOJw";
inline constexpr char kIetfWpt[] =
    "eyJhbGciOiJFZERTQSIsInR5cCI6IndwdCtqd3QifQ.eyJhdGgiOiJDTDR3amZwUm1OZi1iZFlJYllMblY5ZDVyTU"
    "FSR3dLWUUxMHdVd3pDMGpJIiwiYXVkIjoiaHR0cHM6Ly93b3JrbG9hZC5leGFtcGxlLmNvbS9wYXRoIiwiZXhwIjox"
    "NzQ1NTEwMDE2LCJqdGkiOiJfX2J3YzRFU0MzYWNjMkxUQzEtX3giLCJ3dGgiOiJBYVlVZkMzNEQxZGkyRnhRTHBpSU"
    "pKN1NnOFZaNm84T0Nkd1NmOUlUb0xnIn0.PI7d9AcYhLoEgPgbJvcM132lkBKnM1NXU-5hZUzVTIyj2dRJaTLFs6e5"
    "NYv5gg6AqcV7NvkYCwfgMgWasWQzCA";
inline constexpr char kIetfAccessToken[] = "16_mAd0GiwaZokU26_0902100";
inline constexpr char kIetfWth[] = "AaYUfC34D1di2FxQLpiIJJ7Sg8VZ6o8OCdwSf9IToLg";
inline constexpr char kIetfAth[] = "CL4wjfpRmNf-bdYIbYLnV9d5rMARGwKYE10wUwzC0jI";
inline constexpr char kIetfBearerAth[] = "X63MNSCz_ejuJAbVpYax3YS4GBsVinjdHwDF56hw6wo";
// The issuer key "June 5" (P-256): public in the draft, private in its examples/main.go.
inline constexpr char kJune5X[] = "kXqnA2Op7hgd4zRMbw0iFcc_hDxUxhojxOFVGjE2gks";
inline constexpr char kJune5Y[] = "n__VndPMR021-59UAs0b9qDTFT-EZtT6xSNs_xFskLo";
inline constexpr char kJune5D[] = "NRHs9bfMUcF49AV_NIoeh3UGopW4AXZLfv5G2px1WcY";
inline constexpr char kIetfWorkloadX[] = "1CXXvflN_LVVsIsYXsUvB03JmlGWeCHqQVuouCF92bg";
inline constexpr char kTarget[] = "https://workload.example.com/path";

// An EC P-256 private key from JWK members (d, x, y), through OpenSSL directly.
inline common::PrivateKey P256FromJwk(std::string_view d, std::string_view x, std::string_view y) {
  const std::string priv = *common::Base64UrlDecode(d);
  const std::string point = "\x04" + *common::Base64UrlDecode(x) + *common::Base64UrlDecode(y);
  common::SslPtr<BIGNUM> bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(priv.data()),
                                      static_cast<int>(priv.size()), nullptr));
  common::SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  REQUIRE(OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) == 1);
  REQUIRE(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, bn.get()) == 1);
  REQUIRE(OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                           point.size()) == 1);
  common::SslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  common::SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) == 1);
  common::SslPtr<EVP_PKEY> pkey(raw);
  unsigned char* der = nullptr;
  const int len = i2d_PrivateKey(pkey.get(), &der);
  common::OpensslBuffer<unsigned char> owned(der);
  return std::move(
      *common::PrivateKey::FromPkcs8Der(std::string_view(reinterpret_cast<char*>(der), len)));
}

// A fresh RSA-2048 private key (PrivateKey::Generate makes only EC keys).
inline common::PrivateKey RsaKey() {
  common::SslPtr<EVP_PKEY> rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  unsigned char* der = nullptr;
  const int len = i2d_PrivateKey(rsa.get(), &der);
  common::OpensslBuffer<unsigned char> owned(der);
  return std::move(
      *common::PrivateKey::FromPkcs8Der(std::string_view(reinterpret_cast<char*>(der), len)));
}

// A compact JWS over arbitrary header and claims, signed with `key` under `alg`.
inline std::string SignJwt(const nlohmann::json& header, const nlohmann::json& claims,
                           const common::PrivateKey& key, common::JwsAlgorithm alg) {
  const std::string input = Segment(header) + "." + Segment(claims);
  auto signer = common::JwsSigner::Create(key, alg);
  REQUIRE(signer.ok());
  return input + "." + common::Base64UrlEncode(*signer->Sign(input));
}
inline std::string SignJwt(const nlohmann::json& header, const nlohmann::json& claims,
                           const common::PrivateKey& key) {
  return SignJwt(header, claims, key, common::DefaultJwsAlgorithm(key.type()));
}

// Asserts that `result` failed with `code` and a message containing `needle` (the check).
template <typename T>
void CheckRefused(const absl::StatusOr<T>& result, const std::string& needle,
                  absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == code);
  CHECK_MESSAGE(Message(result.status()).find(needle) != std::string::npos,
                Message(result.status()));
}

struct WimseWorld {
  common::TrustDomain td = Td("example.org");
  common::TimePoint now = common::FromUnixSeconds(kNow);
  common::PrivateKey wit_key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey jwt_key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey workload_key = std::move(*common::PrivateKey::Generate());
  common::SpiffeId subject = *common::SpiffeId::Parse("spiffe://example.org/agent");
  common::BundleSet bundles;
  std::unique_ptr<common::WitSvidSigner> signer;
  common::WptReplayCache replay_cache{1000};
  std::unique_ptr<common::WptVerifier> verifier;
  std::string wit;

  explicit WimseWorld(common::WptVerificationOptions options = {}) {
    common::Bundle bundle;
    bundle.trust_domain = td;
    bundle.wit_authorities.emplace("wit-1", *wit_key.Public());
    bundle.jwt_authorities.emplace("jwt-1", *jwt_key.Public());
    REQUIRE(bundles.Put(bundle).ok());
    signer = std::move(*common::WitSvidSigner::Create(td, wit_key, "wit-1"));
    verifier = std::make_unique<common::WptVerifier>(bundles, replay_cache, std::move(options));
    wit = MintWit();
  }

  common::ConfirmationKey Cnf() const {
    return {*workload_key.Public(), common::JwsAlgorithm::kEs256};
  }
  std::string MintWit() const {
    return *signer->Mint({subject, now, now + std::chrono::hours(1)}, Cnf());
  }
  // The claims and header of the Baseline B WIT, for mutation.
  nlohmann::json WitHeader() const { return DecodeSegment(wit, 0); }
  nlohmann::json WitClaims() const { return DecodeSegment(wit, 1); }
  std::string SignWit(const nlohmann::json& header, const nlohmann::json& claims) const {
    return SignJwt(header, claims, wit_key);
  }

  common::WptParams Params(common::BoundTokens tokens = {}) const {
    return common::WptParams{kTarget, std::move(tokens)};
  }
  std::string MintWpt(common::BoundTokens tokens = {}) const {
    auto wpt = common::CreateWpt(wit, workload_key, Params(std::move(tokens)), now);
    REQUIRE_MESSAGE(wpt.ok(), Message(wpt.status()));
    return *wpt;
  }
  nlohmann::json WptHeader() const { return {{"alg", "ES256"}, {"typ", "wpt+jwt"}}; }
  // Baseline B WPT claims for `wit_token`, expiring in 30 s.
  nlohmann::json WptClaims(std::string_view wit_token) const {
    return {{"aud", kTarget},
            {"exp", common::ToUnixSeconds(now) + 30},
            {"jti", "jti-" + std::to_string(++forged_)},
            {"wth", *common::TokenHash(wit_token)}};
  }
  nlohmann::json WptClaims() const { return WptClaims(wit); }
  std::string SignWpt(const nlohmann::json& header, const nlohmann::json& claims) const {
    return SignJwt(header, claims, workload_key);
  }

  absl::StatusOr<common::ProvenWorkload> Verify(std::string_view wpt,
                                                common::BoundTokens tokens = {},
                                                std::string_view wit_token = {}) const {
    return verifier->Verify({wit_token.empty() ? wit : wit_token, wpt, kTarget, std::move(tokens)},
                            now);
  }
  absl::StatusOr<common::UnprovenWitSvid> ValidateWit(std::string_view token) const {
    return common::ValidateWitSvid(token, bundles, now);
  }

 private:
  mutable int forged_ = 0;
};

}  // namespace spinel::testing::wimse

using spinel::common::BoundTokens;
using spinel::common::ConfirmationKey;
using spinel::common::HttpHeader;
using spinel::common::TokenHash;
using spinel::common::ValidateWitSvid;
using spinel::common::WitSvidSigner;
using spinel::common::WptParams;
using spinel::common::WptReplayCache;
using spinel::common::WptVerificationOptions;
using spinel::common::WptVerifier;
using spinel::testing::wimse::CheckRefused;
using spinel::testing::wimse::SignJwt;
using spinel::testing::wimse::WimseWorld;
namespace wimse = spinel::testing::wimse;
