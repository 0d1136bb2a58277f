#include "server/issuance/server_svid.h"

#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace spinel::server {

absl::Status ServerSvid::Renew() {
  common::MutexLock lock(mutex_);
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey pub, key.Public());
  SPINEL_ASSIGN_OR_RETURN(IssuedX509Svid svid, issuer_.SignX509Svid(id_, pub, ttl_));
  SPINEL_ASSIGN_OR_RETURN(common::SecretData key_pem, key.ToPkcs8Pem());
  // Key first: the provider reloads when either file changes, and a new certificate with the
  // old key would fail every handshake until the key arrives.
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(key_path() + ".new", key_pem.view()));
  std::string chain_pem;
  for (const std::string& der : svid.chain_der) {
    SPINEL_ASSIGN_OR_RETURN(common::Certificate cert, common::Certificate::FromDer(der));
    chain_pem += cert.ToPem();
  }
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(cert_path() + ".new", chain_pem));
  if (std::rename((key_path() + ".new").c_str(), key_path().c_str()) != 0 ||
      std::rename((cert_path() + ".new").c_str(), cert_path().c_str()) != 0) {
    return absl::InternalError("cannot install the server SVID files in " + data_dir_);
  }
  issued_at_ = clock_.Now();
  expires_at_ = svid.expires_at;
  LOG_INFO("server SVID renewed",
           {{"spiffe_id", id_.ToString()},
            {"expires_at", std::to_string(common::ToUnixSeconds(expires_at_))}});
  return absl::OkStatus();
}

absl::StatusOr<bool> ServerSvid::RenewIfDue() {
  {
    common::MutexLock lock(mutex_);
    const common::TimePoint now = clock_.Now();
    if (now < issued_at_ + (expires_at_ - issued_at_) / 2) return false;
  }
  SPINEL_RETURN_IF_ERROR(Renew());
  return true;
}

}  // namespace spinel::server
