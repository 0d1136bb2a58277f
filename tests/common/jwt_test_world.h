// Shared fixture for the JWT-SVID tests: two trust domains (example.org, other.org), each with
// a P-256 JWT key in a BundleSet, a signer for example.org, a fake clock, and helpers to forge
// tokens with arbitrary headers and claims.
#pragma once

#include <doctest/doctest.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.h"
#include "common/bundle.h"
#include "common/jws.h"
#include "common/jwt_svid.h"
#include "common/ssl_ptr.h"
#include "tests/fakes/fake_clock.h"

namespace spinel::testing {

inline common::TrustDomain Td(std::string_view name) { return *common::TrustDomain::Parse(name); }
inline std::string Message(const absl::Status& s) { return std::string(s.message()); }
inline std::string Segment(const nlohmann::json& value) {
  return common::Base64UrlEncode(value.dump());
}

// Signs `input` with EVP directly (independently of JwsSigner), as a raw JWS signature.
inline std::string EvpSign(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input, bool pss,
                           int pss_salt = RSA_PSS_SALTLEN_DIGEST) {
  common::SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey) == 1);
  if (pss) {
    REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt) == 1);
  }
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) == 1);
  std::string sig(len, '\0');
  REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                         input.size()) == 1);
  sig.resize(len);
  if (EVP_PKEY_is_a(pkey, "EC")) {
    const size_t width = static_cast<size_t>(EVP_PKEY_get_bits(pkey) + 7) / 8;
    return *common::EcdsaDerToRaw(sig, width);
  }
  return sig;
}

struct JwtWorld {
  FakeClock clock;
  common::TrustDomain td = Td("example.org");
  common::TrustDomain other_td = Td("other.org");
  common::PrivateKey key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey other_key = std::move(*common::PrivateKey::Generate());
  common::BundleSet bundles;
  std::unique_ptr<common::JwtSvidSigner> signer;

  JwtWorld() {
    common::Bundle own;
    own.trust_domain = td;
    own.jwt_authorities.emplace("k1", *key.Public());
    REQUIRE(bundles.Put(own).ok());
    common::Bundle other;
    other.trust_domain = other_td;
    other.jwt_authorities.emplace("other-k", *other_key.Public());
    REQUIRE(bundles.Put(other).ok());
    auto s = common::JwtSvidSigner::Create(td, key, "k1");
    REQUIRE(s.ok());
    signer = std::move(*s);
  }

  // Adds (or replaces) a jwt-svid key in the bundle of `trust_domain`.
  void AddJwtKey(const common::TrustDomain& trust_domain, const std::string& kid,
                 common::PublicKey pub) {
    common::Bundle bundle = *bundles.Find(trust_domain);
    bundle.jwt_authorities.insert_or_assign(kid, std::move(pub));
    REQUIRE(bundles.Put(std::move(bundle)).ok());
  }

  // spiffe://example.org/workload for `audience`, issued now, valid 5 minutes.
  common::JwtSvidClaims Claims(std::vector<std::string> audience = {"spinel"}) const {
    return common::JwtSvidClaims{*common::SpiffeId::Parse("spiffe://example.org/workload"),
                                 std::move(audience), clock.Now(),
                                 clock.Now() + std::chrono::minutes(5), nlohmann::json()};
  }
  std::string Mint() const { return *signer->Mint(Claims()); }

  nlohmann::json Header(const std::string& alg = "ES256", const std::string& kid = "k1") const {
    return nlohmann::json{{"alg", alg}, {"kid", kid}, {"typ", "JWT"}};
  }
  nlohmann::json Payload() const {
    const int64_t now = common::ToUnixSeconds(clock.Now());
    return nlohmann::json{{"sub", "spiffe://example.org/workload"},
                          {"aud", "spinel"},
                          {"iat", now},
                          {"exp", now + 300}};
  }
  // A token with arbitrary header and claims, ECDSA-signed with `signing_key`.
  std::string Forge(const nlohmann::json& header, const nlohmann::json& payload,
                    const common::PrivateKey& signing_key) const {
    std::string input = Segment(header) + "." + Segment(payload);
    auto jws =
        common::JwsSigner::Create(signing_key, common::DefaultJwsAlgorithm(signing_key.type()));
    REQUIRE(jws.ok());
    return input + "." + common::Base64UrlEncode(*jws->Sign(input));
  }
  std::string Forge(const nlohmann::json& header, const nlohmann::json& payload) const {
    return Forge(header, payload, key);
  }

  absl::StatusOr<common::JwtSvid> Validate(
      std::string_view token, std::vector<std::string> audiences = {"spinel"},
      const common::JwtSvidValidationOptions& options = {}) const {
    return common::ValidateJwtSvid(token, audiences, bundles, clock, options);
  }
};

inline void CheckRejected(const absl::StatusOr<common::JwtSvid>& r, const std::string& needle) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_MESSAGE(Message(r.status()).find(needle) != std::string::npos, Message(r.status()));
}

// The decoded JSON of segment `index` (0 header, 1 claims) of a compact token.
inline nlohmann::json DecodeSegment(std::string_view token, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  return nlohmann::json::parse(
      *common::Base64UrlDecode(token.substr(start, token.find('.', start) - start)));
}

}  // namespace spinel::testing

// The names the JWT-SVID test files use, declared once for all of them.
using nlohmann::json;
using spinel::common::Base64UrlDecode;
using spinel::common::Base64UrlEncode;
using spinel::common::Bundle;
using spinel::common::BundleSet;
using spinel::common::EcdsaDerToRaw;
using spinel::common::EcdsaRawToDer;
using spinel::common::FromUnixSeconds;
using spinel::common::JwsAlgorithm;
using spinel::common::JwsSigner;
using spinel::common::JwtSvidClaims;
using spinel::common::JwtSvidSigner;
using spinel::common::JwtSvidValidationOptions;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;
using spinel::common::SpiffeId;
using spinel::common::SslPtr;
using spinel::common::ToUnixSeconds;
using spinel::common::TrustDomain;
using spinel::common::ValidateJwtSvid;
using spinel::testing::CheckRejected;
using spinel::testing::DecodeSegment;
using spinel::testing::EvpSign;
using spinel::testing::FakeClock;
using spinel::testing::Message;
using spinel::testing::Segment;
using spinel::testing::Td;
using World = spinel::testing::JwtWorld;
using std::chrono::seconds;
