#include "common/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/der_reader.h"
#include "common/spki.h"
#include "common/ssl_error.h"
#include "common/strings.h"
#include "common/x509_builder.h"

namespace spinel::common {
namespace {

// The parts of a CertificationRequest (RFC 2986 §4) that Csr uses; views into the input.
struct CsrParts {
  std::string_view info;        // certificationRequestInfo with its header: the signed bytes
  std::string_view spki;        // subjectPKInfo
  std::string_view attributes;  // content of [0] attributes ("" when absent)
  DerElement signature_oid;
  std::string_view signature;
};

struct SignatureAlgorithm {
  int nid;
  bool ecdsa;  // ECDSA, else RSA PKCS#1 v1.5
  const EVP_MD* (*digest)();
};
constexpr SignatureAlgorithm kSignatureAlgorithms[] = {
    {NID_ecdsa_with_SHA256, true, EVP_sha256},
    {NID_ecdsa_with_SHA384, true, EVP_sha384},
    {NID_ecdsa_with_SHA512, true, EVP_sha512},
    {NID_sha256WithRSAEncryption, false, EVP_sha256},
    {NID_sha384WithRSAEncryption, false, EVP_sha384},
    {NID_sha512WithRSAEncryption, false, EVP_sha512},
};

absl::Status SplitInfo(std::string_view info_content, CsrParts& parts) {
  DerReader info(info_content);
  absl::StatusOr<DerElement> version = info.Expect(V_ASN1_INTEGER, "CSR version");
  if (!version.ok()) return version.status();
  if (version->content != std::string_view("\0", 1)) {
    return absl::InvalidArgumentError("CSR version is not 1");
  }
  absl::StatusOr<DerElement> subject = info.Expect(V_ASN1_SEQUENCE, "CSR subject");
  if (!subject.ok()) return subject.status();
  absl::StatusOr<DerElement> spki = info.Expect(V_ASN1_SEQUENCE, "CSR subjectPKInfo");
  if (!spki.ok()) return spki.status();
  parts.spki = spki->whole;
  if (info.empty()) return absl::OkStatus();
  absl::StatusOr<DerElement> attributes = info.Next("CSR attributes");
  if (!attributes.ok()) return attributes.status();
  if (attributes->tag_class != V_ASN1_CONTEXT_SPECIFIC || attributes->tag != 0 ||
      !attributes->constructed) {
    return absl::InvalidArgumentError("CSR attributes: unexpected DER element");
  }
  parts.attributes = attributes->content;
  return info.ExpectEnd("CSR certificationRequestInfo");
}

absl::StatusOr<CsrParts> SplitCsr(std::string_view der) {
  DerReader outer(der);
  absl::StatusOr<DerElement> request = outer.Expect(V_ASN1_SEQUENCE, "CSR");
  if (!request.ok()) return request.status();
  if (absl::Status s = outer.ExpectEnd("DER CSR"); !s.ok()) return s;
  DerReader fields(request->content);
  absl::StatusOr<DerElement> info = fields.Expect(V_ASN1_SEQUENCE, "CSR info");
  absl::StatusOr<DerElement> algorithm = fields.Expect(V_ASN1_SEQUENCE, "CSR signature algorithm");
  absl::StatusOr<DerElement> signature = fields.Expect(V_ASN1_BIT_STRING, "CSR signature");
  for (const auto* element : {&info, &algorithm, &signature}) {
    if (!element->ok()) return element->status();
  }
  if (absl::Status s = fields.ExpectEnd("CSR"); !s.ok()) return s;
  CsrParts parts;
  parts.info = info->whole;
  if (absl::Status s = SplitInfo(info->content, parts); !s.ok()) return s;
  absl::StatusOr<DerElement> oid =
      DerReader(algorithm->content).Expect(V_ASN1_OBJECT, "CSR signature algorithm");
  if (!oid.ok()) return oid.status();
  parts.signature_oid = *oid;
  absl::StatusOr<std::string_view> signature_bytes = BitStringBytes(*signature, "CSR signature");
  if (!signature_bytes.ok()) return signature_bytes.status();
  parts.signature = *signature_bytes;
  return parts;
}

absl::Status VerifySignature(const CsrParts& parts, const PublicKey& key) {
  const SignatureAlgorithm* algorithm = nullptr;
  for (const SignatureAlgorithm& a : kSignatureAlgorithms) {
    if (OidIs(parts.signature_oid, a.nid)) algorithm = &a;
  }
  if (algorithm == nullptr) {
    return absl::InvalidArgumentError("unsupported CSR signature algorithm");
  }
  if (algorithm->ecdsa != (key.type() != KeyType::kRsa)) {
    return absl::InvalidArgumentError("CSR signature algorithm does not match its key type");
  }
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, algorithm->digest(), nullptr, key.evp()) != 1) {
    return SslError("initialising CSR signature check");
  }
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(parts.signature.data()),
                       parts.signature.size(),
                       reinterpret_cast<const unsigned char*>(parts.info.data()),
                       parts.info.size()) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError("CSR signature is invalid");
  }
  return absl::OkStatus();
}

