#include "common/x509_builder.h"

#include <openssl/rand.h>

#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

constexpr size_t kSerialBytes = 16;
constexpr size_t kMaxDnsNameLength = 253;
constexpr size_t kMaxDnsLabelLength = 63;

absl::StatusOr<SslPtr<X509_EXTENSION>> EncodeExtension(int nid, bool critical, void* value) {
  SslPtr<X509_EXTENSION> ext(X509V3_EXT_i2d(nid, critical ? 1 : 0, value));
  if (!ext) return SslError(StrCat("encoding extension ", OBJ_nid2sn(nid)));
  return ext;
}

absl::StatusOr<SslPtr<ASN1_STRING>> OctetString(std::string_view bytes) {
  SslPtr<ASN1_STRING> s(ASN1_OCTET_STRING_new());
  if (!s || ASN1_OCTET_STRING_set(s.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size())) != 1) {
    return SslError("building OCTET STRING");
  }
  return s;
}

// Appends an IA5String general name of `type` (GEN_URI, GEN_DNS) to `names`.
absl::Status PushGeneralName(GENERAL_NAMES* names, int type, std::string_view value) {
  SslPtr<ASN1_STRING> ia5(ASN1_IA5STRING_new());
  if (!ia5 || ASN1_STRING_set(ia5.get(), value.data(), static_cast<int>(value.size())) != 1) {
    return SslError("building IA5String");
  }
  SslPtr<GENERAL_NAME> name(GENERAL_NAME_new());
  if (!name) return SslError("GENERAL_NAME_new");
  GENERAL_NAME_set0_value(name.get(), type, ia5.release());  // `name` owns the string now.
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) return SslError("sk_GENERAL_NAME_push");
  name.release();  // `names` owns it now.
  return absl::OkStatus();
}

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

