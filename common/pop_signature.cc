#include "common/pop_signature.h"

#include "common/ssl_error.h"
#include "common/ssl_ptr.h"

namespace spinel::common {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<std::string> SignPossessionProof(const PrivateKey& key, std::string_view nonce) {
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(nonce), nonce.size()) != 1) {
    return SslError("signing the possession proof");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     Bytes(nonce), nonce.size()) != 1) {
    return SslError("signing the possession proof");
  }
  signature.resize(len);
  return signature;
}

absl::Status VerifyPossessionProof(const PublicKey& key, std::string_view nonce,
                                   std::string_view signature) {
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.evp()) != 1) {
    return SslError("preparing the possession proof check");
  }
  int ok =
      EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(nonce), nonce.size());
  ClearSslErrors();
  if (ok != 1) return absl::PermissionDeniedError("proof of possession failed (bad signature)");
  return absl::OkStatus();
}

}  // namespace spinel::common
