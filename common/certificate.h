// Certificate: an immutable, reference-counted X.509 certificate with the accessors SPIFFE
// code needs. Parsing functions accept DER, concatenated DER (the Workload API's chain and
// bundle encoding) and PEM. Copies share the underlying X509 (X509_up_ref); all const methods
// are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/ssl_ptr.h"

namespace spinel::common {

class Certificate {
 public:
  // Takes ownership of `x509` (must not be null).
  static Certificate Adopt(SslPtr<X509> x509);
  // Exactly one DER certificate; trailing bytes are an error.
  static absl::StatusOr<Certificate> FromDer(std::string_view der);
  // One or more certificates concatenated in DER (leaf first for chains).
  static absl::StatusOr<std::vector<Certificate>> ParseDerChain(std::string_view der);
  // Every "CERTIFICATE" block of a PEM text, in order; at least one is required.
  static absl::StatusOr<std::vector<Certificate>> ParsePemChain(std::string_view pem);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;

  std::string ToDer() const;
  std::string ToPem() const;

  absl::StatusOr<PublicKey> GetPublicKey() const;
  TimePoint NotBefore() const;
  TimePoint NotAfter() const;
  // Lower-case hex of the serial number.
  std::string SerialHex() const;
  // One-line RFC 2253 subject, e.g. "O=SPIFFE,C=US".
  std::string SubjectString() const;
  // The URI subjectAltNames, in certificate order.
  std::vector<std::string> UriSans() const;
  std::vector<std::string> DnsSans() const;
  // basicConstraints cA (false when the extension is absent).
  bool IsCa() const;
  // Hex subject key identifier, "" when absent.
  std::string SubjectKeyIdHex() const;
  bool Equals(const Certificate& other) const;

  // Borrowed; owned by this object.
  X509* x509() const { return x509_.get(); }

 private:
  // Fills OpenSSL's extension cache now (see certificate.cc).
  explicit Certificate(SslPtr<X509> x509);
  SslPtr<X509> x509_;
};

// Concatenated DER of `certs` (the Workload API's chain/bundle encoding).
std::string ConcatDer(const std::vector<Certificate>& certs);
// PEM blocks of `certs`, one after another.
std::string ConcatPem(const std::vector<Certificate>& certs);

}  // namespace spinel::common
