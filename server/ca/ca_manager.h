// CaManager: the ZoneAuthority of every trust domain the server signs for (the control plane
// and each zone), created from configuration, plus the periodic rotation that moves their
// authorities through the phases.
//
// Upstream authorities: a zone may be given a root key and certificate on disk; its CAs are
// then intermediates of that root. One root must never serve two trust domains (every zone CA
// would chain into the other zone's bundle and isolation would be gone): Open() and
// AddTrustDomain() refuse a root certificate or root key already used by another trust domain.
//
// Thread-safe. Listeners are called from the rotation thread (or the caller of Rotate*/Prepare/
// Activate) after a bundle changed; they must not call back into the manager's mutating methods.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "server/ca/zone_authority.h"

namespace spinel::server {

struct TrustDomainCaConfig {
  common::TrustDomain trust_domain;
  common::Duration ca_ttl = std::chrono::hours(24);
  std::string upstream_cert_path;  // both empty: self-signed CAs
  std::string upstream_key_path;
};

class CaManager {
 public:
  using BundleListener = std::function<void(const common::TrustDomain&)>;

  // Opens (or creates) the authorities of each trust domain under `keys_dir/<trust domain>/`.
  static absl::StatusOr<std::unique_ptr<CaManager>> Open(
      const std::vector<TrustDomainCaConfig>& configs, std::string keys_dir,
      const common::Clock& clock);
  ~CaManager();

  // Adds a trust domain (a zone added by reload). AlreadyExists when it is present.
  absl::Status AddTrustDomain(const TrustDomainCaConfig& config);
  // Adds several trust domains, all or nothing: every upstream is checked (against the roots in
  // use and against each other) and every authority opened before any is added; on an error
  // none is added (authority files already written for the others stay on disk unused, and
  // are reopened if the trust domain is added later).
  absl::Status AddTrustDomains(const std::vector<TrustDomainCaConfig>& configs);

  // nullptr when the server does not sign for `td`.
  ZoneAuthority* Find(const common::TrustDomain& td) const;
  std::shared_ptr<const AuthoritySnapshot> Snapshot(const common::TrustDomain& td) const;
  std::vector<common::TrustDomain> TrustDomains() const;

  // Forced rotation steps for one trust domain; notify listeners.
  absl::Status Prepare(const common::TrustDomain& td);
  absl::Status Activate(const common::TrustDomain& td);
  // One rotation pass over every trust domain; notifies listeners of each change. Errors are
  // logged and the pass continues with the next trust domain.
  void RotateAll();

  void AddBundleListener(BundleListener listener);
  // Runs RotateAll every `interval` on a background thread until Stop() or destruction.
  void StartRotation(common::Duration interval);
  void Stop();

 private:
  CaManager(std::string keys_dir, const common::Clock& clock)
      : keys_dir_(std::move(keys_dir)), clock_(clock) {}
  // The upstream root of `config`, refused when one of `taken` already serves another domain.
  absl::StatusOr<std::optional<UpstreamCa>> LoadUpstream(
      const TrustDomainCaConfig& config,
      const std::map<common::TrustDomain, UpstreamCa>& taken) const;
  void Notify(const common::TrustDomain& td) ABSL_LOCKS_EXCLUDED(mutex_);

  const std::string keys_dir_;
  const common::Clock& clock_;
  mutable common::Mutex mutex_;
  std::map<common::TrustDomain, std::unique_ptr<ZoneAuthority>> authorities_
      ABSL_GUARDED_BY(mutex_);
  std::map<common::TrustDomain, UpstreamCa> upstreams_ ABSL_GUARDED_BY(mutex_);
  std::vector<BundleListener> listeners_ ABSL_GUARDED_BY(mutex_);

  common::Mutex stop_mutex_;
  common::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(stop_mutex_) = false;
  std::thread rotation_thread_;
};

}  // namespace spinel::server
