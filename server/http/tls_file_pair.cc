#include "server/http/tls_file_pair.h"

#include <sys/stat.h>

#include "common/file_util.h"
#include "common/log.h"
#include "common/secret_data.h"
#include "common/ssl_error.h"
#include "common/ssl_ptr.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

using common::StrCat;

absl::StatusOr<std::unique_ptr<TlsFilePair>> TlsFilePair::Load(std::string cert_path,
                                                               std::string key_path) {
  std::unique_ptr<TlsFilePair> tls(new TlsFilePair(std::move(cert_path), std::move(key_path)));
  {
    // Not shared yet, so uncontended; held because pair_ and seen_ are only ever touched so.
    common::MutexLock lock(tls->mutex_);
    tls->seen_ = tls->StampFiles();
    SPINEL_ASSIGN_OR_RETURN(tls->pair_, tls->ReadPair());
  }
  return tls;
}

int TlsFilePair::CertCallback(SSL* ssl, void* arg) {
  const std::shared_ptr<const Pair> pair = static_cast<TlsFilePair*>(arg)->Current();
  common::SslPtr<STACK_OF(X509)> chain(sk_X509_new_null());  // borrowed certs, not freed
  if (!chain) return 0;
  for (size_t i = 1; i < pair->chain.size(); ++i) {
    if (sk_X509_push(chain.get(), pair->chain[i].x509()) <= 0) return 0;
  }
  // Takes its own references to the certificate, key and chain.
  return SSL_use_cert_and_key(ssl, pair->chain[0].x509(), pair->key.evp(), chain.get(), 1);
}

TlsFileStamp TlsFilePair::StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return TlsFileStamp{};
  return TlsFileStamp{st.st_dev, st.st_ino, st.st_size,
                      int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

absl::StatusOr<std::shared_ptr<const TlsFilePair::Pair>> TlsFilePair::ReadPair() const {
  SPINEL_ASSIGN_OR_RETURN(std::string cert_pem, common::ReadFile(cert_path_));
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> chain,
                          common::Certificate::ParsePemChain(cert_pem));
  SPINEL_ASSIGN_OR_RETURN(const common::SecretData key_pem, common::ReadSecretFile(key_path_));
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::FromPem(key_pem.view()));
  if (X509_check_private_key(chain[0].x509(), key.evp()) != 1) {
    common::ClearSslErrors();
    return absl::FailedPreconditionError(
        StrCat("the key in ", key_path_, " does not match the certificate in ", cert_path_));
  }
  return std::make_shared<const Pair>(Pair{std::move(chain), std::move(key)});
}

std::shared_ptr<const TlsFilePair::Pair> TlsFilePair::Current() {
  const Stamps stamps = StampFiles();
  common::MutexLock lock(mutex_);
  if (stamps == seen_) return pair_;
  seen_ = stamps;
  absl::StatusOr<std::shared_ptr<const Pair>> next = ReadPair();
  if (!next.ok()) {
    LOG_WARN("HTTPS certificate not reloaded; serving the previous one",
             {{"cert", cert_path_}, {"error", std::string(next.status().message())}});
    return pair_;
  }
  pair_ = std::move(*next);
  LOG_INFO("HTTPS certificate reloaded",
           {{"cert", cert_path_}, {"serial", pair_->chain[0].SerialHex()}});
  return pair_;
}

}  // namespace spinel::server
