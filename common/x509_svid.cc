#include "common/x509_svid.h"

#include <algorithm>

#include "common/der_reader.h"
#include "common/der_writer.h"
#include "common/spki.h"
#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

// version [0] EXPLICIT INTEGER 2 (v3).
constexpr std::string_view kVersion3("\xa0\x03\x02\x01\x02", 5);

absl::Status CheckCaCertificate(const TrustDomain& td, const Certificate& ca_cert,
                                const PrivateKey& ca_key) {
  if (td.empty()) return absl::InvalidArgumentError("X509-SVID signer needs a trust domain");
  if (!ca_cert.IsCa()) {
    return absl::InvalidArgumentError("signing certificate is not a CA (basicConstraints)");
  }
  if ((X509_get_key_usage(ca_cert.x509()) & KU_KEY_CERT_SIGN) == 0) {
    return absl::InvalidArgumentError("signing certificate lacks keyUsage keyCertSign");
  }
  if (EVP_PKEY_eq(ca_key.evp(), X509_get0_pubkey(ca_cert.x509())) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError("CA key does not match the CA certificate");
  }
  for (const std::string& uri : ca_cert.UriSans()) {
    if (uri != td.IdString()) {
      return absl::InvalidArgumentError(StrCat("CA certificate URI SAN ", Quote(uri),
                                               " is not the trust domain ", td.IdString()));
    }
  }
  return absl::OkStatus();
}

// DER of an OpenSSL object through its i2d function.
template <typename T>
absl::StatusOr<std::string> ToDer(int (*i2d)(const T*, unsigned char**), const T* object) {
  unsigned char* der = nullptr;
  int len = i2d(object, &der);
  if (len <= 0) return SslError("encoding DER");
  OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
}

// AlgorithmIdentifier for signatures by `key` with `digest` (RSA carries NULL parameters).
absl::StatusOr<std::string> SignatureAlgorithm(const PrivateKey& key, const EVP_MD* digest) {
  int signature_nid = NID_undef;
  if (OBJ_find_sigid_by_algs(&signature_nid, EVP_MD_get_type(digest),
                             EVP_PKEY_get_base_id(key.evp())) != 1) {
    return SslError("no signature algorithm for the CA key");
  }
  std::string content = DerOid(signature_nid);
  if (key.type() == KeyType::kRsa) content.append("\x05\x00", 2);
  return Tlv(der::kSequence, content);
}

// The subjectKeyIdentifier extension: SHA-1 of the subjectPublicKey BIT STRING value.
absl::StatusOr<std::string> SubjectKeyIdExtensionDer(std::string_view spki) {
  DerReader outer(spki);
  absl::StatusOr<DerElement> sequence = outer.Expect(V_ASN1_SEQUENCE, "SPKI");
  if (!sequence.ok()) return sequence.status();
  DerReader fields(sequence->content);
  absl::StatusOr<DerElement> algorithm = fields.Expect(V_ASN1_SEQUENCE, "SPKI algorithm");
  if (!algorithm.ok()) return algorithm.status();
  absl::StatusOr<DerElement> bits = fields.Expect(V_ASN1_BIT_STRING, "SPKI key");
  if (!bits.ok()) return bits.status();
  absl::StatusOr<std::string_view> key = BitStringBytes(*bits, "SPKI key");
  if (!key.ok()) return key.status();
  unsigned char sha1[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(key->data(), key->size(), sha1, &len, EVP_sha1(), nullptr) != 1) {
    return SslError("computing key identifier");
  }
  std::string key_id = Tlv(der::kOctetString, std::string_view(reinterpret_cast<char*>(sha1), len));
  return Tlv(der::kSequence, DerOid(NID_subject_key_identifier) + Tlv(der::kOctetString, key_id));
}

}  // namespace

absl::StatusOr<std::unique_ptr<X509SvidSigner>> X509SvidSigner::Create(
    const TrustDomain& td, Certificate ca_cert, PrivateKey ca_key, X509SvidSignerOptions options) {
  if (absl::Status s = CheckCaCertificate(td, ca_cert, ca_key); !s.ok()) return s;
  std::unique_ptr<X509SvidSigner> signer(
      new X509SvidSigner(td, std::move(ca_cert), std::move(ca_key), std::move(options)));
  if (absl::Status s = signer->Prepare(); !s.ok()) return s;
  return signer;
}

absl::Status X509SvidSigner::Prepare() {
  ca_not_after_ = ca_cert_.NotAfter();
  san_critical_ = options_.subject.empty();
  digest_ = DefaultDigest(ca_key_.type());
  absl::StatusOr<std::string> algorithm = SignatureAlgorithm(ca_key_, digest_);
  absl::StatusOr<std::string> issuer = ToDer(i2d_X509_NAME, X509_get_subject_name(ca_cert_.x509()));
  absl::StatusOr<SslPtr<X509_NAME>> subject_name = BuildName(options_.subject);
  if (!subject_name.ok()) return subject_name.status();
  absl::StatusOr<std::string> subject = ToDer(i2d_X509_NAME, subject_name->get());
  absl::StatusOr<std::string> ca_key_id = KeyIdOf(ca_cert_.x509());
  for (const auto* part : {&algorithm, &issuer, &subject, &ca_key_id}) {
    if (!part->ok()) return part->status();
  }
  signature_algorithm_ = *algorithm;
  issuer_ = *issuer;
  subject_ = *subject;
  absl::StatusOr<SslPtr<X509_EXTENSION>> exts[] = {
      BasicConstraintsExtension(/*ca=*/false),
      KeyUsageExtension(KU_DIGITAL_SIGNATURE),
      ExtKeyUsageExtension({NID_server_auth, NID_client_auth}),
      AuthorityKeyIdExtension(*ca_key_id),
  };
  for (auto& ext : exts) {
    if (!ext.ok()) return ext.status();
    absl::StatusOr<std::string> der = ToDer(i2d_X509_EXTENSION, ext->get());
    if (!der.ok()) return der.status();
    fixed_extensions_ += *der;
  }
  return absl::OkStatus();
}

