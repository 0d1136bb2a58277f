// AdminServiceImpl: the admin API (common/proto/admin.proto) over AdminDeps. Private to
// server/admin_service*.cc and the tests; everyone else uses StartAdminServer (admin_service.h).
//
// The methods are split by concern:
//   admin_service_entries.cc      CreateEntries, UpdateEntry, DeleteEntry, GetEntry,
//                                 ListEntries, CountEntries
//   admin_service_agents.cc       ListAgents, GetAgent, EvictAgent, BanAgent, CreateJoinToken,
//                                 Health
//   admin_service_authorities.cc  GetBundle, ListBundles, MintX509Svid, MintJwtSvid,
//                                 GetLocalAuthorities, PrepareLocalAuthority,
//                                 ActivateLocalAuthority
//   admin_service_zones.cc        ListZones, GetZone, ReloadZones
//   admin_service_approvals.cc    ListApprovals, GetApproval, ApproveApproval, DenyApproval
//   admin_service_audit.cc        ListAuditEvents, VerifyAudit
//   admin_service_federation.cc   CreateFederationRelationship, UpdateFederationRelationship,
//                                 DeleteFederationRelationship, GetFederationRelationship,
//                                 ListFederationRelationships, RefreshFederatedBundle
//   admin_service.cc              request parsing helpers and StartAdminServer
//
// Request validation: every malformed SPIFFE ID, trust domain, selector or TTL is
// InvalidArgument naming the request field (e.g. "entries[2].selectors[0]: ..."), and nothing is
// written. Registration rules (zone caps, parents, placement) are the EntryRegistry's.
// Thread-safe: gRPC calls the methods concurrently; all state lives in the parts in AdminDeps.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "admin.grpc.pb.h"
#include "common/spiffe_id.h"
#include "server/api/admin/admin_service.h"
#include "server/audit/audit_log.h"
#include "server/datastore/types.h"

namespace spinel::server {

// The version Health reports.
inline constexpr char kSpinelServerVersion[] = "0.1.0";

// At most this many entries per CreateEntries call.
inline constexpr int kMaxEntriesPerBatch = 1000;

// gRPC metadata carrying the operator's local user name (sent by the CLI); informational, for
// decided_by and audit actors: the socket's file mode is the access control.
inline constexpr char kOperatorMetadataKey[] = "spinel-operator";
// "operator:<name>" from the caller's kOperatorMetadataKey ([A-Za-z0-9._@-], at most 64
// characters), else "operator:unknown" (admin_service_approvals.cc).
std::string OperatorActor(const grpc::ServerContext& context);

class AdminServiceImpl final : public spinel::v1::AdminService::Service {
 public:
  AdminServiceImpl(const AdminDeps& deps, AdminHooks hooks)
      : deps_(deps), hooks_(std::move(hooks)), audit_(deps.audit, deps.zones, deps.clock) {}

  grpc::Status CreateEntries(grpc::ServerContext* context,
                             const spinel::v1::CreateEntriesRequest* request,
                             spinel::v1::CreateEntriesResponse* response) override;
  grpc::Status UpdateEntry(grpc::ServerContext* context,
                           const spinel::v1::UpdateEntryRequest* request,
                           spinel::v1::Entry* response) override;
  grpc::Status DeleteEntry(grpc::ServerContext* context, const spinel::v1::EntryIdRequest* request,
                           spinel::v1::Empty* response) override;
  grpc::Status GetEntry(grpc::ServerContext* context, const spinel::v1::EntryIdRequest* request,
                        spinel::v1::Entry* response) override;
  grpc::Status ListEntries(grpc::ServerContext* context,
                           const spinel::v1::ListEntriesRequest* request,
                           spinel::v1::ListEntriesResponse* response) override;
  grpc::Status CountEntries(grpc::ServerContext* context,
                            const spinel::v1::ListEntriesRequest* request,
                            spinel::v1::CountResponse* response) override;

  grpc::Status ListAgents(grpc::ServerContext* context, const spinel::v1::Empty* request,
                          spinel::v1::ListAgentsResponse* response) override;
  grpc::Status GetAgent(grpc::ServerContext* context, const spinel::v1::AgentIdRequest* request,
                        spinel::v1::Agent* response) override;
  grpc::Status EvictAgent(grpc::ServerContext* context, const spinel::v1::AgentIdRequest* request,
                          spinel::v1::Empty* response) override;
  grpc::Status BanAgent(grpc::ServerContext* context, const spinel::v1::AgentIdRequest* request,
                        spinel::v1::Empty* response) override;
  grpc::Status CreateJoinToken(grpc::ServerContext* context,
                               const spinel::v1::CreateJoinTokenRequest* request,
                               spinel::v1::CreateJoinTokenResponse* response) override;

  grpc::Status GetBundle(grpc::ServerContext* context,
                         const spinel::v1::TrustDomainRequest* request,
                         spinel::v1::Bundle* response) override;
  grpc::Status ListBundles(grpc::ServerContext* context, const spinel::v1::Empty* request,
                           spinel::v1::ListBundlesResponse* response) override;

  grpc::Status MintX509Svid(grpc::ServerContext* context,
                            const spinel::v1::MintX509SvidRequest* request,
                            spinel::v1::MintX509SvidResponse* response) override;
  grpc::Status MintJwtSvid(grpc::ServerContext* context,
                           const spinel::v1::AdminMintJwtSvidRequest* request,
                           spinel::v1::AdminMintJwtSvidResponse* response) override;

