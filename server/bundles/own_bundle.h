// The SPIFFE bundle this server publishes for one of its own trust domains (a zone's, or the
// control plane's), as the federation bundle endpoints serve it. The one place that says where
// that bundle comes from, so a change of source (e.g. merged over server replicas) is a
// one-line switch here.
#pragma once

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "common/spiffe_id.h"
#include "server/components.h"

namespace spinel::server {

// The bundle of `td` with spiffe_refresh_hint = BundleRefreshHint (server/http/https_server.h).
// NotFound when the server has no authority for `td`.
absl::StatusOr<common::Bundle> OwnTrustDomainBundle(const ServerComponents& components,
                                                    const common::TrustDomain& td);

}  // namespace spinel::server
