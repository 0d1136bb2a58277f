#include "server/zones/trusted_issuer_keys.h"

#include "common/log.h"
#include "common/strings.h"

namespace spinel::server {

absl::StatusOr<common::JwksFile*> TrustedIssuerKeyring::File(const std::string& path) {
  common::JwksFile* file = nullptr;
  {
    common::MutexLock lock(mutex_);
    auto it = files_.find(path);
    if (it != files_.end()) file = it->second.get();
  }
  if (file == nullptr) {
    // Opened outside the lock (file I/O); a racing opener's copy is dropped.
    absl::StatusOr<std::unique_ptr<common::JwksFile>> opened = common::JwksFile::Open(path);
    if (!opened.ok()) {
      common::Log(common::LogLevel::kError, "trusted issuer keys cannot be read",
                  {{"file", path}, {"error", std::string(opened.status().message())}});
      return opened.status();
    }
    common::MutexLock lock(mutex_);
    auto [it, inserted] = files_.emplace(path, std::move(*opened));
    return it->second.get();
  }
  if (absl::Status refreshed = file->Refresh(); !refreshed.ok()) {
    // The last good keys stay in force; the operator sees why the new file is not used.
    common::Log(common::LogLevel::kWarn, "trusted issuer keys: keeping the last good key set",
                {{"file", path}, {"error", std::string(refreshed.message())}});
  }
  return file;
}

std::vector<IssuerKeys> TrustedIssuerKeyring::For(const zones::Zone& zone) {
  std::vector<IssuerKeys> out;
  out.reserve(zone.trusted_issuers.size());
  for (const zones::TrustedIssuerConfig& config : zone.trusted_issuers) {
    IssuerKeys issuer{{config.issuer, nullptr}, absl::OkStatus()};
    absl::StatusOr<common::JwksFile*> file = File(config.jwks_file);
    if (file.ok()) {
      issuer.keys.keys = (*file)->Current();
    } else {
      issuer.error = file.status();
    }
    out.push_back(std::move(issuer));
  }
  return out;
}

}  // namespace spinel::server