// The extensions of the extensionRequest attribute (PKCS#9), or null when there is none.
absl::StatusOr<X509ExtensionStackPtr> RequestedExtensions(std::string_view attributes) {
  DerReader reader(attributes);
  X509ExtensionStackPtr found;
  while (!reader.empty()) {
    absl::StatusOr<DerElement> attribute = reader.Expect(V_ASN1_SEQUENCE, "CSR attribute");
    if (!attribute.ok()) return attribute.status();
    DerReader fields(attribute->content);
    absl::StatusOr<DerElement> type = fields.Expect(V_ASN1_OBJECT, "CSR attribute type");
    if (!type.ok()) return type.status();
    if (!OidIs(*type, NID_ext_req)) continue;
    if (found) return absl::InvalidArgumentError("CSR has two extensionRequest attributes");
    absl::StatusOr<DerElement> values = fields.Expect(V_ASN1_SET, "extensionRequest");
    if (!values.ok()) return values.status();
    absl::StatusOr<DerElement> value = DerReader(values->content).Next("extensionRequest");
    if (!value.ok()) return value.status();
    const auto* p = reinterpret_cast<const unsigned char*>(value->whole.data());
    const auto* end = p + value->whole.size();
    found.reset(d2i_X509_EXTENSIONS(nullptr, &p, static_cast<long>(value->whole.size())));
    if (!found || p != end) {
      return SslError("malformed CSR extensionRequest", absl::StatusCode::kInvalidArgument);
    }
  }
  return found;
}

// The subjectAltName among `exts`, or null when there is none.
absl::StatusOr<SslPtr<GENERAL_NAMES>> FindSans(const STACK_OF(X509_EXTENSION) * exts) {
  int index = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
  if (index < 0) return SslPtr<GENERAL_NAMES>();
  if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, index) >= 0) {
    return absl::InvalidArgumentError("CSR has more than one subjectAltName extension");
  }
  SslPtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(X509v3_get_ext(exts, index))));
  if (!names) {
    return SslError("CSR has a malformed subjectAltName", absl::StatusCode::kInvalidArgument);
  }
  return names;
}

