#include "server/bundles/federated_bundles.h"

#include "common/bundle.h"
#include "common/log.h"

namespace spinel::server {

absl::StatusOr<std::vector<spinel::v1::Bundle>> FederatedBundles::For(
    const std::set<common::TrustDomain>& tds) const {
  std::vector<spinel::v1::Bundle> out;
  for (const common::TrustDomain& td : tds) {
    absl::StatusOr<BundleRecord> record = datastore_.GetBundle(td);
    if (absl::IsNotFound(record.status())) continue;
    if (!record.ok()) return record.status();
    if (!Servable(*record)) continue;
    spinel::v1::Bundle& bundle = out.emplace_back();
    bundle.set_trust_domain(td.name());
    bundle.set_jwks(record->bundle_json);
    bundle.set_sequence(static_cast<uint64_t>(record->sequence));
  }
  return out;
}

bool FederatedBundles::Servable(const BundleRecord& record) const {
  const std::string& td = record.trust_domain.name();
  {
    common::MutexLock lock(mutex_);
    auto it = checked_.find(td);
    if (it != checked_.end() && it->second.first == record.bundle_json) return it->second.second;
  }
  absl::StatusOr<common::Bundle> parsed =
      common::Bundle::Parse(record.trust_domain, record.bundle_json);
  if (!parsed.ok()) {
    LOG_WARN("federated bundle not sent to agents: it does not parse",
             {{"trust_domain", td}, {"error", std::string(parsed.status().message())}});
  }
  common::MutexLock lock(mutex_);
  checked_.insert_or_assign(td, std::make_pair(record.bundle_json, parsed.ok()));
  return parsed.ok();
}

}  // namespace spinel::server
