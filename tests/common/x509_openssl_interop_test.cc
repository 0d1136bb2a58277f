// Interop with the openssl command-line tool (a program nobody here wrote): it must accept
// what the library mints, the library must accept its CSRs, and the validator must reject
// non-conforming certificates it crafts, for the right reason.
#include <doctest/doctest.h>

#include "common/clock.h"
#include "common/csr.h"
#include "common/keys.h"
#include "common/x509_svid.h"
#include "common/x509_svid_validator.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_ca.h"

using namespace std::chrono_literals;
using spinel::common::Certificate;
using spinel::common::ConcatPem;
using spinel::common::Csr;
using spinel::common::PrivateKey;
using spinel::common::SystemClock;
using spinel::common::TimePoint;
using spinel::common::ToUnixSeconds;
using spinel::common::VerifyX509Svid;
using spinel::common::X509AuthorityMap;
using spinel::testing::Run;
using spinel::testing::RunResult;
using spinel::testing::TempDir;
using spinel::testing::TestCa;

namespace {

void RequireOpenssl(const TempDir& dir, const std::string& command) {
  RunResult r = Run(dir, command);
  INFO(command, "\n", r.output);
  REQUIRE(r.exit_code == 0);
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

constexpr char kNewEcKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

}  // namespace

TEST_CASE("openssl verify accepts a chain minted by the library") {
  TempDir dir;
  TimePoint now = SystemClock::Get().Now();
  TestCa root = TestCa::Root("example.org", now);
  TestCa ca = root.Intermediate(now);
  auto leaf = ca.Mint("spiffe://example.org/api", now, 1h, {"api.example.org"});
  dir.Write("bundle.pem", root.root().ToPem());
  dir.Write("intermediates.pem", ConcatPem(ca.intermediates()));
  dir.Write("leaf.pem", leaf.cert.ToPem());
  const std::string verify = "openssl verify -CAfile bundle.pem -untrusted intermediates.pem ";
  for (const char* extra : {"", "-purpose sslclient ", "-purpose sslserver ", "-x509_strict "}) {
    CAPTURE(extra);
    RunResult r = Run(dir, verify + extra + "leaf.pem");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("leaf.pem: OK") != std::string::npos);
  }
  // openssl sees the same validity window.
  std::string later = "-attime " + std::to_string(ToUnixSeconds(now + 2h)) + " ";
  RunResult expired = Run(dir, verify + later + "leaf.pem");
  CHECK(expired.exit_code != 0);
  CHECK(expired.output.find("certificate has expired") != std::string::npos);
  // Another trust domain's root does not verify it.
  TestCa other = TestCa::Root("other.org", now);
  dir.Write("other.pem", other.root().ToPem());
  CHECK(Run(dir, "openssl verify -CAfile other.pem -untrusted intermediates.pem leaf.pem")
            .exit_code != 0);
  // openssl reads the extensions as the spec wants them.
  RunResult text = Run(dir, "openssl x509 -in leaf.pem -noout -text");
  REQUIRE(text.exit_code == 0);
  for (const char* expected :
       {"URI:spiffe://example.org/api", "DNS:api.example.org", "X509v3 Basic Constraints: critical",
        "CA:FALSE", "X509v3 Key Usage: critical", "Digital Signature",
        "TLS Web Server Authentication, TLS Web Client Authentication"}) {
    CAPTURE(expected);
    CHECK(text.output.find(expected) != std::string::npos);
  }
  CHECK(text.output.find("Key Encipherment") == std::string::npos);
}

TEST_CASE("CSRs made by openssl req are accepted and signed into valid SVIDs") {
  TempDir dir;
  TimePoint now = SystemClock::Get().Now();
  TestCa ca = TestCa::Root("td", now);
  dir.Write("ca.pem", ca.root().ToPem());
  RequireOpenssl(dir, std::string("openssl req -new ") + kNewEcKey +
                          " -keyout key.pem -out csr.pem -subj /O=x"
                          " -addext subjectAltName=URI:spiffe://td/w");
  RequireOpenssl(dir, "openssl req -in csr.pem -outform DER -out csr.der");
  for (const char* file : {"csr.pem", "csr.der"}) {
    CAPTURE(file);
    auto csr = Csr::Parse(dir.Read(file));
    REQUIRE(csr.ok());
    auto id = csr->RequestedSpiffeId();
    REQUIRE(id.ok());
    CHECK(id->ToString() == "spiffe://td/w");
    auto svid = ca.signer().Sign(csr->public_key(), *id, now, 1h);
    REQUIRE(svid.ok());
    X509AuthorityMap bundles({{ca.td(), {ca.root()}}});
    auto verified = VerifyX509Svid({*svid}, bundles, now);
    REQUIRE(verified.ok());
    CHECK(verified->id.ToString() == "spiffe://td/w");
    // The openssl-generated private key goes with the SVID.
    auto key = PrivateKey::FromPem(dir.Read("key.pem"));
    REQUIRE(key.ok());
    auto own = spinel::common::ParseOwnX509Svid(svid->ToDer(), key->ToPkcs8Der()->view());
    CHECK(own.ok());
  }
  // The fast path (the CSR's own key encoding) gives a certificate openssl verifies too.
  auto csr = Csr::Parse(dir.Read("csr.der"));
  auto der = ca.signer().SignDer(*csr, *csr->RequestedSpiffeId(), now, 1h);
  REQUIRE(der.ok());
  dir.Write("svid.pem", Certificate::FromDer(*der)->ToPem());
  RunResult r = Run(dir, "openssl verify -purpose sslclient -CAfile ca.pem svid.pem");
  INFO(r.output);
  CHECK(r.exit_code == 0);
}

