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

namespace {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "spinel-jwt-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, std::string_view bytes) const {
    std::string file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(path_ / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

int Run(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
  REQUIRE(Run("openssl dgst -sha256 -sign " + key_file + " -out " + dir.Path("sig.der") + " " +
              input_file) == 0);
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
  REQUIRE(Run("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest"
              " -sign " +
              rsa_file + " -out " + dir.Path("ps.sig") + " " + ps_file) == 0);
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
    CHECK(Run("openssl dgst " + digest + " -verify " + pub_file + " -signature " + sig_file + " " +
              input_file) == 0);
    // Sanity: the same command rejects a different input.
    dir.Write("input.txt", token.substr(0, dot) + "x");
    CHECK(Run("openssl dgst " + digest + " -verify " + pub_file + " -signature " + sig_file + " " +
              input_file) != 0);
  }
}
