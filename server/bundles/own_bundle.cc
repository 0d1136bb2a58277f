#include "server/bundles/own_bundle.h"

#include "common/strings.h"
#include "server/bundles/bundle_merger.h"
#include "server/http/https_server.h"

namespace spinel::server {

absl::StatusOr<common::Bundle> OwnTrustDomainBundle(const ServerComponents& components,
                                                    const common::TrustDomain& td) {
  std::shared_ptr<const AuthoritySnapshot> snapshot = components.cas.Snapshot(td);
  if (snapshot == nullptr) {
    return absl::NotFoundError(common::StrCat("no authority for trust domain ", td.name()));
  }
  // Merged over every server replica (server/bundles/bundle_merger.h); the hint from this replica's CA.
  std::shared_ptr<const common::Bundle> own = OwnBundle(components.bundles, components.cas, td);
  common::Bundle bundle = own ? *own : snapshot->ToBundle();
  bundle.refresh_hint_seconds = BundleRefreshHint(*snapshot).count();
  return bundle;
}

}  // namespace spinel::server