absl::Status CheckDnsLabel(std::string_view label, bool first, std::string_view name) {
  if (first && label == "*") return absl::OkStatus();
  if (label.empty() || label.size() > kMaxDnsLabelLength) {
    return absl::InvalidArgumentError(StrCat("DNS name ", Quote(name),
                                             " has an empty or "
                                             "over-long label"));
  }
  if (label.front() == '-' || label.back() == '-') {
    return absl::InvalidArgumentError(
        StrCat("DNS name ", Quote(name), " has a label starting or ending with '-'"));
  }
  for (char c : label) {
    if (!IsLabelChar(c)) {
      return absl::InvalidArgumentError(
          StrCat("DNS name ", Quote(name), " contains a character not allowed in DNS names"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

DistinguishedName DefaultSubject() { return {{"C", "US"}, {"O", "SPIFFE"}}; }

absl::StatusOr<SslPtr<X509_NAME>> BuildName(const DistinguishedName& dn) {
  SslPtr<X509_NAME> name(X509_NAME_new());
  if (!name) return SslError("X509_NAME_new");
  for (const NameAttribute& attr : dn) {
    if (X509_NAME_add_entry_by_txt(name.get(), attr.field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(attr.value.data()),
                                   static_cast<int>(attr.value.size()), -1, 0) != 1) {
      return SslError(
          StrCat("bad distinguished name attribute ", Quote(attr.field), "=", Quote(attr.value)),
          absl::StatusCode::kInvalidArgument);
    }
  }
  return name;
}

absl::StatusOr<std::string> RandomSerialBytes() {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return SslError("RAND_bytes");
  // Clear the sign bit (positive) and set the next one (non-zero, fixed 16-byte encoding).
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

absl::StatusOr<SslPtr<ASN1_INTEGER>> RandomSerial() {
  absl::StatusOr<std::string> bytes = RandomSerialBytes();
  if (!bytes.ok()) return bytes.status();
  SslPtr<ASN1_INTEGER> serial(ASN1_INTEGER_new());
  if (!serial ||
      ASN1_STRING_set(serial.get(), bytes->data(), static_cast<int>(bytes->size())) != 1) {
    return SslError("building serial number");
  }
  return serial;
}

absl::StatusOr<std::string> SerialDecimal(const ASN1_INTEGER& serial) {
  SslPtr<BIGNUM> bn(ASN1_INTEGER_to_BN(&serial, nullptr));
  if (!bn) return SslError("converting serial number");
  OpensslBuffer<char> text(BN_bn2dec(bn.get()));
  if (!text) return SslError("printing serial number");
  return std::string(text.get());
}

absl::Status CheckDnsName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsNameLength) {
    return absl::InvalidArgumentError(
        StrCat("DNS name ", Quote(name), " must be 1 to 253 bytes long"));
  }
  size_t start = 0;
  bool first = true;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (absl::Status s = CheckDnsLabel(label, first, name); !s.ok()) return s;
    if (dot == std::string_view::npos) return absl::OkStatus();
    start = dot + 1;
    first = false;
  }
}

absl::StatusOr<SslPtr<X509_EXTENSION>> SubjectAltNameExtension(
    const std::vector<std::string>& uris, const std::vector<std::string>& dns_names,
    bool critical) {
  SslPtr<GENERAL_NAMES> names(GENERAL_NAMES_new());
  if (!names) return SslError("GENERAL_NAMES_new");
  for (const std::string& uri : uris) {
    if (absl::Status s = PushGeneralName(names.get(), GEN_URI, uri); !s.ok()) return s;
  }
  for (const std::string& dns : dns_names) {
    if (absl::Status s = CheckDnsName(dns); !s.ok()) return s;
    if (absl::Status s = PushGeneralName(names.get(), GEN_DNS, dns); !s.ok()) return s;
  }
  return EncodeExtension(NID_subject_alt_name, critical, names.get());
}

absl::StatusOr<SslPtr<X509_EXTENSION>> BasicConstraintsExtension(bool ca) {
  SslPtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  if (!bc) return SslError("BASIC_CONSTRAINTS_new");
  bc->ca = ca ? 0xff : 0;
  return EncodeExtension(NID_basic_constraints, /*critical=*/true, bc.get());
}

absl::StatusOr<SslPtr<X509_EXTENSION>> KeyUsageExtension(uint32_t bits) {
  SslPtr<ASN1_STRING> bit_string(ASN1_BIT_STRING_new());
  if (!bit_string) return SslError("ASN1_BIT_STRING_new");
  // OpenSSL's KU_* masks: bit n (0..7) of the DER BIT STRING is 0x80 >> n; decipherOnly
  // (bit 8) is 0x8000.
  for (int n = 0; n <= 8; ++n) {
    uint32_t mask = n < 8 ? (0x80u >> n) : 0x8000u;
    if ((bits & mask) != 0 && ASN1_BIT_STRING_set_bit(bit_string.get(), n, 1) != 1) {
      return SslError("ASN1_BIT_STRING_set_bit");
    }
  }
  return EncodeExtension(NID_key_usage, /*critical=*/true, bit_string.get());
}

absl::StatusOr<SslPtr<X509_EXTENSION>> ExtKeyUsageExtension(const std::vector<int>& nids) {
  SslPtr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return SslError("sk_ASN1_OBJECT_new_null");
  for (int nid : nids) {
    // OBJ_nid2obj returns a static object; freeing it with the stack is a no-op.
    ASN1_OBJECT* obj = OBJ_nid2obj(nid);
    if (obj == nullptr || sk_ASN1_OBJECT_push(eku.get(), obj) == 0) {
      return SslError("building extendedKeyUsage");
    }
  }
  return EncodeExtension(NID_ext_key_usage, /*critical=*/false, eku.get());
}

absl::StatusOr<SslPtr<X509_EXTENSION>> SubjectKeyIdExtension(std::string_view key_id) {
  absl::StatusOr<SslPtr<ASN1_STRING>> octets = OctetString(key_id);
  if (!octets.ok()) return octets.status();
  return EncodeExtension(NID_subject_key_identifier, /*critical=*/false, octets->get());
}

absl::StatusOr<SslPtr<X509_EXTENSION>> AuthorityKeyIdExtension(std::string_view key_id) {
  SslPtr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  if (!akid) return SslError("AUTHORITY_KEYID_new");
  absl::StatusOr<SslPtr<ASN1_STRING>> octets = OctetString(key_id);
  if (!octets.ok()) return octets.status();
  akid->keyid = octets->release();  // `akid` owns it now.
  return EncodeExtension(NID_authority_key_identifier, /*critical=*/false, akid.get());
}

absl::StatusOr<std::string> ComputeKeyId(const X509* x509) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(x509, EVP_sha1(), md, &len) != 1) {
    return SslError("computing key identifier");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

absl::StatusOr<std::string> KeyIdOf(X509* x509) {
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(x509);
  if (skid == nullptr) return ComputeKeyId(x509);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(skid)),
                     static_cast<size_t>(ASN1_STRING_length(skid)));
}

absl::Status SetValidity(X509* x509, TimePoint not_before, TimePoint not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(x509), static_cast<time_t>(ToUnixSeconds(not_before))) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x509), static_cast<time_t>(ToUnixSeconds(not_after))) ==
          nullptr) {
    return SslError("setting certificate validity");
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509* x509, const X509_EXTENSION& ext) {
  // X509_add_ext copies the extension; the const_cast is for its non-const signature only.
  if (X509_add_ext(x509, const_cast<X509_EXTENSION*>(&ext), -1) != 1) {
    return SslError("adding certificate extension");
  }
  return absl::OkStatus();
}

absl::Status SignCertificate(X509* x509, const PrivateKey& key) {
  if (X509_sign(x509, key.evp(), DefaultDigest(key.type())) <= 0) {
    return SslError("signing certificate");
  }
  return absl::OkStatus();
}

}  // namespace spinel::common
