// The SPIFFE bundle this server publishes for one of its own trust domains (a zone's, or the
// control plane's), as the federation bundle endpoints and the HTTPS /bundle path serve it. The one place that says where
// that bundle comes from, so a change of source (e.g. merged over server replicas) is a
// one-line switch here.
#pragma once

#include <chrono>

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "common/spiffe_id.h"
#include "server/ca/zone_authority.h"
#include "server/components.h"

namespace spinel::server {

// The spiffe_refresh_hint published with a bundle: a fifteenth of the active X.509 CA's
// lifetime, at most 300 s and at least 1 s (300 s without an active CA). New authorities are
// published a third of the CA lifetime before they sign, so federated clients polling at this
// interval see them at least 5 refresh hints in advance (checklist G10).
std::chrono::seconds BundleRefreshHint(const AuthoritySnapshot& snapshot);

// The bundle of `td` with spiffe_refresh_hint = BundleRefreshHint: merged over every server
// replica (server/bundles/bundle_merger.h) when the merger runs, else this replica's own.
// NotFound when the server has no authority for `td`.
absl::StatusOr<common::Bundle> OwnTrustDomainBundle(const ServerComponents& components,
                                                    const common::TrustDomain& td);

}  // namespace spinel::server
