// Interop with python3-cryptography (pyca), whose Rust ASN.1 parser insists on strict DER:
// it must parse the certificates and CSRs the library encodes, verify their signatures and
// read every SVID extension the way the spec wants it. Skipped when pyca is not installed.
#include <doctest/doctest.h>

#include "common/csr.h"
#include "common/x509_svid.h"
#include "tests/common/python_interop.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_ca.h"

using namespace std::chrono_literals;
using spinel::common::PrivateKey;
using spinel::common::SpiffeId;
using spinel::common::X509SvidSignerOptions;
using spinel::testing::FakeClock;
using spinel::testing::PythonCanImport;
using spinel::testing::PythonRun;
using spinel::testing::RunPythonScript;
using spinel::testing::TempDir;
using spinel::testing::TestCa;

namespace {

// Prints "name value" lines about ca.der, int.der, leaf.der, bare.der and csr.der.
constexpr char kScript[] = R"PY(
import datetime
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

def load(name):
    with open(name, "rb") as f:
        return x509.load_der_x509_certificate(f.read())

def check_signed(cert, issuer):
    issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                               ec.ECDSA(cert.signature_hash_algorithm))

def ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls)

def skid(cert):
    return ext(cert, x509.SubjectKeyIdentifier).value.digest

def not_after(cert):
    t = getattr(cert, "not_valid_after_utc", None)
    if t is None:
        t = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())

ca, inter, leaf, bare = load("ca.der"), load("int.der"), load("leaf.der"), load("bare.der")
check_signed(ca, ca)
check_signed(inter, ca)
check_signed(leaf, inter)
check_signed(bare, inter)
print("signatures ok")
print("ca_bc", ext(inter, x509.BasicConstraints).critical, ext(inter, x509.BasicConstraints).value.ca)
san = ext(leaf, x509.SubjectAlternativeName)
print("uris", ",".join(san.value.get_values_for_type(x509.UniformResourceIdentifier)))
print("dns", ",".join(san.value.get_values_for_type(x509.DNSName)))
print("san_critical", san.critical)
bc = ext(leaf, x509.BasicConstraints)
print("bc", bc.critical, bc.value.ca)
ku = ext(leaf, x509.KeyUsage)
print("ku", ku.critical, ku.value.digital_signature, ku.value.key_encipherment,
      ku.value.key_agreement, ku.value.key_cert_sign, ku.value.crl_sign)
eku = ext(leaf, x509.ExtendedKeyUsage)
print("eku", eku.critical, ",".join(sorted(o.dotted_string for o in eku.value)))
print("skid_ok", skid(leaf) == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key()).digest)
print("akid_ok", ext(leaf, x509.AuthorityKeyIdentifier).value.key_identifier == skid(inter))
print("version", leaf.version.name)
print("serial_bits", leaf.serial_number.bit_length())
print("not_after", not_after(leaf))
print("subject", leaf.subject.rfc4514_string())
print("bare_subject_empty", len(bare.subject) == 0)
print("bare_san_critical", ext(bare, x509.SubjectAlternativeName).critical)
with open("csr.der", "rb") as f:
    csr = x509.load_der_x509_csr(f.read())
print("csr_valid", csr.is_signature_valid)
print("csr_uris", ",".join(csr.extensions.get_extension_for_class(
    x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)))
)PY";

}  // namespace

TEST_CASE("python3-cryptography parses and verifies what the library encodes") {
  TempDir dir;
  if (!PythonCanImport(dir, "cryptography.x509")) {
    MESSAGE("python3-cryptography is not installed; skipping");
    return;
  }
  FakeClock clock;
  TestCa root = TestCa::Root("example.org", clock.Now());
  TestCa ca = root.Intermediate(clock.Now());
  auto key = PrivateKey::Generate();
  auto id = SpiffeId::Parse("spiffe://example.org/ns/prod/sa/api");
  auto csr_der = spinel::common::CreateCsrDer(*key, *id, {"api.example.org"});
  REQUIRE(csr_der.ok());
  auto csr = spinel::common::Csr::FromDer(*csr_der);
  REQUIRE(csr.ok());
  auto leaf = ca.signer().SignDer(*csr, *id, clock.Now(), 1h, {"api.example.org", "*.api.test"});
  REQUIRE(leaf.ok());
  X509SvidSignerOptions bare_options;
  bare_options.subject = {};
  auto bare_signer = spinel::common::X509SvidSigner::Create(
      ca.td(), ca.cert(), *PrivateKey::FromPkcs8Der(ca.key().ToPkcs8Der()->view()), bare_options);
  REQUIRE(bare_signer.ok());
  auto bare = (*bare_signer)->SignDer(*key->Public(), *id, clock.Now(), 1h);
  REQUIRE(bare.ok());
  dir.Write("ca.der", root.root().ToDer());
  dir.Write("int.der", ca.cert().ToDer());
  dir.Write("leaf.der", *leaf);
  dir.Write("bare.der", *bare);
  dir.Write("csr.der", *csr_der);
  PythonRun r = RunPythonScript(dir, "check.py", kScript);
  INFO(r.output);
  auto& got = r.values;
  CHECK(got["signatures"] == "ok");
  CHECK(got["ca_bc"] == "True True");
  CHECK(got["uris"] == "spiffe://example.org/ns/prod/sa/api");
  CHECK(got["dns"] == "api.example.org,*.api.test");
  CHECK(got["san_critical"] == "False");
  CHECK(got["bc"] == "True False");
  CHECK(got["ku"] == "True True False False False False");
  CHECK(got["eku"] == "False 1.3.6.1.5.5.7.3.1,1.3.6.1.5.5.7.3.2");
  CHECK(got["skid_ok"] == "True");
  CHECK(got["akid_ok"] == "True");
  CHECK(got["version"] == "v3");
  CHECK(got["serial_bits"] == "127");
  CHECK(got["not_after"] == std::to_string(spinel::common::ToUnixSeconds(clock.Now() + 1h)));
  CHECK(got["subject"] == "O=SPIFFE,C=US");
  CHECK(got["bare_subject_empty"] == "True");
  CHECK(got["bare_san_critical"] == "True");
  CHECK(got["csr_valid"] == "True");
  CHECK(got["csr_uris"] == "spiffe://example.org/ns/prod/sa/api");
}
