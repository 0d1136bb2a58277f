#include "common/keys.h"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

constexpr int kMinRsaBits = 2048;

absl::StatusOr<KeyType> ClassifyKey(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
      return absl::InvalidArgumentError(
          StrCat("RSA key of ", EVP_PKEY_get_bits(pkey), " bits is too small (minimum 2048)"));
    }
    return KeyType::kRsa;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
      return SslError("reading EC key group", absl::StatusCode::kInvalidArgument);
    }
    std::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256") return KeyType::kEcP256;
    if (name == "secp384r1" || name == "P-384") return KeyType::kEcP384;
    if (name == "secp521r1" || name == "P-521") return KeyType::kEcP521;
    return absl::InvalidArgumentError(StrCat("unsupported EC curve ", name));
  }
  return absl::InvalidArgumentError("unsupported key type (want EC P-256/P-384/P-521 or RSA)");
}

SslPtr<BIO> MemoryBio(std::string_view bytes) {
  return SslPtr<BIO>(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// Copies everything written to a memory BIO into a SecretData (and nothing else keeps it).
SecretData DrainSecretBio(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return SecretData(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
}

std::string DrainBio(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "EC P-256";
    case KeyType::kEcP384:
      return "EC P-384";
    case KeyType::kEcP521:
      return "EC P-521";
    case KeyType::kRsa:
      return "RSA";
  }
  return "unknown";
}

const EVP_MD* DefaultDigest(KeyType type) {
  switch (type) {
    case KeyType::kEcP384:
      return EVP_sha384();
    case KeyType::kEcP521:
      return EVP_sha512();
    default:
      return EVP_sha256();
  }
}

absl::StatusOr<PublicKey> PublicKey::FromEvp(EVP_PKEY* pkey) {
  if (pkey == nullptr) return absl::InvalidArgumentError("no public key");
  absl::StatusOr<KeyType> type = ClassifyKey(pkey);
  if (!type.ok()) return type.status();
  if (EVP_PKEY_up_ref(pkey) != 1) return SslError("EVP_PKEY_up_ref");
  return PublicKey(SslPtr<EVP_PKEY>(pkey), *type);
}

absl::StatusOr<PublicKey> PublicKey::FromSpkiDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  SslPtr<EVP_PKEY> pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) return SslError("parsing public key DER", absl::StatusCode::kInvalidArgument);
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError("trailing bytes after public key DER");
  }
  return FromEvp(pkey.get());
}

absl::StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  SslPtr<BIO> bio = MemoryBio(pem);
  SslPtr<EVP_PKEY> pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return SslError("parsing public key PEM", absl::StatusCode::kInvalidArgument);
  return FromEvp(pkey.get());
}

PublicKey::PublicKey(const PublicKey& other) : type_(other.type_) {
  EVP_PKEY_up_ref(other.pkey_.get());
  pkey_.reset(other.pkey_.get());
}

PublicKey& PublicKey::operator=(const PublicKey& other) {
  if (this != &other) {
    EVP_PKEY_up_ref(other.pkey_.get());
    pkey_.reset(other.pkey_.get());
    type_ = other.type_;
  }
  return *this;
}

absl::StatusOr<std::string> PublicKey::ToSpkiDer() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &der);
  if (len <= 0) return SslError("encoding public key");
  OpensslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
}

absl::StatusOr<std::string> PublicKey::ToPem() const {
  SslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    return SslError("encoding public key PEM");
  }
  return DrainBio(bio.get());
}

bool PublicKey::Equals(const PublicKey& other) const {
  return EVP_PKEY_eq(pkey_.get(), other.pkey_.get()) == 1;
}

absl::StatusOr<PrivateKey> PrivateKey::Generate(KeyType type) {
  const char* curve = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      curve = "P-256";
      break;
    case KeyType::kEcP384:
      curve = "P-384";
      break;
    case KeyType::kEcP521:
      curve = "P-521";
      break;
    case KeyType::kRsa:
      return absl::InvalidArgumentError("Spinel generates EC keys only");
  }
  SslPtr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!pkey) return SslError("generating EC key");
  return PrivateKey(std::move(pkey), type);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPkcs8Der(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  SslPtr<EVP_PKEY> pkey(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) return SslError("parsing PKCS#8 private key", absl::StatusCode::kInvalidArgument);
  absl::StatusOr<KeyType> type = ClassifyKey(pkey.get());
  if (!type.ok()) return type.status();
  return PrivateKey(std::move(pkey), *type);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  SslPtr<BIO> bio = MemoryBio(pem);
  SslPtr<EVP_PKEY> pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return SslError("parsing private key PEM", absl::StatusCode::kInvalidArgument);
  absl::StatusOr<KeyType> type = ClassifyKey(pkey.get());
  if (!type.ok()) return type.status();
  return PrivateKey(std::move(pkey), *type);
}

PrivateKey PrivateKey::Clone() const {
  EVP_PKEY_up_ref(pkey_.get());
  return PrivateKey(SslPtr<EVP_PKEY>(pkey_.get()), type_);
}

absl::StatusOr<SecretData> PrivateKey::ToPkcs8Der() const {
  SslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      i2d_PKCS8PrivateKey_bio(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return SslError("encoding PKCS#8 private key");
  }
  return DrainSecretBio(bio.get());
}

absl::StatusOr<SecretData> PrivateKey::ToPkcs8Pem() const {
  SslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return SslError("encoding PKCS#8 private key PEM");
  }
  return DrainSecretBio(bio.get());
}

absl::StatusOr<PublicKey> PrivateKey::Public() const {
  // The public half shares the EVP_PKEY; callers only ever use it for public operations.
  // Re-encode through SPKI so the PublicKey holds no private material at all.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &der);
  if (len <= 0) return SslError("extracting public key");
  OpensslBuffer<unsigned char> owned(der);
  return PublicKey::FromSpkiDer(std::string_view(reinterpret_cast<char*>(der), len));
}

}  // namespace spinel::common
