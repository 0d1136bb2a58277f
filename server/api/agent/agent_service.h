// The agent API (common/proto/agent.proto) served to spinel-agent over TLS.
//
// Attest is the only call that needs no client certificate. Every other call authenticates the
// caller's agent SVID (agent_auth.h) and is limited to what that agent is authorized for
// (AgentView): an entry id the agent does not hold is PermissionDenied, as is a CSR whose URI
// SAN is not the entry's SPIFFE ID. Workload private keys never reach the server: only CSRs
// and, for WIT-SVIDs, public JWKs.
// Every SVID issued here is recorded in the audit log (audit_log.h) before the response is sent:
// one transaction per SignX509Svids batch; if it cannot be recorded the call fails and no SVID
// is handed out. Step-up approvals and agents' audit reports are in
// agent_service_approvals.cc. Thread-safe; gRPC calls the methods concurrently.
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "agent.grpc.pb.h"
#include "common/clock.h"
#include "server/api/agent/agent_auth.h"
#include "server/api/agent/node_attestation.h"
#include "server/api/agent/signing_limiter.h"
#include "server/audit/audit_log.h"
#include "server/bundles/own_bundle.h"
#include "server/config.h"
#include "server/datastore/agent_store.h"
#include "server/datastore/approval_store.h"
#include "server/datastore/audit_store.h"
#include "server/datastore/change_log.h"
#include "server/datastore/entry_store.h"
#include "server/issuance/issuer.h"
#include "server/metrics/metrics.h"
#include "server/sync/agent_sync.h"
#include "server/sync/sync_stream.h"
#include "server/zones/trusted_issuer_keys.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

// The settings of the agent API (from ServerConfig, AgentApiSettings::FromConfig).
struct AgentApiSettings {
  common::TrustDomain control;            // config trust_domain
  std::chrono::seconds agent_svid_ttl{};  // config agent_svid_ttl
  std::chrono::seconds approval_ttl{};    // config approval_ttl
  int max_concurrent_signings = 0;        // config max_concurrent_signings (0: CPUs)
  int signings_per_agent_per_second = 0;  // config signings_per_agent_per_second

  static AgentApiSettings FromConfig(const ServerConfig& config);
};

// The parts the agent API uses (references; they must outlive the service and its streams).
struct AgentApiDeps {
  EntryStore& entries;                // the entries agents ask SVIDs for
  AgentStore& agents;                 // attested agents and join tokens
  ApprovalStore& approvals;           // step-up approvals
  AuditStore& audit;                  // every SVID issued and every refusal
  ChangeLog& changes;                 // the revision sync updates carry
  const ZoneState& zones;             // audit zone names, the server's own policy
  Issuer& issuer;                     // signs agent and workload SVIDs, mints JWT-SVIDs
  AgentView& view;                    // what each agent is authorized for and served
  SyncHub& hub;                       // sync streams subscribe (the change feed wakes them)
  const OwnBundles& own_bundles;      // the control bundle; the zones' delegation token keys
  TrustedIssuerKeyring& issuer_keys;  // token exchange: the zones' trusted user issuers
  Metrics& metrics;                   // sync streams count the views they recompute
  const common::Clock& clock;
  AgentApiSettings settings;
};

