#include "server/ca/ca_manager.h"

#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

using common::StrCat;

absl::StatusOr<std::unique_ptr<CaManager>> CaManager::Open(
    const std::vector<TrustDomainCaConfig>& configs, std::string keys_dir,
    const common::Clock& clock) {
  std::unique_ptr<CaManager> manager(new CaManager(std::move(keys_dir), clock));
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(manager->keys_dir_, 0700));
  for (const TrustDomainCaConfig& config : configs) {
    SPINEL_RETURN_IF_ERROR(manager->AddTrustDomain(config));
  }
  return manager;
}

CaManager::~CaManager() { Stop(); }

absl::StatusOr<std::optional<UpstreamCa>> CaManager::LoadUpstream(
    const TrustDomainCaConfig& config,
    const std::map<common::TrustDomain, UpstreamCa>& taken) const {
  if (config.upstream_cert_path.empty() && config.upstream_key_path.empty()) {
    return std::optional<UpstreamCa>();
  }
  const std::string& td = config.trust_domain.name();
  auto fail = [&](std::string_view what) {
    return absl::InvalidArgumentError(StrCat("upstream authority for ", td, ": ", what));
  };
  SPINEL_ASSIGN_OR_RETURN(std::string cert_pem, common::ReadFile(config.upstream_cert_path));
  SPINEL_ASSIGN_OR_RETURN(const common::SecretData key_pem,
                          common::ReadSecretFile(config.upstream_key_path));
  auto certs = common::Certificate::ParsePemChain(cert_pem);
  if (!certs.ok()) return fail(StrCat(config.upstream_cert_path, ": ", certs.status().message()));
  auto key = common::PrivateKey::FromPem(key_pem.view());
  if (!key.ok()) return fail(StrCat(config.upstream_key_path, ": not a readable private key"));
  UpstreamCa upstream{certs->front(), std::make_shared<const common::PrivateKey>(std::move(*key))};
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey cert_key, upstream.certificate.GetPublicKey());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey key_pub, upstream.key->Public());
  if (!cert_key.Equals(key_pub)) return fail("the key does not belong to the certificate");
  for (const auto& [other_td, other] : taken) {
    SPINEL_ASSIGN_OR_RETURN(common::PublicKey other_key, other.certificate.GetPublicKey());
    if (other.certificate.Equals(upstream.certificate) || other_key.Equals(cert_key)) {
      return fail(StrCat("the same root already serves ", other_td.name(),
                         "; one root must never serve two zones (each zone's CA would chain "
                         "into the other's bundle)"));
    }
  }
  return std::optional<UpstreamCa>(std::move(upstream));
}

absl::Status CaManager::AddTrustDomain(const TrustDomainCaConfig& config) {
  return AddTrustDomains({config});
}

absl::Status CaManager::AddTrustDomains(const std::vector<TrustDomainCaConfig>& configs) {
  common::MutexLock lock(mutex_);
  std::map<common::TrustDomain, UpstreamCa> upstreams = upstreams_;
  std::map<common::TrustDomain, std::unique_ptr<ZoneAuthority>> opened;
  for (const TrustDomainCaConfig& config : configs) {
    if (authorities_.count(config.trust_domain) > 0 || opened.count(config.trust_domain) > 0) {
      return absl::AlreadyExistsError(
          StrCat("trust domain ", config.trust_domain.name(), " already has authorities"));
    }
    SPINEL_ASSIGN_OR_RETURN(std::optional<UpstreamCa> upstream, LoadUpstream(config, upstreams));
    ZoneAuthorityOptions options{.trust_domain = config.trust_domain,
                                 .ca_ttl = config.ca_ttl,
                                 .key_type = common::KeyType::kEcP256,
                                 .upstream = upstream};
    SPINEL_ASSIGN_OR_RETURN(
        auto authority,
        ZoneAuthority::Open(options, StrCat(keys_dir_, "/", config.trust_domain.name()), clock_));
    opened.emplace(config.trust_domain, std::move(authority));
    if (upstream) upstreams.emplace(config.trust_domain, *upstream);
  }
  for (auto& [td, authority] : opened) authorities_.emplace(td, std::move(authority));
  upstreams_ = std::move(upstreams);
  return absl::OkStatus();
}

ZoneAuthority* CaManager::Find(const common::TrustDomain& td) const {
  common::MutexLock lock(mutex_);
  auto it = authorities_.find(td);
  return it == authorities_.end() ? nullptr : it->second.get();
}

std::shared_ptr<const AuthoritySnapshot> CaManager::Snapshot(const common::TrustDomain& td) const {
  ZoneAuthority* authority = Find(td);
  return authority ? authority->Snapshot() : nullptr;
}

std::vector<common::TrustDomain> CaManager::TrustDomains() const {
  common::MutexLock lock(mutex_);
  std::vector<common::TrustDomain> out;
  for (const auto& [td, authority] : authorities_) out.push_back(td);
  return out;
}

absl::Status CaManager::Prepare(const common::TrustDomain& td) {
  ZoneAuthority* authority = Find(td);
  if (authority == nullptr) {
    return absl::NotFoundError(StrCat("no authorities for trust domain ", td.name()));
  }
  SPINEL_RETURN_IF_ERROR(authority->Prepare());
  Notify(td);
  return absl::OkStatus();
}

absl::Status CaManager::Activate(const common::TrustDomain& td) {
  ZoneAuthority* authority = Find(td);
  if (authority == nullptr) {
    return absl::NotFoundError(StrCat("no authorities for trust domain ", td.name()));
  }
  SPINEL_RETURN_IF_ERROR(authority->Activate());
  Notify(td);
  return absl::OkStatus();
}

void CaManager::RotateAll() {
  for (const common::TrustDomain& td : TrustDomains()) {
    absl::StatusOr<bool> changed = Find(td)->Rotate();
    if (!changed.ok()) {
      LOG_ERROR("rotation failed",
                {{"trust_domain", td.name()}, {"error", std::string(changed.status().message())}});
    } else if (*changed) {
      Notify(td);
    }
  }
}

void CaManager::AddBundleListener(BundleListener listener) {
  common::MutexLock lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void CaManager::Notify(const common::TrustDomain& td) {
  std::vector<BundleListener> listeners;
  {
    common::MutexLock lock(mutex_);
    listeners = listeners_;
  }
  for (const BundleListener& listener : listeners) listener(td);
}

void CaManager::StartRotation(common::Duration interval) {
  rotation_thread_ = std::thread([this, interval] {
    common::MutexLock lock(stop_mutex_);
    while (!stop_cv_.WaitFor(
        stop_mutex_, interval,
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stop_mutex_) { return stopping_; })) {
      lock.Unlock();
      RotateAll();
      lock.Lock();
    }
  });
}

void CaManager::Stop() {
  {
    common::MutexLock lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.NotifyAll();
  if (rotation_thread_.joinable()) rotation_thread_.join();
}

}  // namespace spinel::server
