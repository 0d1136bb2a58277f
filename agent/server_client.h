// ServerClient: spinel-agent's side of the agent API (common/proto/agent.proto). It owns the
// gRPC channel to the server, rebuilt whenever the agent's identity changes (attestation,
// renewal). Every call has a deadline; errors come back as absl::Status with the server's
// code and message. Thread-safe.
//
// Several server replicas (config `servers:`): the client talks to one of them at a time. A
// call or Sync stream that ends UNAVAILABLE (the replica is down or unreachable; also
// DEADLINE_EXCEEDED of a unary call: the replica hangs) moves the client to the next address
// in the list, round robin; later calls and streams go there with the same agent identity
// (every replica accepts it: they share the datastore and trust each other's control CAs), so
// no re-attestation is needed. Callers keep their own retry pacing (SyncLoop's backoff, the
// rotator's next pass); Attest alone tries each replica once before giving up. Every channel
// caps gRPC's own reconnect backoff at `max_reconnect_backoff`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "agent.grpc.pb.h"
#include "agent/authz/approval_backend.h"
#include "agent/authz/audit_reporter.h"
#include "agent/authz/exchange_backend.h"
#include "agent/csr_signer.h"
#include "agent/server_trust.h"
#include "agent/wit_minter.h"
#include "common/bundle.h"
#include "common/keys.h"
#include "common/mutex.h"

namespace spinel::agent {

struct AgentSvid {
  common::SpiffeId id;
  std::vector<common::Certificate> chain;  // leaf first
  common::Bundle control_bundle;
};

// The deadline of a unary agent API call.
inline constexpr std::chrono::seconds kDefaultCallTimeout(15);

class ServerClient final : public CsrSigner,
                           public WitMinter,
                           public ApprovalBackend,
                           public AuditReporter,
                           public ExchangeBackend {
 public:
  // `addresses`: host:port of every replica, tried in this order; must not be empty.
  ServerClient(std::vector<std::string> addresses, std::shared_ptr<ControlTrust> trust,
               const common::Clock& clock,
               std::chrono::milliseconds max_reconnect_backoff = std::chrono::seconds(5));
  ServerClient(std::string address, std::shared_ptr<ControlTrust> trust, const common::Clock& clock)
      : ServerClient(std::vector<std::string>{std::move(address)}, std::move(trust), clock) {}

  // The replica calls go to now, and how often the client moved to another one.
  std::string current_address() const;
  uint64_t failovers() const;

  // Node attestation with a join token; `agent_key` is the key the agent SVID will hold.
  absl::StatusOr<AgentSvid> AttestJoinToken(std::string_view token,
                                            const common::PrivateKey& agent_key);
  // Node attestation with a node certificate chain (DER, leaf first) and its key.
  absl::StatusOr<AgentSvid> AttestX509Pop(const std::vector<std::string>& node_chain_der,
                                          const common::PrivateKey& node_key,
                                          const common::PrivateKey& agent_key);
  // Presents `identity` on every later call.
  void SetIdentity(AgentIdentity identity);
  absl::StatusOr<AgentSvid> RenewAgentSvid(const common::PrivateKey& new_key);
  // One batch of (entry id, CSR DER) pairs.
  absl::StatusOr<std::vector<SignedSvid>> SignX509Svids(
      const std::vector<std::pair<std::string, std::string>>& csrs) override;
  absl::StatusOr<spinel::v1::MintJwtSvidResponse> MintJwtSvid(
      const std::string& entry_id, const std::vector<std::string>& audience);
  absl::StatusOr<std::vector<MintedWit>> MintWitSvids(
      const std::vector<WitKeyRequest>& keys) override;

  // Step-up approvals and decision audit (trust zones); contracts in agent.proto.
  absl::StatusOr<spinel::v1::Approval> CreateApproval(
      const spinel::v1::AccessRequest& request) override;
  absl::StatusOr<spinel::v1::Approval> UseApproval(
      const std::string& approval_id, const spinel::v1::AccessRequest& request) override;
  absl::StatusOr<uint64_t> ReportAuditEvents(
      const spinel::v1::ReportAuditEventsRequest& request) override;
  // Token exchange (agent.proto ExchangeToken): a delegation token signed by the zone.
  absl::StatusOr<spinel::v1::ExchangeTokenResponse> ExchangeToken(
      const spinel::v1::ExchangeTokenRequest& request) override;

  // Opens the Sync stream and calls `on_update` for every message until the stream ends or
  // `context` is cancelled; returns the final status.
  absl::Status Sync(grpc::ClientContext* context,
                    const std::function<void(const spinel::v1::SyncUpdate&)>& on_update);

 private:
  // The stub of the current channel and that channel's generation.
  struct Channel {
    std::shared_ptr<spinel::v1::AgentService::Stub> stub;
    uint64_t generation = 0;
  };
  Channel Current();
  // Passes `status` through; when it says the replica of channel `generation` is down (and
  // that is still the current channel), moves to the next address.
  absl::Status Observe(absl::Status status, uint64_t generation, bool unary);
  // One unary call of `method` on the current channel with a deadline `timeout` from now,
  // its status observed as above.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (spinel::v1::AgentService::Stub::*method)(grpc::ClientContext*,
                                                                           const Request&,
                                                                           Response*),
                    const Request& request, Response* response,
                    std::chrono::seconds timeout = kDefaultCallTimeout);
  void RebuildLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<AgentSvid> AttestOnce(const spinel::v1::AttestParams& params,
                                       const common::PrivateKey* node_key);
  absl::StatusOr<AgentSvid> Attest(const spinel::v1::AttestParams& params,
                                   const common::PrivateKey* node_key);

  const std::vector<std::string> addresses_;
  const std::shared_ptr<ControlTrust> trust_;
  const common::Clock& clock_;
  const std::chrono::milliseconds max_reconnect_backoff_;
  mutable common::Mutex mutex_;
  size_t index_ ABSL_GUARDED_BY(mutex_) = 0;         // addresses_[index_] is current
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;  // bumped on every rebuild
  uint64_t failovers_ ABSL_GUARDED_BY(mutex_) = 0;
  std::optional<AgentIdentity> identity_ ABSL_GUARDED_BY(mutex_);
  std::shared_ptr<spinel::v1::AgentService::Stub> stub_ ABSL_GUARDED_BY(mutex_);
};

// Decodes an AgentSvid message.
absl::StatusOr<AgentSvid> AgentSvidFromProto(const spinel::v1::AgentSvid& proto);

}  // namespace spinel::agent