class AgentServiceImpl final
    : public spinel::v1::AgentService::WithCallbackMethod_Sync<spinel::v1::AgentService::Service> {
 public:
  // `x509pop` may be null (x509pop attestation disabled).
  AgentServiceImpl(const AgentApiDeps& deps, std::unique_ptr<X509PopAttestor> x509pop);

  grpc::Status Attest(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<spinel::v1::AttestResponse,
                                               spinel::v1::AttestRequest>* stream) override;
  grpc::Status RenewAgentSvid(grpc::ServerContext* context,
                              const spinel::v1::RenewAgentSvidRequest* request,
                              spinel::v1::RenewAgentSvidResponse* response) override;
  grpc::ServerWriteReactor<spinel::v1::SyncUpdate>* Sync(
      grpc::CallbackServerContext* context, const spinel::v1::SyncRequest* request) override;
  grpc::Status SignX509Svids(grpc::ServerContext* context,
                             const spinel::v1::SignX509SvidsRequest* request,
                             spinel::v1::SignX509SvidsResponse* response) override;
  grpc::Status MintJwtSvid(grpc::ServerContext* context,
                           const spinel::v1::MintJwtSvidRequest* request,
                           spinel::v1::MintJwtSvidResponse* response) override;
  // agent_service_wit.cc
  grpc::Status MintWitSvids(grpc::ServerContext* context,
                            const spinel::v1::MintWitSvidsRequest* request,
                            spinel::v1::MintWitSvidsResponse* response) override;
  // agent_service_delegation.cc
  grpc::Status ExchangeToken(grpc::ServerContext* context,
                             const spinel::v1::ExchangeTokenRequest* request,
                             spinel::v1::ExchangeTokenResponse* response) override;

  // agent_service_approvals.cc
  grpc::Status CreateApproval(grpc::ServerContext* context,
                              const spinel::v1::CreateApprovalRequest* request,
                              spinel::v1::Approval* response) override;
  grpc::Status UseApproval(grpc::ServerContext* context,
                           const spinel::v1::UseApprovalRequest* request,
                           spinel::v1::Approval* response) override;
  grpc::Status ReportAuditEvents(grpc::ServerContext* context,
                                 const spinel::v1::ReportAuditEventsRequest* request,
                                 spinel::v1::ReportAuditEventsResponse* response) override;

 private:
  absl::StatusOr<NodeAttestation> RunAttestation(
      const spinel::v1::AttestParams& params,
      grpc::ServerReaderWriter<spinel::v1::AttestResponse, spinel::v1::AttestRequest>* stream);
  // Signs the agent SVID for `attestation`, stores the agent record, fills `svid`.
  absl::Status IssueAgentSvid(const NodeAttestation& attestation, std::string_view csr_der,
                              bool new_agent, spinel::v1::AgentSvid* svid);
  // Signs one CSR of `agent` (whose AgentView::ParentIdsOf are `parents`) into `result`;
  // appends its audit event (issued or refused) to `audit`.
  void SignOne(const AttestedAgent& agent, const std::vector<common::SpiffeId>& parents,
               const spinel::v1::CsrForEntry& request, spinel::v1::SignedSvid* result,
               std::vector<AuditEvent>* audit);
  // Mints one WIT-SVID of `agent` into `result`; appends its audit event to `audit`.
  void MintWitOne(const AttestedAgent& agent, const std::vector<common::SpiffeId>& parents,
                  const spinel::v1::WitKeyForEntry& request, spinel::v1::MintedWitSvid* result,
                  std::vector<AuditEvent>* audit);
  // Validates, plans and signs one token exchange; `workload` is set once the entry is known
  // (the subject of the audit event of a refusal).
  struct ExchangeResult {
    common::DelegationClaims claims;
    IssuedDelegationToken issued;
  };
  absl::StatusOr<ExchangeResult> Exchange(const AttestedAgent& agent,
                                          const spinel::v1::ExchangeTokenRequest& request,
                                          std::optional<common::SpiffeId>& workload);
  // The entry `entry_id` when `agent` (with `parents`) may be served it; PermissionDenied
  // otherwise, naming the entry.
  absl::StatusOr<RegistrationEntry> AuthorizedEntry(const AttestedAgent& agent,
                                                    const std::vector<common::SpiffeId>& parents,
                                                    const std::string& entry_id);

  // The caller's agent SVID checked (agent_auth.h).
  absl::StatusOr<AttestedAgent> Authenticate(const grpc::AuthContext& auth) const {
    return AuthenticateAgent(auth_, auth);
  }

  const AgentApiDeps deps_;
  const AgentAuthDeps auth_;
  const SyncStreamDeps streams_;
  std::unique_ptr<X509PopAttestor> x509pop_;
  SigningLimiter limiter_;
  AuditLog audit_;
};

}  // namespace spinel::server