std::string Ia5ToString(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

absl::Status CollectSans(std::string_view attributes, std::vector<std::string>& uris,
                         std::vector<std::string>& dns) {
  absl::StatusOr<X509ExtensionStackPtr> exts = RequestedExtensions(attributes);
  if (!exts.ok()) return exts.status();
  if (!*exts) return absl::OkStatus();
  absl::StatusOr<SslPtr<GENERAL_NAMES>> names = FindSans(exts->get());
  if (!names.ok()) return names.status();
  for (int i = 0; *names && i < sk_GENERAL_NAME_num(names->get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names->get(), i);
    if (name->type == GEN_URI) uris.push_back(Ia5ToString(name->d.uniformResourceIdentifier));
    if (name->type == GEN_DNS) dns.push_back(Ia5ToString(name->d.dNSName));
  }
  return absl::OkStatus();
}

absl::Status AddSanRequest(X509_REQ* req, const SpiffeId& id,
                           const std::vector<std::string>& dns_names) {
  absl::StatusOr<SslPtr<X509_EXTENSION>> san =
      SubjectAltNameExtension({id.ToString()}, dns_names, /*critical=*/false);
  if (!san.ok()) return san.status();
  X509ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
  if (!exts || sk_X509_EXTENSION_push(exts.get(), san->get()) == 0) {
    return SslError("building CSR extensions");
  }
  san->release();  // `exts` owns it now.
  if (X509_REQ_add_extensions(req, exts.get()) != 1) return SslError("adding CSR extensions");
  return absl::OkStatus();
}

bool LooksLikePem(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  return start != std::string_view::npos && text.substr(start).starts_with("-----BEGIN");
}

}  // namespace

absl::StatusOr<std::string> CreateCsrDer(const PrivateKey& key, const SpiffeId& id,
                                         const std::vector<std::string>& dns_names) {
  if (id.empty()) return absl::InvalidArgumentError("CSR needs a SPIFFE ID");
  SslPtr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) return SslError("building CSR");
  if (absl::Status s = SetRequestPublicKey(req.get(), key.evp()); !s.ok()) return s;
  if (absl::Status s = AddSanRequest(req.get(), id, dns_names); !s.ok()) return s;
  if (X509_REQ_sign(req.get(), key.evp(), DefaultDigest(key.type())) <= 0) {
    return SslError("signing CSR");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return SslError("encoding CSR");
  OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
}

absl::StatusOr<Csr> Csr::FromDer(std::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("empty CSR");
  if (der.size() > kMaxCsrBytes) return absl::InvalidArgumentError("CSR is too large");
  absl::StatusOr<CsrParts> parts = SplitCsr(der);
  if (!parts.ok()) return parts.status();
  absl::StatusOr<SpkiKey> key = ParseSpki(parts->spki);
  if (!key.ok()) {
    return absl::InvalidArgumentError(StrCat("CSR public key: ", key.status().message()));
  }
  if (absl::Status s = VerifySignature(*parts, key->key); !s.ok()) return s;
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  if (absl::Status s = CollectSans(parts->attributes, uris, dns); !s.ok()) return s;
  return Csr(std::move(key->key), std::move(key->der), std::move(uris), std::move(dns));
}

absl::StatusOr<Csr> Csr::FromPem(std::string_view pem) {
  if (pem.size() > kMaxCsrBytes * 2) return absl::InvalidArgumentError("CSR is too large");
  SslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return SslError("BIO_new_mem_buf");
  unsigned char* data = nullptr;
  char* name = nullptr;
  long len = 0;
  // Also accepts the legacy "NEW CERTIFICATE REQUEST" label.
  if (PEM_bytes_read_bio(&data, &len, &name, PEM_STRING_X509_REQ, bio.get(), nullptr, nullptr) !=
      1) {
    return SslError("parsing PEM CSR", absl::StatusCode::kInvalidArgument);
  }
  OpensslBuffer<unsigned char> owned_data(data);
  OpensslBuffer<char> owned_name(name);
  return FromDer(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(len)));
}

absl::StatusOr<Csr> Csr::Parse(std::string_view der_or_pem) {
  return LooksLikePem(der_or_pem) ? FromPem(der_or_pem) : FromDer(der_or_pem);
}

absl::StatusOr<SpiffeId> Csr::RequestedSpiffeId() const {
  if (uri_sans_.size() != 1) {
    return absl::InvalidArgumentError(
        StrCat("CSR has ", uri_sans_.size(), " URI SANs; exactly one SPIFFE ID is required"));
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(uri_sans_.front());
  if (!id.ok()) {
    return absl::InvalidArgumentError(StrCat("CSR URI SAN ", Quote(uri_sans_.front()),
                                             " is not a SPIFFE ID: ", id.status().message()));
  }
  return id;
}

}  // namespace spinel::common
