#include "common/private_jwk.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/jwk.h"
#include "common/jwt_decode.h"
#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

// Bytes of one coordinate (and of "d") for the EC curve `crv`; 0 when unknown.
size_t CurveWidth(std::string_view crv) {
  if (crv == "P-256") return 32;
  if (crv == "P-384") return 48;
  if (crv == "P-521") return 66;
  return 0;
}

absl::StatusOr<SecretData> PrivateScalar(const PrivateKey& key, size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.evp(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
    return SslError("private JWK: reading the private key");
  }
  SslPtr<BIGNUM> bn(raw);
  std::string bytes(width, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()),
                   static_cast<int>(width)) != static_cast<int>(width)) {
    WipeSecret(bytes);
    return absl::InternalError("private JWK: private key does not fit the curve");
  }
  std::string encoded = Base64UrlEncode(bytes);
  WipeSecret(bytes);
  return SecretData(std::move(encoded));
}

// Decoded base64url member `name` of exactly `width` bytes.
absl::StatusOr<SecretData> FixedMember(const json& jwk, std::string_view name, size_t width) {
  SPINEL_ASSIGN_OR_RETURN(std::string_view text, GetStringMember(jwk, name, "private JWK"));
  absl::StatusOr<std::string> bytes = Base64UrlDecode(text);
  if (!bytes.ok() || bytes->size() != width) {
    if (bytes.ok()) WipeSecret(*bytes);
    return absl::InvalidArgumentError(
        StrCat("private JWK: \"", name, "\" must be base64url of ", width, " bytes"));
  }
  return SecretData(std::move(*bytes));
}

// An EC key pair from its members; OpenSSL checks that the public point is d*G.
absl::StatusOr<PrivateKey> EcKeyPair(std::string_view crv, const SecretData& d,
                                     const std::string& point) {
  SslPtr<BIGNUM> bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(d.view().data()),
                              static_cast<int>(d.view().size()), nullptr));
  SslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  const std::string group(crv);
  if (bn == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return SslError("private JWK: building key parameters");
  }
  SslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  SslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError("private JWK: not a valid EC key");
  }
  SslPtr<EVP_PKEY> pkey(raw);
  SslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_pairwise_check(check.get()) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError("private JWK: \"x\"/\"y\" are not the public key of \"d\"");
  }
  unsigned char* der = nullptr;
  const int len = i2d_PrivateKey(pkey.get(), &der);
  if (len <= 0) return SslError("private JWK: encoding the key");
  SecretData owned(der, static_cast<size_t>(len));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  return PrivateKey::FromPkcs8Der(owned.view());
}

}  // namespace

absl::StatusOr<SecretData> PrivateKeyToJwk(const PrivateKey& key, JwsAlgorithm alg) {
  SPINEL_RETURN_IF_ERROR(CheckJwsKeyType(alg, key.type()));
  if (key.type() == KeyType::kRsa) {
    return absl::UnimplementedError("private JWK: only EC keys are supported");
  }
  SPINEL_ASSIGN_OR_RETURN(PublicKey pub, key.Public());
  SPINEL_ASSIGN_OR_RETURN(json jwk, PublicKeyToJwk(pub));
  SPINEL_ASSIGN_OR_RETURN(SecretData d,
                          PrivateScalar(key, CurveWidth(jwk["crv"].get<std::string>())));
  jwk["alg"] = std::string(JwsAlgorithmName(alg));
  jwk["d"] = std::string(d.view());
  std::string text = jwk.dump();
  WipeSecret(jwk["d"].get_ref<std::string&>());
  return SecretData(std::move(text));
}

absl::StatusOr<PrivateKey> PrivateKeyFromJwk(std::string_view jwk_json) {
  json jwk = json::parse(jwk_json, nullptr, false);
  if (!jwk.is_object()) return absl::InvalidArgumentError("private JWK: not a JSON object");
  absl::StatusOr<PrivateKey> key = [&]() -> absl::StatusOr<PrivateKey> {
    SPINEL_ASSIGN_OR_RETURN(std::string_view kty, GetStringMember(jwk, "kty", "private JWK"));
    if (kty != "EC") {
      return absl::UnimplementedError(StrCat("private JWK: unsupported kty ", Quote(kty)));
    }
    SPINEL_ASSIGN_OR_RETURN(std::string_view crv, GetStringMember(jwk, "crv", "private JWK"));
    const size_t width = CurveWidth(crv);
    if (width == 0) return absl::InvalidArgumentError("private JWK: unsupported \"crv\"");
    SPINEL_ASSIGN_OR_RETURN(SecretData d, FixedMember(jwk, "d", width));
    SPINEL_ASSIGN_OR_RETURN(SecretData x, FixedMember(jwk, "x", width));
    SPINEL_ASSIGN_OR_RETURN(SecretData y, FixedMember(jwk, "y", width));
    const std::string point = "\x04" + std::string(x.view()) + std::string(y.view());
    return EcKeyPair(crv, d, point);
  }();
  if (json* d = jwk.contains("d") && jwk["d"].is_string() ? &jwk["d"] : nullptr) {
    WipeSecret(d->get_ref<std::string&>());
  }
  return key;
}

absl::StatusOr<std::string> JwkThumbprint(const PublicKey& key) {
  SPINEL_ASSIGN_OR_RETURN(json jwk, PublicKeyToJwk(key));
  // PublicKeyToJwk writes exactly the required members; nlohmann orders object members
  // lexicographically and dump() adds no whitespace: the RFC 7638 canonical form.
  return TokenHash(jwk.dump());
}

}  // namespace spinel::common
