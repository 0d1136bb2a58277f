// PKCS#10 certificate signing requests (RFC 2986): the way a workload's public key travels to
// the signer (the private key never leaves the node).
//
// CreateCsrDer builds a request for a key with the SPIFFE ID as URI SAN. Csr parses a request
// received from elsewhere and VERIFIES its self-signature before returning anything, so a
// Csr value always proves possession of the private key for public_key(). The CSR's subject
// and all extensions other than subjectAltName are ignored: the signer decides what the
// certificate says (x509_svid.h).
//
// Accepted signature algorithms: ECDSA and RSA PKCS#1 v1.5 with SHA-256/384/512, matching the
// key type (no SHA-1, no RSA-PSS). Parsing walks the DER itself (der_reader.h) and imports the
// key through spki.h, because OpenSSL 3.0's d2i_X509_REQ alone costs more than the
// signature check and the certificate signature together (see spki.h); the signature is
// checked over the exact bytes received.
//
// Csr values are immutable and cheap to copy; all functions are thread-safe.
// Errors: InvalidArgument for malformed input, bad signatures and unsupported keys (the
// message says which); Internal for OpenSSL failures while creating a request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/keys.h"
#include "common/spiffe_id.h"

namespace spinel::common {

// Largest request the parsers accept (a P-256 CSR with a few SANs is ~300 bytes).
inline constexpr size_t kMaxCsrBytes = 64 * 1024;

// DER of a CSR signed by `key` (digest DefaultDigest(key.type())) with an empty subject and a
// subjectAltName extension request holding `id` as URI and then `dns_names` (each must pass
// CheckDnsName from x509_builder.h). `id` must not be empty.
absl::StatusOr<std::string> CreateCsrDer(const PrivateKey& key, const SpiffeId& id,
                                         const std::vector<std::string>& dns_names = {});

class Csr {
 public:
  // Exactly one DER request; trailing bytes are an error.
  static absl::StatusOr<Csr> FromDer(std::string_view der);
  // The first "CERTIFICATE REQUEST" (or "NEW CERTIFICATE REQUEST") PEM block.
  static absl::StatusOr<Csr> FromPem(std::string_view pem);
  // PEM when the text starts (after whitespace) with "-----BEGIN", DER otherwise.
  static absl::StatusOr<Csr> Parse(std::string_view der_or_pem);

  // The requested public key (EC P-256/P-384/P-521 or RSA >= 2048; others are rejected).
  const PublicKey& public_key() const { return public_key_; }
  // Canonical DER SubjectPublicKeyInfo of public_key() (X509SvidSigner copies it as is).
  const std::string& spki_der() const { return spki_der_; }
  // The URI / DNS names of the requested subjectAltName, in request order; unvalidated.
  const std::vector<std::string>& uri_sans() const { return uri_sans_; }
  const std::vector<std::string>& dns_sans() const { return dns_sans_; }
  // The one URI SAN parsed as a SPIFFE ID; InvalidArgument when there is not exactly one URI
  // SAN or it is not a valid SPIFFE ID.
  absl::StatusOr<SpiffeId> RequestedSpiffeId() const;

 private:
  Csr(PublicKey public_key, std::string spki_der, std::vector<std::string> uri_sans,
      std::vector<std::string> dns_sans)
      : public_key_(std::move(public_key)),
        spki_der_(std::move(spki_der)),
        uri_sans_(std::move(uri_sans)),
        dns_sans_(std::move(dns_sans)) {}

  PublicKey public_key_;
  std::string spki_der_;
  std::vector<std::string> uri_sans_;
  std::vector<std::string> dns_sans_;
};

}  // namespace spinel::common
