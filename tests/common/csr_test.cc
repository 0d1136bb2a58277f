#include "common/csr.h"

#include <doctest/doctest.h>
#include <openssl/pem.h>

#include "common/ssl_ptr.h"
#include "common/x509_builder.h"

using spinel::common::CreateCsrDer;
using spinel::common::Csr;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::SpiffeId;
using spinel::common::SslPtr;

namespace {

SpiffeId Id(std::string_view s) { return *SpiffeId::Parse(s); }

std::string DerToPem(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  SslPtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(req != nullptr);
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509_REQ(bio.get(), req.get()) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// A CSR with whatever subjectAltName URIs the test wants (CreateCsrDer allows only one).
std::string CsrWithUris(const PrivateKey& key, const std::vector<std::string>& uris) {
  SslPtr<X509_REQ> req(X509_REQ_new());
  REQUIRE(X509_REQ_set_pubkey(req.get(), key.evp()) == 1);
  if (!uris.empty()) {
    auto san = spinel::common::SubjectAltNameExtension(uris, {}, false);
    REQUIRE(san.ok());
    spinel::common::X509ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
    REQUIRE(sk_X509_EXTENSION_push(exts.get(), san->release()) > 0);
    REQUIRE(X509_REQ_add_extensions(req.get(), exts.get()) == 1);
  }
  REQUIRE(X509_REQ_sign(req.get(), key.evp(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  REQUIRE(len > 0);
  spinel::common::OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
}

}  // namespace

TEST_CASE("a created CSR parses back with its key, SPIFFE ID and DNS names") {
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  auto der = CreateCsrDer(*key, Id("spiffe://example.org/workload"), {"svc.example.org"});
  REQUIRE(der.ok());
  auto csr = Csr::FromDer(*der);
  REQUIRE(csr.ok());
  CHECK(csr->public_key().Equals(*key->Public()));
  CHECK(csr->uri_sans() == std::vector<std::string>{"spiffe://example.org/workload"});
  CHECK(csr->dns_sans() == std::vector<std::string>{"svc.example.org"});
  auto id = csr->RequestedSpiffeId();
  REQUIRE(id.ok());
  CHECK(id->ToString() == "spiffe://example.org/workload");
}

TEST_CASE("CSRs parse from PEM and Parse() detects the encoding") {
  auto key = PrivateKey::Generate(KeyType::kEcP384);
  auto der = CreateCsrDer(*key, Id("spiffe://td/a"));
  REQUIRE(der.ok());
  std::string pem = DerToPem(*der);
  CHECK(pem.find("-----BEGIN CERTIFICATE REQUEST-----") == 0);
  auto from_pem = Csr::FromPem(pem);
  REQUIRE(from_pem.ok());
  CHECK(from_pem->public_key().type() == KeyType::kEcP384);
  CHECK(Csr::Parse("\n" + pem)->public_key().Equals(*key->Public()));
  CHECK(Csr::Parse(*der)->public_key().Equals(*key->Public()));
  CHECK(from_pem->dns_sans().empty());
}

TEST_CASE("a CSR whose signed content was altered is rejected") {
  auto key = PrivateKey::Generate();
  auto der = CreateCsrDer(*key, Id("spiffe://td/workload"));
  REQUIRE(der.ok());
  std::string tampered = *der;
  size_t at = tampered.find("spiffe://td/workload");
  REQUIRE(at != std::string::npos);
  tampered[at + 12] = 'W';  // spiffe://td/Workload: still well-formed DER
  auto csr = Csr::FromDer(tampered);
  REQUIRE_FALSE(csr.ok());
  CHECK(csr.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(csr.status().message()).find("signature is invalid") != std::string::npos);
}

TEST_CASE("a CSR whose signature bytes were altered is rejected") {
  auto key = PrivateKey::Generate();
  auto der = CreateCsrDer(*key, Id("spiffe://td/workload"));
  REQUIRE(der.ok());
  // An ECDSA signature ends with the last byte of S: flipping it keeps the DER valid.
  std::string tampered = *der;
  tampered.back() = static_cast<char>(tampered.back() ^ 0x01);
  auto csr = Csr::FromDer(tampered);
  REQUIRE_FALSE(csr.ok());
  CHECK(std::string(csr.status().message()).find("signature is invalid") != std::string::npos);
}

TEST_CASE("malformed CSR input is InvalidArgument") {
  auto key = PrivateKey::Generate();
  auto der = *CreateCsrDer(*key, Id("spiffe://td/a"));
  for (const std::string& bad :
       {std::string(), std::string("not a csr"), der + "x", der.substr(0, der.size() - 3),
        std::string("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                    "-----END CERTIFICATE REQUEST-----\n")}) {
    auto csr = Csr::Parse(bad);
    CHECK_FALSE(csr.ok());
    CHECK(csr.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(std::string(Csr::FromDer(der + "x").status().message()).find("trailing") !=
        std::string::npos);
  CHECK_FALSE(Csr::FromDer(std::string(spinel::common::kMaxCsrBytes + 1, '0')).ok());
}

TEST_CASE("RequestedSpiffeId needs exactly one URI SAN that is a SPIFFE ID") {
  auto key = PrivateKey::Generate();
  auto none = Csr::FromDer(CsrWithUris(*key, {}));
  REQUIRE(none.ok());
  CHECK(none->uri_sans().empty());
  CHECK(std::string(none->RequestedSpiffeId().status().message()).find("0 URI SANs") !=
        std::string::npos);
  auto two = Csr::FromDer(CsrWithUris(*key, {"spiffe://td/a", "spiffe://td/b"}));
  REQUIRE(two.ok());
  CHECK(two->uri_sans().size() == 2);
  CHECK(std::string(two->RequestedSpiffeId().status().message()).find("2 URI SANs") !=
        std::string::npos);
  auto bad = Csr::FromDer(CsrWithUris(*key, {"spiffe://TD/a"}));
  REQUIRE(bad.ok());
  CHECK(bad->RequestedSpiffeId().status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("CreateCsrDer rejects an empty ID and bad DNS names") {
  auto key = PrivateKey::Generate();
  CHECK(CreateCsrDer(*key, SpiffeId()).status().code() == absl::StatusCode::kInvalidArgument);
  for (const char* bad : {"", "a..b", "-a.b", "a b", "a,URI:spiffe://x/y", "*.*.a"}) {
    CAPTURE(bad);
    CHECK(CreateCsrDer(*key, Id("spiffe://td/a"), {bad}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK(CreateCsrDer(*key, Id("spiffe://td/a"), {"*.svc.example", "a_b.c-d.example"}).ok());
}