TEST_CASE("openssl CSRs with P-384 and RSA keys are accepted; SHA-1 signatures are not") {
  TempDir dir;
  TimePoint now = SystemClock::Get().Now();
  TestCa ca = TestCa::Root("td", now);
  X509AuthorityMap bundles({{ca.td(), {ca.root()}}});
  const std::string san = " -subj /O=x -addext subjectAltName=URI:spiffe://td/w -outform DER";
  RequireOpenssl(dir,
                 "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes"
                 " -sha384 -keyout p384.key -out p384.der" +
                     san);
  RequireOpenssl(dir,
                 "openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.der" + san);
  RequireOpenssl(dir,
                 "openssl req -new -newkey rsa:2048 -nodes -sha1 -keyout sha1.key"
                 " -out sha1.der" +
                     san);
  for (const char* file : {"p384.der", "rsa.der"}) {
    CAPTURE(file);
    auto csr = Csr::FromDer(dir.Read(file));
    REQUIRE(csr.ok());
    auto der = ca.signer().SignDer(*csr, *csr->RequestedSpiffeId(), now, 1h);
    REQUIRE(der.ok());
    auto svid = Certificate::FromDer(*der);
    REQUIRE(svid.ok());
    CHECK(svid->GetPublicKey()->Equals(csr->public_key()));
    CHECK(VerifyX509Svid({*svid}, bundles, now).ok());
  }
  auto sha1 = Csr::FromDer(dir.Read("sha1.der"));
  CHECK(Message(sha1.status()) == "unsupported CSR signature algorithm");
}

TEST_CASE("openssl accepts CSRs made by the library") {
  TempDir dir;
  auto key = PrivateKey::Generate();
  auto id = spinel::common::SpiffeId::Parse("spiffe://td/w");
  auto der = spinel::common::CreateCsrDer(*key, *id, {"w.td.example"});
  REQUIRE(der.ok());
  dir.Write("csr.der", *der);
  RunResult r = Run(dir, "openssl req -in csr.der -inform DER -verify -noout -text");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("verify OK") != std::string::npos);
  CHECK(r.output.find("URI:spiffe://td/w, DNS:w.td.example") != std::string::npos);
}

TEST_CASE("certificates crafted with openssl are rejected by the validator for the right reason") {
  TempDir dir;
  RequireOpenssl(dir, std::string("openssl req -x509 ") + kNewEcKey +
                          " -keyout ca.key -out ca.pem -subj /O=ca -days 1"
                          " -addext subjectAltName=URI:spiffe://td"
                          " -addext basicConstraints=critical,CA:TRUE"
                          " -addext keyUsage=critical,keyCertSign,cRLSign");
  auto ca = Certificate::ParsePemChain(dir.Read("ca.pem"));
  REQUIRE(ca.ok());
  auto td = spinel::common::TrustDomain::Parse("td");
  X509AuthorityMap bundles({{*td, *ca}});
  auto mint = [&](std::string_view name, std::string_view extensions) {
    std::string command = std::string("openssl req -x509 -CA ca.pem -CAkey ca.key ") + kNewEcKey +
                          " -keyout " + std::string(name) + ".key -out " + std::string(name) +
                          ".pem -subj /O=" + std::string(name) + " -days 1 " +
                          std::string(extensions);
    RequireOpenssl(dir, command);
    auto cert = Certificate::ParsePemChain(dir.Read(std::string(name) + ".pem"));
    REQUIRE(cert.ok());
    // openssl stamps notBefore with its own clock: verify at a time taken after it ran.
    return VerifyX509Svid(*cert, bundles, SystemClock::Get().Now());
  };
  // Control: a conforming leaf made the same way verifies.
  auto good = mint("good",
                   "-addext subjectAltName=URI:spiffe://td/a"
                   " -addext basicConstraints=critical,CA:FALSE"
                   " -addext keyUsage=critical,digitalSignature");
  REQUIRE(good.ok());
  CHECK(good->id.ToString() == "spiffe://td/a");

  auto two_uris = mint("two",
                       "-addext 'subjectAltName=URI:spiffe://td/a,URI:spiffe://td/b'"
                       " -addext basicConstraints=critical,CA:FALSE"
                       " -addext keyUsage=critical,digitalSignature");
  CHECK(Message(two_uris.status()) == "certificate has 2 URI SANs");

  auto ca_leaf = mint("caleaf",
                      "-addext subjectAltName=URI:spiffe://td/a"
                      " -addext basicConstraints=critical,CA:TRUE"
                      " -addext keyUsage=critical,digitalSignature");
  CHECK(Message(ca_leaf.status()) == "leaf certificate is a CA");

  auto root_id = mint("rootid",
                      "-addext subjectAltName=URI:spiffe://td"
                      " -addext basicConstraints=critical,CA:FALSE"
                      " -addext keyUsage=critical,digitalSignature");
  CHECK(Message(root_id.status()).find("has no path") != std::string::npos);

  auto no_ku = mint("noku",
                    "-addext subjectAltName=URI:spiffe://td/a"
                    " -addext basicConstraints=critical,CA:FALSE");
  CHECK(Message(no_ku.status()) == "leaf certificate lacks keyUsage digitalSignature");
}
