// Authenticating agents on the agent API. After attestation every call must come over mTLS with
// the caller's agent SVID: the client certificate (and any intermediates) is verified as an
// X509-SVID against the control bundle merged over every replica (OwnBundle: an SVID signed
// by any replica's control CA is good), its SPIFFE ID must be an agent ID
// (spiffe://<control-td>/spinel/agent/...), the agent must still be attested (not evicted) and
// not banned, and the certificate must be the agent's current SVID (its serial is the one the
// server last issued). Any failure is PermissionDenied (Unauthenticated without a certificate)
// with the reason. Thread-safe.
#pragma once

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/clock.h"
#include "common/spiffe_id.h"
#include "server/bundles/own_bundle.h"
#include "server/datastore/agent_store.h"

namespace grpc {
class AuthContext;
}

namespace spinel::server {

// The client certificate chain gRPC recorded for the connection: the leaf, then whatever else
// the client sent (intermediates, possibly its root); empty when the peer sent no certificate.
std::vector<common::Certificate> PeerCertificates(const grpc::AuthContext& auth);

// What authenticating an agent reads (references; they must outlive every call).
struct AgentAuthDeps {
  common::TrustDomain control;    // agent IDs are spiffe://<control>/spinel/agent/...
  const OwnBundles& own_bundles;  // the control bundle, merged over every replica
  AgentStore& agents;             // attested, not banned, current serial
  const common::Clock& clock;
};

absl::StatusOr<AttestedAgent> AuthenticateAgent(const AgentAuthDeps& deps,
                                                const grpc::AuthContext& auth);

}  // namespace spinel::server
