#include "common/jws.h"

#include <openssl/rsa.h>

#include <algorithm>

#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

enum class Family { kPkcs1, kPss, kEcdsa };

struct AlgInfo {
  JwsAlgorithm alg;
  std::string_view name;
  Family family;
  int hash_bits;
};

// Indexed by JwsAlgorithm.
constexpr AlgInfo kAlgs[] = {
    {JwsAlgorithm::kRs256, "RS256", Family::kPkcs1, 256},
    {JwsAlgorithm::kRs384, "RS384", Family::kPkcs1, 384},
    {JwsAlgorithm::kRs512, "RS512", Family::kPkcs1, 512},
    {JwsAlgorithm::kEs256, "ES256", Family::kEcdsa, 256},
    {JwsAlgorithm::kEs384, "ES384", Family::kEcdsa, 384},
    {JwsAlgorithm::kEs512, "ES512", Family::kEcdsa, 512},
    {JwsAlgorithm::kPs256, "PS256", Family::kPss, 256},
    {JwsAlgorithm::kPs384, "PS384", Family::kPss, 384},
    {JwsAlgorithm::kPs512, "PS512", Family::kPss, 512},
};

const AlgInfo& Info(JwsAlgorithm alg) { return kAlgs[static_cast<size_t>(alg)]; }

const EVP_MD* Digest(const AlgInfo& info) {
  switch (info.hash_bits) {
    case 384:
      return EVP_sha384();
    case 512:
      return EVP_sha512();
    default:
      return EVP_sha256();
  }
}

KeyType RequiredKeyType(const AlgInfo& info) {
  if (info.family != Family::kEcdsa) return KeyType::kRsa;
  switch (info.hash_bits) {
    case 384:
      return KeyType::kEcP384;
    case 512:
      return KeyType::kEcP521;
    default:
      return KeyType::kEcP256;
  }
}

// Initialises `ctx` to sign or verify with `pkey` under `info`, setting PSS parameters.
absl::Status InitDigestCtx(EVP_MD_CTX* ctx, const AlgInfo& info, EVP_PKEY* pkey, bool sign) {
  const EVP_MD* md = Digest(info);
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const int rc = sign ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, pkey)
                      : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey);
  if (rc != 1) return SslError(StrCat(info.name, ": initialising digest context"));
  if (info.family == Family::kPss &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)) {
    return SslError(StrCat(info.name, ": setting PSS parameters"));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<JwsAlgorithm> JwsAlgorithmFromName(std::string_view name) {
  for (const AlgInfo& info : kAlgs) {
    if (info.name == name) return info.alg;
  }
  return std::nullopt;
}

std::string_view JwsAlgorithmName(JwsAlgorithm alg) { return Info(alg).name; }

JwsAlgorithm DefaultJwsAlgorithm(KeyType type) {
  switch (type) {
    case KeyType::kEcP384:
      return JwsAlgorithm::kEs384;
    case KeyType::kEcP521:
      return JwsAlgorithm::kEs512;
    case KeyType::kRsa:
      return JwsAlgorithm::kRs256;
    default:
      return JwsAlgorithm::kEs256;
  }
}

absl::Status CheckJwsKeyType(JwsAlgorithm alg, KeyType type) {
  const KeyType want = RequiredKeyType(Info(alg));
  if (type == want) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("alg ", JwsAlgorithmName(alg), " needs an ",
                                           KeyTypeName(want), " key, not ", KeyTypeName(type)));
}

size_t EcFieldBytes(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return 32;
    case KeyType::kEcP384:
      return 48;
    case KeyType::kEcP521:
      return 66;
    case KeyType::kRsa:
      return 0;
  }
  return 0;
}

absl::StatusOr<CompactJws> SplitCompactJws(std::string_view token) {
  const size_t dots = static_cast<size_t>(std::count(token.begin(), token.end(), '.'));
  if (dots == 4) {
    return absl::InvalidArgumentError("5 segments: JWE (encrypted) tokens are not supported");
  }
  if (dots != 2) {
    return absl::InvalidArgumentError(
        StrCat("not a compact JWS: ", dots + 1, " segments instead of 3"));
  }
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  CompactJws jws;
  jws.header = token.substr(0, first);
  jws.payload = token.substr(first + 1, second - first - 1);
  jws.signature = token.substr(second + 1);
  jws.signing_input = token.substr(0, second);
  return jws;
}

absl::StatusOr<JwsSigner> JwsSigner::Create(const PrivateKey& key, JwsAlgorithm alg) {
  SPINEL_RETURN_IF_ERROR(CheckJwsKeyType(alg, key.type()));
  if (EVP_PKEY_up_ref(key.evp()) != 1) return SslError("EVP_PKEY_up_ref");
  return JwsSigner(SslPtr<EVP_PKEY>(key.evp()), alg);
}

absl::StatusOr<std::string> JwsSigner::Sign(std::string_view signing_input) const {
  const AlgInfo& info = Info(alg_);
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return SslError("EVP_MD_CTX_new");
  SPINEL_RETURN_IF_ERROR(InitDigestCtx(ctx.get(), info, key_.get(), /*sign=*/true));
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, signing_input.size()) != 1) {
    return SslError(StrCat(info.name, ": sizing signature"));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     signing_input.size()) != 1) {
    return SslError(StrCat(info.name, ": signing"));
  }
  sig.resize(len);
  if (info.family != Family::kEcdsa) return sig;
  return EcdsaDerToRaw(sig, EcFieldBytes(RequiredKeyType(info)));
}

absl::Status VerifyJwsSignature(JwsAlgorithm alg, const PublicKey& key,
                                std::string_view signing_input, std::string_view signature) {
  const AlgInfo& info = Info(alg);
  SPINEL_RETURN_IF_ERROR(CheckJwsKeyType(alg, key.type()));
  std::string der;
  if (info.family == Family::kEcdsa) {
    const size_t width = EcFieldBytes(key.type());
    if (signature.size() != 2 * width) {
      return absl::InvalidArgumentError(
          StrCat(info.name, " signature must be ", 2 * width, " bytes, not ", signature.size()));
    }
    SPINEL_ASSIGN_OR_RETURN(der, EcdsaRawToDer(signature));
    signature = der;
  }
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return SslError("EVP_MD_CTX_new");
  SPINEL_RETURN_IF_ERROR(InitDigestCtx(ctx.get(), info, key.evp(), /*sign=*/false));
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError(StrCat(info.name, " signature does not verify"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EcdsaDerToRaw(std::string_view der, size_t width) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  SslPtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return SslError("malformed DER ECDSA signature", absl::StatusCode::kInvalidArgument);
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * width, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, static_cast<int>(width)) < 0 ||
      BN_bn2binpad(s, out + width, static_cast<int>(width)) < 0) {
    return absl::InvalidArgumentError(StrCat("ECDSA signature value exceeds ", width, " bytes"));
  }
  return raw;
}

absl::StatusOr<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.empty() || raw.size() % 2 != 0) {
    return absl::InvalidArgumentError("raw ECDSA signature must be R||S of equal halves");
  }
  const size_t half = raw.size() / 2;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  SslPtr<BIGNUM> r(BN_bin2bn(p, static_cast<int>(half), nullptr));
  SslPtr<BIGNUM> s(BN_bin2bn(p + half, static_cast<int>(half), nullptr));
  SslPtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return SslError("building ECDSA signature");
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  r.release();
  s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return SslError("encoding ECDSA signature");
  OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
}

}  // namespace spinel::common
