#include "common/jwk.h"

#include <openssl/core_names.h>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr size_t kMaxRsaExponentBytes = 8;

struct Curve {
  KeyType type;
  std::string_view crv;  // JWK "crv" and OpenSSL group name
  size_t width;          // bytes of one coordinate
};

constexpr Curve kCurves[] = {
    {KeyType::kEcP256, "P-256", 32},
    {KeyType::kEcP384, "P-384", 48},
    {KeyType::kEcP521, "P-521", 66},
};

const Curve* CurveFor(KeyType type) {
  for (const Curve& c : kCurves) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

// Members that only private JWKs have (RFC 7518 §6.2.2, §6.3.2).
constexpr std::string_view kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth"};

absl::StatusOr<std::string> DecodeMember(const json& jwk, std::string_view name) {
  SPINEL_ASSIGN_OR_RETURN(std::string_view text, GetStringMember(jwk, name, "JWK"));
  absl::StatusOr<std::string> bytes = Base64UrlDecode(text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        StrCat("JWK: \"", name, "\" is not valid base64url (", bytes.status().message(), ")"));
  }
  if (bytes->empty()) return absl::InvalidArgumentError(StrCat("JWK: \"", name, "\" is empty"));
  return bytes;
}

// Builds an EVP_PKEY of `type_name` from `params`, then checks and wraps it.
absl::StatusOr<PublicKey> FromParams(const char* type_name, OSSL_PARAM_BLD* bld,
                                     bool public_check) {
  SslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return SslError("JWK: preparing key import");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return SslError("JWK: invalid key parameters", absl::StatusCode::kInvalidArgument);
  }
  SslPtr<EVP_PKEY> pkey(raw);
  if (public_check) {
    SslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
      return SslError("JWK: public key fails validation", absl::StatusCode::kInvalidArgument);
    }
  }
  return PublicKey::FromEvp(pkey.get());
}

absl::StatusOr<PublicKey> EcFromJwk(const json& jwk) {
  SPINEL_ASSIGN_OR_RETURN(std::string_view crv, GetStringMember(jwk, "crv", "JWK"));
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves) {
    if (c.crv == crv) curve = &c;
  }
  if (curve == nullptr) {
    return absl::InvalidArgumentError(StrCat("JWK: unsupported EC curve ", Quote(crv)));
  }
  SPINEL_ASSIGN_OR_RETURN(std::string x, DecodeMember(jwk, "x"));
  SPINEL_ASSIGN_OR_RETURN(std::string y, DecodeMember(jwk, "y"));
  if (x.size() != curve->width || y.size() != curve->width) {
    return absl::InvalidArgumentError(
        StrCat("JWK: ", curve->crv, " coordinates must be ", curve->width, " bytes each"));
  }
  const std::string group(curve->crv);
  const std::string point = StrCat('\x04', x, y);  // uncompressed SEC1 point
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return SslError("JWK: building EC key parameters");
  }
  return FromParams("EC", bld.get(), /*public_check=*/true);
}

absl::StatusOr<SslPtr<BIGNUM>> ToBignum(std::string_view bytes) {
  SslPtr<BIGNUM> bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()), nullptr));
  if (!bn) return SslError("JWK: BN_bin2bn");
  return bn;
}

absl::StatusOr<PublicKey> RsaFromJwk(const json& jwk) {
  SPINEL_ASSIGN_OR_RETURN(std::string n_bytes, DecodeMember(jwk, "n"));
  SPINEL_ASSIGN_OR_RETURN(std::string e_bytes, DecodeMember(jwk, "e"));
  SPINEL_ASSIGN_OR_RETURN(SslPtr<BIGNUM> n, ToBignum(n_bytes));
  SPINEL_ASSIGN_OR_RETURN(SslPtr<BIGNUM> e, ToBignum(e_bytes));
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits || !BN_is_odd(n.get())) {
    return absl::InvalidArgumentError(
        StrCat("JWK: RSA modulus of ", bits, " bits is unusable (need an odd 2048..8192-bit n)"));
  }
  if (static_cast<size_t>(BN_num_bytes(e.get())) > kMaxRsaExponentBytes || !BN_is_odd(e.get()) ||
      BN_is_one(e.get())) {
    return absl::InvalidArgumentError("JWK: RSA exponent must be odd, > 1 and at most 64 bits");
  }
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return SslError("JWK: building RSA key parameters");
  }
  return FromParams("RSA", bld.get(), /*public_check=*/false);
}

absl::StatusOr<std::string> BignumParam(const PublicKey& key, const char* name, size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.evp(), name, &raw) != 1) {
    return SslError(StrCat("JWK: reading key parameter ", name));
  }
  SslPtr<BIGNUM> bn(raw);
  std::string out(width == 0 ? static_cast<size_t>(BN_num_bytes(bn.get())) : width, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   static_cast<int>(out.size())) < 0) {
    return SslError(StrCat("JWK: encoding key parameter ", name));
  }
  return out;
}

}  // namespace

bool IsSupportedJwkKty(std::string_view kty) { return kty == "EC" || kty == "RSA"; }

absl::StatusOr<json> PublicKeyToJwk(const PublicKey& key) {
  if (key.type() == KeyType::kRsa) {
    SPINEL_ASSIGN_OR_RETURN(std::string n, BignumParam(key, OSSL_PKEY_PARAM_RSA_N, 0));
    SPINEL_ASSIGN_OR_RETURN(std::string e, BignumParam(key, OSSL_PKEY_PARAM_RSA_E, 0));
    return json{{"kty", "RSA"}, {"n", Base64UrlEncode(n)}, {"e", Base64UrlEncode(e)}};
  }
  const Curve* curve = CurveFor(key.type());
  if (curve == nullptr) return absl::InternalError("JWK: unknown key type");
  SPINEL_ASSIGN_OR_RETURN(std::string x, BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, curve->width));
  SPINEL_ASSIGN_OR_RETURN(std::string y, BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, curve->width));
  return json{{"kty", "EC"},
              {"crv", std::string(curve->crv)},
              {"x", Base64UrlEncode(x)},
              {"y", Base64UrlEncode(y)}};
}

absl::StatusOr<PublicKey> PublicKeyFromJwk(const json& jwk) {
  if (!jwk.is_object()) {
    return absl::InvalidArgumentError(StrCat("JWK must be an object, not ", JsonTypeName(jwk)));
  }
  SPINEL_ASSIGN_OR_RETURN(std::string_view kty, GetStringMember(jwk, "kty", "JWK"));
  for (std::string_view member : kPrivateMembers) {
    if (FindMember(jwk, member) != nullptr) {
      return absl::InvalidArgumentError(
          StrCat("JWK: has private key member \"", member, "\"; only public keys are accepted"));
    }
  }
  if (kty == "EC") return EcFromJwk(jwk);
  if (kty == "RSA") return RsaFromJwk(jwk);
  return absl::UnimplementedError(StrCat("JWK: unsupported kty ", Quote(kty)));
}

}  // namespace spinel::common
