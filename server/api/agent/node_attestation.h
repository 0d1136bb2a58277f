// Node attestation: how an agent proves which node it runs on before it gets an agent SVID.
//
//   join_token: an operator-created, single-use, expiring token. The agent ID is fixed when the
//               token is created (spiffe://<control-td>/spinel/agent/join_token/<uuid>).
//   x509pop:    the node holds a certificate from a CA the server is configured to trust and
//               proves possession of its key by signing a fresh server nonce. The agent ID is
//               spiffe://<control-td>/spinel/agent/x509pop/<sha256 fingerprint of the leaf>, and
//               the node gets selectors x509pop:subject:cn:<CN>,
//               x509pop:ca:fingerprint:<sha256 of the root>, x509pop:serialnumber:<hex>.
//
// Neither step writes the attested-agent record; the agent API does that after signing the
// agent SVID. Banned agents are refused by the caller (it holds the datastore record).
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/clock.h"
#include "common/selector.h"
#include "common/spiffe_id.h"
#include "server/datastore/agent_store.h"

namespace spinel::server {

struct NodeAttestation {
  common::SpiffeId agent_id;
  std::string method;  // "join_token" or "x509pop"
  common::SelectorSet selectors;
};

// The agent ID space: spiffe://<control-td>/spinel/agent/<method>/<id>.
absl::StatusOr<common::SpiffeId> AgentId(const common::TrustDomain& control,
                                         std::string_view method, std::string_view id);
// spiffe://<control-td>/spinel/server
common::SpiffeId ServerId(const common::TrustDomain& control);

struct CreatedJoinToken {
  std::string token;  // shown once to the operator; only its hash is stored
  common::SpiffeId agent_id;
  int64_t expires_at = 0;
};

// Creates a join token valid for `ttl` from `now`.
absl::StatusOr<CreatedJoinToken> CreateJoinToken(AgentStore& agents,
                                                 const common::TrustDomain& control,
                                                 common::Duration ttl, common::TimePoint now);

// Consumes `token` (single use). PermissionDenied with a reason for unknown, used or expired
// tokens; the message never contains the token.
absl::StatusOr<NodeAttestation> AttestJoinToken(AgentStore& agents, std::string_view token);

// x509pop attestation against a fixed set of trusted node CAs.
class X509PopAttestor {
 public:
  // `ca_bundle_pem`: the CA certificates node certificates must chain to.
  static absl::StatusOr<std::unique_ptr<X509PopAttestor>> Create(std::string_view ca_bundle_pem,
                                                                 common::TrustDomain control);

  struct Challenge {
    std::string nonce;  // random bytes the node must sign
    NodeAttestation attestation;
    common::Certificate leaf;
  };
  // Verifies the node chain (leaf first, DER) at `now` and returns a fresh challenge.
  absl::StatusOr<Challenge> Begin(const std::vector<std::string>& chain_der,
                                  common::TimePoint now) const;
  // Checks the node's signature over the nonce with the leaf key (common/pop_signature.h).
  static absl::Status Finish(const Challenge& challenge, std::string_view signature);

 private:
  X509PopAttestor(std::vector<common::Certificate> roots, common::TrustDomain control)
      : roots_(std::move(roots)), control_(std::move(control)) {}
  std::vector<common::Certificate> roots_;
  common::TrustDomain control_;
};

}  // namespace spinel::server
