// ServerClient: spinel-agent's side of the agent API (common/proto/agent.proto). It owns the
// gRPC channel to the server, rebuilt whenever the agent's identity changes (attestation,
// renewal). Every call has a deadline; errors come back as absl::Status with the server's
// code and message. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "agent.grpc.pb.h"
#include "agent/authz/approval_backend.h"
#include "agent/authz/audit_reporter.h"
#include "agent/csr_signer.h"
#include "agent/server_trust.h"
#include "common/bundle.h"
#include "common/keys.h"

namespace spinel::agent {

struct AgentSvid {
  common::SpiffeId id;
  std::vector<common::Certificate> chain;  // leaf first
  common::Bundle control_bundle;
};

class ServerClient final : public CsrSigner, public ApprovalBackend, public AuditReporter {
 public:
  ServerClient(std::string address, std::shared_ptr<ControlTrust> trust,
               const common::Clock& clock);

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

  // Step-up approvals and decision audit (trust zones); contracts in agent.proto.
  absl::StatusOr<spinel::v1::Approval> CreateApproval(
      const spinel::v1::AccessRequest& request) override;
  absl::StatusOr<spinel::v1::Approval> UseApproval(
      const std::string& approval_id, const spinel::v1::AccessRequest& request) override;
  absl::StatusOr<uint64_t> ReportAuditEvents(
      const spinel::v1::ReportAuditEventsRequest& request) override;

  // Opens the Sync stream and calls `on_update` for every message until the stream ends or
  // `context` is cancelled; returns the final status.
  absl::Status Sync(grpc::ClientContext* context,
                    const std::function<void(const spinel::v1::SyncUpdate&)>& on_update);

 private:
  std::shared_ptr<spinel::v1::AgentService::Stub> Stub();
  absl::StatusOr<AgentSvid> Attest(const spinel::v1::AttestParams& params,
                                   const common::PrivateKey* node_key);

  const std::string address_;
  const std::shared_ptr<ControlTrust> trust_;
  const common::Clock& clock_;
  std::mutex mutex_;
  std::shared_ptr<spinel::v1::AgentService::Stub> stub_;  // guarded by mutex_
};

// Decodes an AgentSvid message.
absl::StatusOr<AgentSvid> AgentSvidFromProto(const spinel::v1::AgentSvid& proto);

}  // namespace spinel::agent
