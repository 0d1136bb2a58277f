// JWT-SVID interoperability with implementations nobody here wrote: tokens from Python
// "cryptography" and from the openssl command line, and minted tokens checked by openssl.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/jwt_svid.h"
#include "tests/common/jose_vectors.h"
#include "tests/common/jwt_test_world.h"
#include "tests/fakes/temp_dir.h"

namespace {

using spinel::testing::TempDir;

// Runs `command` in `dir`; returns its exit code (output is discarded).
int ExitCodeOf(const TempDir& dir, const std::string& command) {
  return spinel::testing::Run(dir, command).exit_code;
}

}  // namespace

TEST_CASE("tokens signed by another implementation (Python cryptography) validate") {
  BundleSet bundles;
  auto bundle = Bundle::Parse(Td("example.org"), spinel::testing::kPythonBundleJson);
  REQUIRE(bundle.ok());
  REQUIRE(bundles.Put(*bundle).ok());
  FakeClock clock(FromUnixSeconds(1'800'000'100));
  for (const char* token :
       {spinel::testing::kPythonEs256Token, spinel::testing::kPythonRs256Token}) {
    auto svid = ValidateJwtSvid(token, {"other"}, bundles, clock);
    REQUIRE_MESSAGE(svid.ok(), Message(svid.status()));
    CHECK(svid->subject.ToString() == "spiffe://example.org/python");
    CHECK(svid->audience == std::vector<std::string>{"spinel", "other"});
  }
  clock.Set(FromUnixSeconds(1'800'000'400));
  CHECK_FALSE(ValidateJwtSvid(spinel::testing::kPythonEs256Token, {"spinel"}, bundles, clock).ok());
}

TEST_CASE("interop: a token signed by the openssl command line validates") {
  World w;
  TempDir dir;
  std::string key_pem(w.key.ToPkcs8Pem()->view());
  const std::string key_file = dir.Write("key.pem", key_pem);
  const std::string input = Segment(w.Header()) + "." + Segment(w.Payload());
  const std::string input_file = dir.Write("input.txt", input);
  REQUIRE(ExitCodeOf(dir, "openssl dgst -sha256 -sign " + key_file + " -out " +
                              dir.File("sig.der") + " " + input_file) == 0);
  auto raw = EcdsaDerToRaw(dir.Read("sig.der"), 32);
  REQUIRE(raw.ok());
  auto svid = w.Validate(input + "." + Base64UrlEncode(*raw));
  CHECK_MESSAGE(svid.ok(), Message(svid.status()));

  // RSA-PSS from the command line, too.
  SslPtr<EVP_PKEY> rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  w.AddJwtKey(w.td, "rsa", *PublicKey::FromEvp(rsa.get()));
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(rsa.get(), &der);
  spinel::common::OpensslBuffer<unsigned char> owned(der);
  auto rsa_key = PrivateKey::FromPkcs8Der(std::string_view(reinterpret_cast<char*>(der), len));
  const std::string rsa_file = dir.Write("rsa.pem", rsa_key->ToPkcs8Pem()->view());
  const std::string ps_input = Segment(w.Header("PS256", "rsa")) + "." + Segment(w.Payload());
  const std::string ps_file = dir.Write("ps_input.txt", ps_input);
  REQUIRE(
      ExitCodeOf(dir,
                 "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest"
                 " -sign " +
                     rsa_file + " -out " + dir.File("ps.sig") + " " + ps_file) == 0);
  auto ps = w.Validate(ps_input + "." + Base64UrlEncode(dir.Read("ps.sig")));
  CHECK_MESSAGE(ps.ok(), Message(ps.status()));
}

TEST_CASE("interop: the openssl command line verifies a minted token's signature") {
  World w;
  TempDir dir;
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384}) {
    auto key = PrivateKey::Generate(type);
    auto signer = JwtSvidSigner::Create(w.td, *key, "k");
    std::string token = *(*signer)->Mint(w.Claims());
    const size_t dot = token.rfind('.');
    const std::string pub_file = dir.Write("pub.pem", *key->Public()->ToPem());
    const std::string input_file = dir.Write("input.txt", token.substr(0, dot));
    auto der = EcdsaRawToDer(*Base64UrlDecode(token.substr(dot + 1)));
    REQUIRE(der.ok());
    const std::string sig_file = dir.Write("sig.der", *der);
    const std::string digest = type == KeyType::kEcP256 ? "-sha256" : "-sha384";
    CHECK(ExitCodeOf(dir, "openssl dgst " + digest + " -verify " + pub_file + " -signature " +
                              sig_file + " " + input_file) == 0);
    // Sanity: the same command rejects a different input.
    dir.Write("input.txt", token.substr(0, dot) + "x");
    CHECK(ExitCodeOf(dir, "openssl dgst " + digest + " -verify " + pub_file + " -signature " +
                              sig_file + " " + input_file) != 0);
  }
}
