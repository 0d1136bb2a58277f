// VerifiedSignatureCache (common/verified_signature_cache.h): a signature that verified is
// answered from the cache; one that did not is verified (and refused) every time; the key, the
// input and the signature are all part of the key; the cache is bounded; and a validator given
// the cache still checks every claim.
#include "common/verified_signature_cache.h"

#include <doctest/doctest.h>

#include "common/keys.h"

using spinel::common::JwsAlgorithm;
using spinel::common::JwsSigner;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;
using spinel::common::VerifiedSignatureCache;

namespace {

struct Signed {
  PrivateKey key = std::move(*PrivateKey::Generate());
  PublicKey public_key = std::move(*key.Public());
  std::string input = "header.claims";
  std::string signature;
  Signed() {
    auto signer = JwsSigner::Create(key, JwsAlgorithm::kEs256);
    REQUIRE(signer.ok());
    signature = *signer->Sign(input);
  }
};

}  // namespace

TEST_CASE("verified signatures: a success is cached, a failure never is") {
  Signed s;
  VerifiedSignatureCache cache;
  CHECK(cache.Verify(JwsAlgorithm::kEs256, s.public_key, s.input, s.signature).ok());
  CHECK(cache.Verify(JwsAlgorithm::kEs256, s.public_key, s.input, s.signature).ok());
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().misses == 1);

  std::string forged = s.signature;
  forged[5] ^= 1;
  for (int i = 0; i < 2; ++i) {
    CHECK_FALSE(cache.Verify(JwsAlgorithm::kEs256, s.public_key, s.input, forged).ok());
  }
  CHECK(cache.stats().size == 1);
  CHECK(cache.stats().misses == 3);
}

TEST_CASE("verified signatures: another key, input or algorithm is not a hit") {
  Signed s;
  Signed other;
  VerifiedSignatureCache cache;
  REQUIRE(cache.Verify(JwsAlgorithm::kEs256, s.public_key, s.input, s.signature).ok());
  CHECK_FALSE(cache.Verify(JwsAlgorithm::kEs256, other.public_key, s.input, s.signature).ok());
  CHECK_FALSE(cache.Verify(JwsAlgorithm::kEs256, s.public_key, "header.other", s.signature).ok());
  CHECK_FALSE(cache.Verify(JwsAlgorithm::kEs384, s.public_key, s.input, s.signature).ok());
  CHECK(cache.stats().hits == 0);
}

TEST_CASE("verified signatures: at most `capacity` entries, the oldest dropped first") {
  VerifiedSignatureCache cache(2);
  Signed a, b, c;
  for (Signed* s : {&a, &b, &c}) {
    REQUIRE(cache.Verify(JwsAlgorithm::kEs256, s->public_key, s->input, s->signature).ok());
  }
  CHECK(cache.stats().size == 2);
  REQUIRE(cache.Verify(JwsAlgorithm::kEs256, c.public_key, c.input, c.signature).ok());
  CHECK(cache.stats().hits == 1);
  REQUIRE(cache.Verify(JwsAlgorithm::kEs256, a.public_key, a.input, a.signature).ok());
  CHECK(cache.stats().hits == 1);  // a was dropped: verified again
}

TEST_CASE("verified signatures: without a cache, VerifyJwsSignature runs") {
  Signed s;
  CHECK(spinel::common::VerifyJwsSignature(nullptr, JwsAlgorithm::kEs256, s.public_key, s.input,
                                           s.signature)
            .ok());
  CHECK_FALSE(spinel::common::VerifyJwsSignature(nullptr, JwsAlgorithm::kEs256, s.public_key, "x",
                                                 s.signature)
                  .ok());
}
