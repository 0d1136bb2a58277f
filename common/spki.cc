#include "common/spki.h"

#include <openssl/core_names.h>

#include "common/der_reader.h"
#include "common/der_writer.h"
#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

struct Curve {
  int nid;
  const char* name;
  size_t field_bytes;
};
constexpr Curve kCurves[] = {
    {NID_X9_62_prime256v1, "P-256", 32},
    {NID_secp384r1, "P-384", 48},
    {NID_secp521r1, "P-521", 66},
};
constexpr size_t kCurveCount = sizeof(kCurves) / sizeof(kCurves[0]);
constexpr size_t kMaxPointBytes = 1 + 2 * 66;

const Curve* CurveByNid(int nid) {
  for (const Curve& curve : kCurves) {
    if (curve.nid == nid) return &curve;
  }
  return nullptr;
}

// Uncompressed (04 || X || Y) or compressed (02/03 || X) encodings only; in particular not the
// one-byte point at infinity, which OpenSSL would accept.
bool IsPointEncoding(const Curve& curve, std::string_view point) {
  if (point.empty()) return false;
  if (point[0] == 0x04) return point.size() == 1 + 2 * curve.field_bytes;
  if (point[0] == 0x02 || point[0] == 0x03) return point.size() == 1 + curve.field_bytes;
  return false;
}

// A public-only EC key built from its parameters (the slower way: the group is built by name).
SslPtr<EVP_PKEY> EcKeyFromData(const Curve& curve, std::string_view point) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve.name),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<char*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end(),
  };
  SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  return SslPtr<EVP_PKEY>(key);
}

SslPtr<EVP_PKEY> MakeTemplate(const Curve& curve) {
  SslPtr<EVP_PKEY> generated(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve.name));
  unsigned char point[kMaxPointBytes];
  size_t len = 0;
  if (!generated ||
      EVP_PKEY_get_octet_string_param(generated.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                      sizeof(point), &len) != 1) {
    ClearSslErrors();
    return nullptr;
  }
  return EcKeyFromData(curve, std::string_view(reinterpret_cast<char*>(point), len));
}

// One public-only key per curve, copied by EVP_PKEY_dup for each import (which copies the
// already built group). Built on first use; deliberately never freed, so nothing races
// OpenSSL's own clean-up at exit. Null entries (creation failed) fall back to EcKeyFromData.
EVP_PKEY* Template(const Curve& curve) {
  static SslPtr<EVP_PKEY>* const templates = [] {
    auto* keys = new SslPtr<EVP_PKEY>[kCurveCount];
    for (size_t i = 0; i < kCurveCount; ++i) keys[i] = MakeTemplate(kCurves[i]);
    return keys;
  }();
  return templates[&curve - kCurves].get();
}

absl::StatusOr<PublicKey> EcPublicKey(const Curve& curve, std::string_view point) {
  if (!IsPointEncoding(curve, point)) {
    return absl::InvalidArgumentError(StrCat("malformed ", curve.name, " public key point"));
  }
  SslPtr<EVP_PKEY> key;
  if (EVP_PKEY* tmpl = Template(curve); tmpl != nullptr) {
    key.reset(EVP_PKEY_dup(tmpl));
    if (!key) return SslError("copying EC key template");
    // OpenSSL checks that the point is on the curve (EC_POINT_set_affine_coordinates).
    if (EVP_PKEY_set1_encoded_public_key(
            key.get(), reinterpret_cast<const unsigned char*>(point.data()), point.size()) != 1) {
      key.reset();
    }
  } else {
    key = EcKeyFromData(curve, point);
  }
  if (!key) {
    return SslError(StrCat(curve.name, " public key is not a point on the curve"),
                    absl::StatusCode::kInvalidArgument);
  }
  return PublicKey::FromEvp(key.get());
}

int CurveNidOf(EVP_PKEY* key) {
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) !=
      1) {
    return NID_undef;
  }
  int nid = OBJ_sn2nid(group);
  return nid != NID_undef ? nid : EC_curve_nist2nid(group);
}

// The curve and encoded point of an EC key.
absl::StatusOr<const Curve*> EcPoint(EVP_PKEY* key, unsigned char (&point)[kMaxPointBytes],
                                     size_t& len) {
  const Curve* curve = CurveByNid(CurveNidOf(key));
  if (curve == nullptr) {
    ClearSslErrors();
    return absl::InvalidArgumentError("unsupported EC curve");
  }
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point),
                                      &len) != 1) {
    return SslError("reading EC public key");
  }
  return curve;
}