absl::Status X509SvidSigner::CheckRequest(const SpiffeId& id, TimePoint now, Duration ttl) const {
  if (id.empty()) return absl::InvalidArgumentError("X509-SVID needs a SPIFFE ID");
  if (id.path().empty()) {
    return absl::InvalidArgumentError(
        StrCat("SPIFFE ID ", id.ToString(), " has no path; X509-SVIDs need a non-root path"));
  }
  if (!id.MemberOf(td_)) {
    return absl::InvalidArgumentError(
        StrCat("SPIFFE ID ", id.ToString(), " is not in the signer's trust domain ", td_.name()));
  }
  if (ttl <= Duration::zero()) return absl::InvalidArgumentError("X509-SVID ttl must be positive");
  if (now >= ca_not_after_) {
    return absl::FailedPreconditionError("the CA certificate has expired");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> X509SvidSigner::Extensions(
    std::string_view spki, const SpiffeId& id, const std::vector<std::string>& dns_names) const {
  absl::StatusOr<std::string> skid = SubjectKeyIdExtensionDer(spki);
  if (!skid.ok()) return skid.status();
  std::string names = Tlv(der::ContextPrimitive(GEN_URI), id.ToString());
  for (const std::string& dns : dns_names) {
    if (absl::Status s = CheckDnsName(dns); !s.ok()) return s;
    AppendTlv(names, der::ContextPrimitive(GEN_DNS), dns);
  }
  std::string san = DerOid(NID_subject_alt_name);
  if (san_critical_) san.append("\x01\x01\xff", 3);  // critical BOOLEAN TRUE
  AppendTlv(san, der::kOctetString, Tlv(der::kSequence, names));
  std::string all = fixed_extensions_ + *skid + Tlv(der::kSequence, san);
  return Tlv(der::ContextConstructed(3), Tlv(der::kSequence, all));
}

absl::StatusOr<std::string> X509SvidSigner::SignBytes(std::string_view data) const {
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_, nullptr, ca_key_.evp()) != 1) {
    return SslError("initialising X509-SVID signature");
  }
  std::string signature(static_cast<size_t>(EVP_PKEY_get_size(ca_key_.evp())), '\0');
  size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return SslError("signing X509-SVID");
  }
  signature.resize(len);
  return signature;
}

absl::StatusOr<std::string> X509SvidSigner::SignDer(
    const PublicKey& public_key, const SpiffeId& id, TimePoint now, Duration ttl,
    const std::vector<std::string>& dns_names) const {
  if (absl::Status s = CheckRequest(id, now, ttl); !s.ok()) return s;
  absl::StatusOr<std::string> spki = EncodeSpki(public_key.evp());
  if (!spki.ok()) return spki.status();
  return SignSpki(*spki, id, now, ttl, dns_names);
}

absl::StatusOr<std::string> X509SvidSigner::SignDer(
    const Csr& csr, const SpiffeId& id, TimePoint now, Duration ttl,
    const std::vector<std::string>& dns_names) const {
  if (absl::Status s = CheckRequest(id, now, ttl); !s.ok()) return s;
  return SignSpki(csr.spki_der(), id, now, ttl, dns_names);
}

absl::StatusOr<std::string> X509SvidSigner::SignSpki(
    std::string_view spki, const SpiffeId& id, TimePoint now, Duration ttl,
    const std::vector<std::string>& dns_names) const {
  absl::StatusOr<std::string> serial = RandomSerialBytes();
  if (!serial.ok()) return serial.status();
  absl::StatusOr<std::string> extensions = Extensions(spki, id, dns_names);
  if (!extensions.ok()) return extensions.status();
  // ca_not_after_ > now (CheckRequest); compare durations so a huge ttl cannot overflow.
  TimePoint not_after = ttl < ca_not_after_ - now ? now + ttl : ca_not_after_;
  std::string tbs(kVersion3);
  AppendTlv(tbs, der::kInteger, *serial);
  tbs += signature_algorithm_;
  tbs += issuer_;
  AppendTlv(tbs, der::kSequence, DerTime(now - options_.backdate) + DerTime(not_after));
  tbs += subject_;
  tbs += spki;
  tbs += *extensions;
  tbs = Tlv(der::kSequence, tbs);
  absl::StatusOr<std::string> signature = SignBytes(tbs);
  if (!signature.ok()) return signature.status();
  return Tlv(der::kSequence, tbs + signature_algorithm_ + DerBitString(*signature));
}

absl::StatusOr<Certificate> X509SvidSigner::Sign(const PublicKey& public_key, const SpiffeId& id,
                                                 TimePoint now, Duration ttl,
                                                 const std::vector<std::string>& dns_names) const {
  absl::StatusOr<std::string> der = SignDer(public_key, id, now, ttl, dns_names);
  if (!der.ok()) return der.status();
  return Certificate::FromDer(*der);
}

}  // namespace spinel::common