  grpc::Status GetLocalAuthorities(grpc::ServerContext* context,
                                   const spinel::v1::TrustDomainRequest* request,
                                   spinel::v1::LocalAuthorities* response) override;
  grpc::Status PrepareLocalAuthority(grpc::ServerContext* context,
                                     const spinel::v1::TrustDomainRequest* request,
                                     spinel::v1::LocalAuthorities* response) override;
  grpc::Status ActivateLocalAuthority(grpc::ServerContext* context,
                                      const spinel::v1::TrustDomainRequest* request,
                                      spinel::v1::LocalAuthorities* response) override;

  grpc::Status Health(grpc::ServerContext* context, const spinel::v1::Empty* request,
                      spinel::v1::HealthResponse* response) override;

  grpc::Status ListZones(grpc::ServerContext* context, const spinel::v1::Empty* request,
                         spinel::v1::ListZonesResponse* response) override;
  grpc::Status GetZone(grpc::ServerContext* context, const spinel::v1::ZoneNameRequest* request,
                       spinel::v1::ZoneInfo* response) override;
  grpc::Status ReloadZones(grpc::ServerContext* context, const spinel::v1::Empty* request,
                           spinel::v1::ReloadZonesResponse* response) override;

  grpc::Status ListApprovals(grpc::ServerContext* context,
                             const spinel::v1::ListApprovalsRequest* request,
                             spinel::v1::ListApprovalsResponse* response) override;
  grpc::Status GetApproval(grpc::ServerContext* context,
                           const spinel::v1::ApprovalIdRequest* request,
                           spinel::v1::Approval* response) override;
  grpc::Status ApproveApproval(grpc::ServerContext* context,
                               const spinel::v1::ApprovalDecisionRequest* request,
                               spinel::v1::Approval* response) override;
  grpc::Status DenyApproval(grpc::ServerContext* context,
                            const spinel::v1::ApprovalDecisionRequest* request,
                            spinel::v1::Approval* response) override;

  grpc::Status ListAuditEvents(grpc::ServerContext* context,
                               const spinel::v1::ListAuditEventsRequest* request,
                               spinel::v1::ListAuditEventsResponse* response) override;
  grpc::Status VerifyAudit(grpc::ServerContext* context, const spinel::v1::Empty* request,
                           spinel::v1::VerifyAuditResponse* response) override;

  grpc::Status CreateFederationRelationship(
      grpc::ServerContext* context, const spinel::v1::CreateFederationRelationshipRequest* request,
      spinel::v1::FederationRelationship* response) override;
  grpc::Status UpdateFederationRelationship(grpc::ServerContext* context,
                                            const spinel::v1::FederationRelationship* request,
                                            spinel::v1::FederationRelationship* response) override;
  grpc::Status DeleteFederationRelationship(grpc::ServerContext* context,
                                            const spinel::v1::TrustDomainRequest* request,
                                            spinel::v1::Empty* response) override;
  grpc::Status GetFederationRelationship(grpc::ServerContext* context,
                                         const spinel::v1::TrustDomainRequest* request,
                                         spinel::v1::FederationRelationship* response) override;
  grpc::Status ListFederationRelationships(
      grpc::ServerContext* context, const spinel::v1::Empty* request,
      spinel::v1::ListFederationRelationshipsResponse* response) override;
  grpc::Status RefreshFederatedBundle(grpc::ServerContext* context,
                                      const spinel::v1::TrustDomainRequest* request,
                                      spinel::v1::FederationRelationship* response) override;

 private:
  // Approve (or deny) an approval as the calling operator, with an audit event.
  grpc::Status Decide(grpc::ServerContext* context,
                      const spinel::v1::ApprovalDecisionRequest& request, bool approve,
                      spinel::v1::Approval* response);
  // One entry of CreateEntries: parse (fields named under `field`), then EntryRegistry::Create.
  void CreateOne(const spinel::v1::Entry& proto, const std::string& field,
                 spinel::v1::EntryResult* result);
  absl::StatusOr<EntryFilter> FilterFromRequest(const spinel::v1::ListEntriesRequest& request);
  // The authorities of `trust_domain` (request field "trust_domain") into `response`.
  absl::Status DescribeAuthorities(const common::TrustDomain& trust_domain,
                                   spinel::v1::LocalAuthorities* response) const;
  // `zone` of `set` with its CA state and entry count (admin_service_zones.cc).
  absl::Status DescribeZone(const zones::ZoneSet& set, const zones::Zone& zone,
                            spinel::v1::ZoneInfo* response) const;
  // `ttl_seconds` (request field "ttl_seconds") as the issuer will apply it to `id`:
  // InvalidArgument when negative or above the zone's cap (refused, not silently cut).
  absl::StatusOr<common::Duration> RequestedTtl(const common::SpiffeId& id, bool jwt,
                                                int64_t ttl_seconds) const;

  const AdminDeps deps_;
  const AdminHooks hooks_;
  AuditLog audit_;
};

// --- Request parsing (admin_service.cc); every error is InvalidArgument "<field>: <problem>".

// A required SPIFFE ID.
absl::StatusOr<common::SpiffeId> ParseIdField(std::string_view field, const std::string& value);
// A required bare trust domain name (not a SPIFFE ID).
absl::StatusOr<common::TrustDomain> ParseTrustDomainField(std::string_view field,
                                                          const std::string& value);
// A registration entry from the API, parsed once: IDs, selectors ("<field>.selectors[i]"),
// TTLs and expiry, with errors naming the API field. The rules of entries are not checked
// here (EntryRegistry and the datastore's NormalizeEntry are).
absl::StatusOr<RegistrationEntry> ParseEntryField(std::string_view field,
                                                  const spinel::v1::Entry& proto);

}  // namespace spinel::server