absl::Status SetEcPublicKeyInfo(X509_PUBKEY* pubkey, EVP_PKEY* key) {
  unsigned char point[kMaxPointBytes];
  size_t len = 0;
  absl::StatusOr<const Curve*> curve = EcPoint(key, point, len);
  if (!curve.ok()) return curve.status();
  OpensslBuffer<unsigned char> copy(static_cast<unsigned char*>(OPENSSL_memdup(point, len)));
  if (!copy) return SslError("OPENSSL_memdup");
  // OBJ_nid2obj objects are static; set0 takes ownership of `copy`.
  if (X509_PUBKEY_set0_param(pubkey, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                             OBJ_nid2obj((*curve)->nid), copy.get(), static_cast<int>(len)) != 1) {
    return SslError("setting subjectPublicKeyInfo");
  }
  copy.release();  // `pubkey` owns it now.
  return absl::OkStatus();
}

// Canonical DER of an EC SubjectPublicKeyInfo with a named curve.
std::string EcSpkiDer(const Curve& curve, std::string_view point) {
  std::string algorithm = Tlv(der::kSequence, DerOid(NID_X9_62_id_ecPublicKey) + DerOid(curve.nid));
  return Tlv(der::kSequence, algorithm + DerBitString(point));
}

const Curve* CurveByOid(const DerElement& oid) {
  for (const Curve& curve : kCurves) {
    if (OidIs(oid, curve.nid)) return &curve;
  }
  return nullptr;
}

// Any other key type, through OpenSSL's decoder and encoder (slow, but exact).
absl::StatusOr<SpkiKey> GenericSpkiKey(std::string_view der) {
  absl::StatusOr<PublicKey> key = PublicKey::FromSpkiDer(der);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> canonical = key->ToSpkiDer();
  if (!canonical.ok()) return canonical.status();
  return SpkiKey{std::move(*key), std::move(*canonical)};
}

}  // namespace

absl::StatusOr<SpkiKey> ParseSpki(std::string_view der) {
  DerReader outer(der);
  absl::StatusOr<DerElement> spki = outer.Expect(V_ASN1_SEQUENCE, "SubjectPublicKeyInfo");
  if (!spki.ok()) return spki.status();
  if (absl::Status s = outer.ExpectEnd("SubjectPublicKeyInfo"); !s.ok()) return s;
  DerReader fields(spki->content);
  absl::StatusOr<DerElement> algorithm = fields.Expect(V_ASN1_SEQUENCE, "SPKI algorithm");
  if (!algorithm.ok()) return algorithm.status();
  absl::StatusOr<DerElement> bits = fields.Expect(V_ASN1_BIT_STRING, "SPKI public key");
  if (!bits.ok()) return bits.status();
  if (absl::Status s = fields.ExpectEnd("SubjectPublicKeyInfo"); !s.ok()) return s;
  DerReader algorithm_fields(algorithm->content);
  absl::StatusOr<DerElement> oid = algorithm_fields.Expect(V_ASN1_OBJECT, "SPKI algorithm");
  if (!oid.ok()) return oid.status();
  absl::StatusOr<DerElement> curve_oid = algorithm_fields.Next("EC parameters");
  if (!OidIs(*oid, NID_X9_62_id_ecPublicKey) || !curve_oid.ok() || !algorithm_fields.empty() ||
      curve_oid->tag != V_ASN1_OBJECT) {
    return GenericSpkiKey(der);  // not an EC key with a named curve
  }
  const Curve* curve = CurveByOid(*curve_oid);
  if (curve == nullptr) return absl::InvalidArgumentError("unsupported EC curve");
  absl::StatusOr<std::string_view> point = BitStringBytes(*bits, "SPKI public key");
  if (!point.ok()) return point.status();
  absl::StatusOr<PublicKey> key = EcPublicKey(*curve, *point);
  if (!key.ok()) return key.status();
  return SpkiKey{std::move(*key), EcSpkiDer(*curve, *point)};
}

absl::StatusOr<std::string> EncodeSpki(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    unsigned char point[kMaxPointBytes];
    size_t len = 0;
    absl::StatusOr<const Curve*> curve = EcPoint(key, point, len);
    if (!curve.ok()) return curve.status();
    return EcSpkiDer(**curve, std::string_view(reinterpret_cast<char*>(point), len));
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return SslError("encoding public key");
  OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
}

absl::Status SetRequestPublicKey(X509_REQ* req, EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) return SetEcPublicKeyInfo(X509_REQ_get_X509_PUBKEY(req), key);
  if (X509_REQ_set_pubkey(req, key) != 1) return SslError("setting request public key");
  return absl::OkStatus();
}

}  // namespace spinel::common
