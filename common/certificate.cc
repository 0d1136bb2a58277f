#include "common/certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

TimePoint AsnTimeToTimePoint(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint();
  return FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

std::string ToHex(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

std::vector<std::string> SansOfType(X509* x509, int type) {
  std::vector<std::string> out;
  SslPtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != type) continue;
    const ASN1_STRING* s = name->d.ia5;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

}  // namespace

// OpenSSL fills an X509's extension cache (flags, key identifiers) on first use, writing into
// the object. Filled here, before the certificate can be shared (copies share the X509), the
// X509 stays read-only afterwards: threads verifying against the same authorities at once
// (the agent's Authorize and Workload API calls) do not race on it.
Certificate::Certificate(SslPtr<X509> x509) : x509_(std::move(x509)) {
  if (x509_) X509_get_extension_flags(x509_.get());
}

Certificate Certificate::Adopt(SslPtr<X509> x509) { return Certificate(std::move(x509)); }

absl::StatusOr<Certificate> Certificate::FromDer(std::string_view der) {
  absl::StatusOr<std::vector<Certificate>> certs = ParseDerChain(der);
  if (!certs.ok()) return certs.status();
  if (certs->size() != 1) {
    return absl::InvalidArgumentError(
        StrCat("expected one DER certificate, found ", certs->size()));
  }
  return std::move(certs->front());
}

absl::StatusOr<std::vector<Certificate>> Certificate::ParseDerChain(std::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("no certificate bytes");
  std::vector<Certificate> out;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = p + der.size();
  while (p < end) {
    SslPtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(end - p)));
    if (!x509) {
      return SslError(StrCat("parsing DER certificate #", out.size() + 1),
                      absl::StatusCode::kInvalidArgument);
    }
    out.push_back(Certificate(std::move(x509)));
  }
  return out;
}

absl::StatusOr<std::vector<Certificate>> Certificate::ParsePemChain(std::string_view pem) {
  SslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> out;
  while (true) {
    SslPtr<X509> x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x509) break;
    out.push_back(Certificate(std::move(x509)));
  }
  // PEM_R_NO_START_LINE after the last block marks the end of the stream.
  unsigned long err = ERR_peek_last_error();
  bool clean_eof = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (!out.empty() && (err == 0 || clean_eof)) {
    ClearSslErrors();
    return out;
  }
  if (out.empty() && clean_eof) {
    ClearSslErrors();
    return absl::InvalidArgumentError("no PEM CERTIFICATE block found");
  }
  return SslError(StrCat("parsing PEM certificate #", out.size() + 1),
                  absl::StatusCode::kInvalidArgument);
}

Certificate::Certificate(const Certificate& other) {
  X509_up_ref(other.x509_.get());
  x509_.reset(other.x509_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    X509_up_ref(other.x509_.get());
    x509_.reset(other.x509_.get());
  }
  return *this;
}

std::string Certificate::ToDer() const {
  unsigned char* der = nullptr;
  int len = i2d_X509(x509_.get(), &der);
  if (len <= 0) return std::string();
  OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
}

std::string Certificate::ToPem() const {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x509_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<PublicKey> Certificate::GetPublicKey() const {
  return PublicKey::FromEvp(X509_get0_pubkey(x509_.get()));
}

TimePoint Certificate::NotBefore() const {
  return AsnTimeToTimePoint(X509_get0_notBefore(x509_.get()));
}

TimePoint Certificate::NotAfter() const {
  return AsnTimeToTimePoint(X509_get0_notAfter(x509_.get()));
}

std::string Certificate::SerialHex() const {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509_.get());
  return ToHex(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial)));
}

std::string Certificate::SubjectString() const {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(x509_.get()), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::vector<std::string> Certificate::UriSans() const { return SansOfType(x509_.get(), GEN_URI); }

std::vector<std::string> Certificate::DnsSans() const { return SansOfType(x509_.get(), GEN_DNS); }

bool Certificate::IsCa() const {
  // X509_get_extension_flags caches the parsed extensions; EXFLAG_CA is basicConstraints cA.
  return (X509_get_extension_flags(x509_.get()) & EXFLAG_CA) != 0;
}

std::string Certificate::SubjectKeyIdHex() const {
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(x509_.get());
  if (skid == nullptr) return std::string();
  return ToHex(ASN1_STRING_get0_data(skid), static_cast<size_t>(ASN1_STRING_length(skid)));
}

bool Certificate::Equals(const Certificate& other) const {
  return X509_cmp(x509_.get(), other.x509_.get()) == 0;
}

std::string ConcatDer(const std::vector<Certificate>& certs) {
  std::string out;
  for (const Certificate& c : certs) out += c.ToDer();
  return out;
}

std::string ConcatPem(const std::vector<Certificate>& certs) {
  std::string out;
  for (const Certificate& c : certs) out += c.ToPem();
  return out;
}

}  // namespace spinel::common
