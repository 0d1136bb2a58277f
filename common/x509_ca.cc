#include "common/x509_ca.h"

#include <algorithm>

#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

absl::Status CheckArguments(const TrustDomain& td, Duration ttl) {
  if (td.empty()) return absl::InvalidArgumentError("CA certificate needs a trust domain");
  if (ttl <= Duration::zero() || ttl > kMaxCaTtl) {
    return absl::InvalidArgumentError("CA ttl must be positive and at most 100 years");
  }
  return absl::OkStatus();
}

bool HasSerialNumberAttribute(const DistinguishedName& dn) {
  return std::any_of(dn.begin(), dn.end(), [](const NameAttribute& a) {
    return OBJ_txt2nid(a.field.c_str()) == NID_serialNumber;
  });
}

absl::Status SetSubject(X509* x509, const CaOptions& options) {
  DistinguishedName dn = options.subject;
  if (!HasSerialNumberAttribute(dn)) {
    absl::StatusOr<std::string> serial = SerialDecimal(*X509_get0_serialNumber(x509));
    if (!serial.ok()) return serial.status();
    dn.push_back({"serialNumber", *serial});
  }
  absl::StatusOr<SslPtr<X509_NAME>> name = BuildName(dn);
  if (!name.ok()) return name.status();
  if (X509_set_subject_name(x509, name->get()) != 1) return SslError("setting CA subject");
  return absl::OkStatus();
}

absl::Status AddCaExtensions(X509* x509, const TrustDomain& td) {
  absl::StatusOr<std::string> key_id = ComputeKeyId(x509);
  if (!key_id.ok()) return key_id.status();
  absl::StatusOr<SslPtr<X509_EXTENSION>> exts[] = {
      BasicConstraintsExtension(/*ca=*/true),
      KeyUsageExtension(KU_KEY_CERT_SIGN | KU_CRL_SIGN),
      SubjectKeyIdExtension(*key_id),
      SubjectAltNameExtension({td.IdString()}, {}, /*critical=*/false),
  };
  for (const auto& ext : exts) {
    if (!ext.ok()) return ext.status();
    if (absl::Status s = AddExtension(x509, **ext); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Everything but issuer, authorityKeyIdentifier and signature.
absl::StatusOr<SslPtr<X509>> NewCaTemplate(const TrustDomain& td, EVP_PKEY* public_key,
                                           TimePoint not_before, TimePoint not_after,
                                           const CaOptions& options) {
  SslPtr<X509> x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), X509_VERSION_3) != 1) return SslError("X509_new");
  absl::StatusOr<SslPtr<ASN1_INTEGER>> serial = RandomSerial();
  if (!serial.ok()) return serial.status();
  if (X509_set_serialNumber(x509.get(), serial->get()) != 1 ||
      X509_set_pubkey(x509.get(), public_key) != 1) {
    return SslError("building CA certificate");
  }
  if (absl::Status s = SetSubject(x509.get(), options); !s.ok()) return s;
  if (absl::Status s = SetValidity(x509.get(), not_before, not_after); !s.ok()) return s;
  if (absl::Status s = AddCaExtensions(x509.get(), td); !s.ok()) return s;
  return x509;
}

// Sets the issuer name and authorityKeyIdentifier, then signs with `issuer_key`.
absl::StatusOr<Certificate> IssueAndSign(SslPtr<X509> x509, const X509_NAME* issuer_name,
                                         std::string_view issuer_key_id,
                                         const PrivateKey& issuer_key) {
  if (X509_set_issuer_name(x509.get(), issuer_name) != 1) return SslError("setting CA issuer");
  absl::StatusOr<SslPtr<X509_EXTENSION>> akid = AuthorityKeyIdExtension(issuer_key_id);
  if (!akid.ok()) return akid.status();
  if (absl::Status s = AddExtension(x509.get(), **akid); !s.ok()) return s;
  if (absl::Status s = SignCertificate(x509.get(), issuer_key); !s.ok()) return s;
  return Certificate::Adopt(std::move(x509));
}

absl::Status CheckUpstream(const PrivateKey& upstream_key, const Certificate& upstream_cert,
                           TimePoint now) {
  if (!upstream_cert.IsCa()) {
    return absl::InvalidArgumentError("upstream certificate is not a CA (basicConstraints)");
  }
  if ((X509_get_key_usage(upstream_cert.x509()) & KU_KEY_CERT_SIGN) == 0) {
    return absl::InvalidArgumentError("upstream certificate lacks keyUsage keyCertSign");
  }
  if (EVP_PKEY_eq(upstream_key.evp(), X509_get0_pubkey(upstream_cert.x509())) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError("upstream key does not match the upstream certificate");
  }
  if (now >= upstream_cert.NotAfter()) {
    return absl::FailedPreconditionError("upstream CA certificate has expired");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Certificate> CreateSelfSignedCa(const TrustDomain& td, const PrivateKey& key,
                                               TimePoint now, Duration ttl,
                                               const CaOptions& options) {
  if (absl::Status s = CheckArguments(td, ttl); !s.ok()) return s;
  absl::StatusOr<SslPtr<X509>> x509 =
      NewCaTemplate(td, key.evp(), now - options.backdate, now + ttl, options);
  if (!x509.ok()) return x509.status();
  // Self-signed: the issuer is the certificate itself. ComputeKeyId, not KeyIdOf: looking up
  // the SKID would make OpenSSL cache the extensions of the still unfinished certificate.
  absl::StatusOr<std::string> key_id = ComputeKeyId(x509->get());
  if (!key_id.ok()) return key_id.status();
  const X509_NAME* subject = X509_get_subject_name(x509->get());
  return IssueAndSign(std::move(*x509), subject, *key_id, key);
}

absl::StatusOr<Certificate> CreateIntermediateCa(const TrustDomain& td,
                                                 const PublicKey& ca_public_key,
                                                 const PrivateKey& upstream_key,
                                                 const Certificate& upstream_cert, TimePoint now,
                                                 Duration ttl, const CaOptions& options) {
  if (absl::Status s = CheckArguments(td, ttl); !s.ok()) return s;
  if (absl::Status s = CheckUpstream(upstream_key, upstream_cert, now); !s.ok()) return s;
  TimePoint not_after = std::min(now + ttl, upstream_cert.NotAfter());
  absl::StatusOr<SslPtr<X509>> x509 =
      NewCaTemplate(td, ca_public_key.evp(), now - options.backdate, not_after, options);
  if (!x509.ok()) return x509.status();
  absl::StatusOr<std::string> upstream_key_id = KeyIdOf(upstream_cert.x509());
  if (!upstream_key_id.ok()) return upstream_key_id.status();
  return IssueAndSign(std::move(*x509), X509_get_subject_name(upstream_cert.x509()),
                      *upstream_key_id, upstream_key);
}

}  // namespace spinel::common
