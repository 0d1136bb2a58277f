#include "common/jwks.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "common/jwk.h"
#include "tests/common/delegation_test_world.h"
#include "tests/fakes/temp_dir.h"

namespace {

using spinel::common::JwkSet;
using spinel::common::JwksFile;
using spinel::common::JwsAlgorithm;
using spinel::common::PrivateKey;
using spinel::testing::Message;
using spinel::testing::TempDir;

json KeyJwk(const PrivateKey& key, const std::string& kid) {
  json jwk = *spinel::common::PublicKeyToJwk(*key.Public());
  if (!kid.empty()) jwk["kid"] = kid;
  return jwk;
}

std::string Jwks(const std::vector<json>& keys) { return json{{"keys", json(keys)}}.dump(); }

}  // namespace

TEST_CASE("JwkSet: keys are found by kid, fitting the token's alg") {
  PrivateKey a = std::move(*PrivateKey::Generate());
  PrivateKey b = std::move(*PrivateKey::Generate(spinel::common::KeyType::kEcP384));
  json jwk_b = KeyJwk(b, "b");
  jwk_b["alg"] = "ES384";
  auto set = JwkSet::Parse(Jwks({KeyJwk(a, "a"), jwk_b}));
  REQUIRE_MESSAGE(set.ok(), Message(set.status()));
  CHECK(set->keys().size() == 2);
  auto found = set->Find("a", JwsAlgorithm::kEs256);
  REQUIRE(found.ok());
  CHECK(found->Equals(*a.Public()));
  CHECK(set->Find("b", JwsAlgorithm::kEs384).ok());
  // Wrong alg for the key, a kid nobody has, and no kid among several keys.
  CHECK(set->Find("a", JwsAlgorithm::kEs384).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(set->Find("b", JwsAlgorithm::kEs256).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(set->Find("c", JwsAlgorithm::kEs256).status().code() == absl::StatusCode::kNotFound);
  CHECK(set->Find(std::nullopt, JwsAlgorithm::kEs256).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("JwkSet: a single key serves tokens without kid") {
  PrivateKey a = std::move(*PrivateKey::Generate());
  auto set = JwkSet::Parse(Jwks({KeyJwk(a, "")}));
  REQUIRE(set.ok());
  CHECK(set->Find(std::nullopt, JwsAlgorithm::kEs256).ok());
}

TEST_CASE("JwkSet: encryption keys, unknown key types and algorithms are skipped") {
  PrivateKey a = std::move(*PrivateKey::Generate());
  json enc = KeyJwk(a, "enc");
  enc["use"] = "enc";
  json okp = {{"kty", "OKP"},
              {"crv", "Ed25519"},
              {"x", "1CXXvflN_LVVsIsYXsUvB03JmlGWeCHqQVuouCF92bg"},
              {"kid", "ed"}};
  json hmac = {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hs"}};
  json eddsa_alg = KeyJwk(a, "eddsa");
  eddsa_alg["alg"] = "EdDSA";
  auto set = JwkSet::Parse(Jwks({enc, okp, hmac, eddsa_alg, KeyJwk(a, "sig")}));
  REQUIRE_MESSAGE(set.ok(), Message(set.status()));
  REQUIRE(set->keys().size() == 1);
  CHECK(set->keys()[0].kid == "sig");
  // Nothing usable at all is an error (a truncated file never replaces a good one).
  auto none = JwkSet::Parse(Jwks({enc, okp}));
  REQUIRE_FALSE(none.ok());
  CHECK(Message(none.status()).find("no usable signing key") != std::string::npos);
}

TEST_CASE("JwkSet: malformed sets are refused naming the entry") {
  PrivateKey a = std::move(*PrivateKey::Generate());
  json bad_alg = KeyJwk(a, "x");
  bad_alg["alg"] = "RS256";  // an EC key
  json priv = KeyJwk(a, "p");
  priv["d"] = "AAAA";
  json bad_point = KeyJwk(a, "q");
  bad_point["x"] = bad_point["y"];
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "\"keys\" array"},
      {"{\"keys\": {}}", "\"keys\" array"},
      {"not json", "JWK Set"},
      {Jwks({1}), "keys[0]: not an object"},
      {Jwks({json{{"kid", "x"}}}), "keys[0]: missing \"kty\""},
      {Jwks({KeyJwk(a, "dup"), KeyJwk(a, "dup")}), "keys[1]: kid \"dup\" is used twice"},
      {Jwks({bad_alg}), "keys[0]:"},
      {Jwks({priv}), "keys[0]:"},
      {Jwks({bad_point}), "keys[0]:"},
  };
  for (const auto& test_case : cases) {
    const std::string& text = test_case.first;
    const std::string& needle = test_case.second;
    CAPTURE(text);
    auto set = JwkSet::Parse(text);
    REQUIRE_FALSE(set.ok());
    CHECK(set.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(Message(set.status()).find(needle) != std::string::npos, Message(set.status()));
  }
}

TEST_CASE("JwksFile: reloads when the file changes and keeps the last good set on a bad one") {
  TempDir dir;
  PrivateKey a = std::move(*PrivateKey::Generate());
  PrivateKey b = std::move(*PrivateKey::Generate());
  const std::string path = dir.Write("idp.json", Jwks({KeyJwk(a, "a")}));
  auto file = JwksFile::Open(path);
  REQUIRE_MESSAGE(file.ok(), Message(file.status()));
  auto first = (*file)->Current();
  CHECK((*file)->generation() == 1);
  CHECK(first->Find("a", JwsAlgorithm::kEs256).ok());

  // Unchanged: the same set object.
  CHECK((*file)->Refresh().ok());
  CHECK((*file)->Current() == first);

  // Rotated at the IdP: the new key is served, the old set stays valid for its holders.
  dir.Write("idp.json", Jwks({KeyJwk(b, "b")}));
  CHECK((*file)->Refresh().ok());
  CHECK((*file)->generation() == 2);
  CHECK((*file)->Current()->Find("b", JwsAlgorithm::kEs256).ok());
  CHECK_FALSE((*file)->Current()->Find("a", JwsAlgorithm::kEs256).ok());
  CHECK(first->Find("a", JwsAlgorithm::kEs256).ok());

  // A broken write: reported, the last good set stays in force.
  dir.Write("idp.json", "{\"keys\": [");
  absl::Status bad = (*file)->Refresh();
  CHECK_FALSE(bad.ok());
  CHECK(Message(bad).find(path) != std::string::npos);
  CHECK_FALSE((*file)->last_error().ok());
  CHECK((*file)->Current()->Find("b", JwsAlgorithm::kEs256).ok());
  // Still broken on the next look, without re-reading an unchanged bad file.
  CHECK_FALSE((*file)->Refresh().ok());

  // Removed: also reported; fixed: served again and the error clears.
  std::filesystem::remove(path);
  CHECK_FALSE((*file)->Refresh().ok());
  CHECK((*file)->Current()->Find("b", JwsAlgorithm::kEs256).ok());
  dir.Write("idp.json", Jwks({KeyJwk(a, "a"), KeyJwk(b, "b")}));
  CHECK((*file)->Refresh().ok());
  CHECK((*file)->last_error().ok());
  CHECK((*file)->Current()->keys().size() == 2);
  CHECK((*file)->generation() == 3);

  // Rewritten with the same content: the status changes but the set is not re-parsed.
  auto before = (*file)->Current();
  dir.Write("idp.json", Jwks({KeyJwk(a, "a"), KeyJwk(b, "b")}));
  CHECK((*file)->Refresh().ok());
  CHECK((*file)->Current() == before);
  CHECK((*file)->generation() == 3);
}

TEST_CASE("JwksFile: a file that cannot be loaded at first fails Open") {
  TempDir dir;
  CHECK(JwksFile::Open(dir.File("missing.json")).status().code() == absl::StatusCode::kNotFound);
  auto bad = JwksFile::Open(dir.Write("bad.json", "{}"));
  REQUIRE_FALSE(bad.ok());
  CHECK(Message(bad.status()).find("bad.json") != std::string::npos);
}

TEST_CASE("JwksFile: concurrent readers while the file is rotated") {
  TempDir dir;
  PrivateKey a = std::move(*PrivateKey::Generate());
  PrivateKey b = std::move(*PrivateKey::Generate());
  const std::string path = dir.Write("idp.json", Jwks({KeyJwk(a, "k")}));
  auto file = JwksFile::Open(path);
  REQUIRE(file.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        (void)(*file)->Refresh();
        if (!(*file)->Current()->Find("k", JwsAlgorithm::kEs256).ok()) ++bad;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    spinel::common::WriteFileAtomic(path, Jwks({KeyJwk(i % 2 == 0 ? b : a, "k")}), 0644)
        .IgnoreError();
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  CHECK(bad == 0);
  CHECK((*file)->Refresh().ok());
  CHECK((*file)->Current()->Find("k", JwsAlgorithm::kEs256)->Equals(*a.Public()));
}
