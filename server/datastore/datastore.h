// Datastore: everything spinel-server persists, behind one interface with an embedded SQLite
// implementation (sqlite_datastore.h) and, later, a PostgreSQL one for several replicas.
//
// Contract for every implementation:
// - Thread-safe: any method may be called from any thread at any time.
// - Durable: a write that returned OK survives a crash (kill -9, power loss as far as the
//   engine's fsync allows). A write that failed changed nothing.
// - Atomic: each method is one transaction; no other caller observes half of it.
// - Errors are values, with these codes (the message always names the object, e.g.
//   `entry "abc" not found`):
//     InvalidArgument     a malformed record (missing SPIFFE ID, no selectors, bad TTL, ...)
//     NotFound            the object does not exist
//     AlreadyExists       an object with the same key (or an identical entry) exists
//     FailedPrecondition  the object is in the wrong state (join token used or expired,
//                         bundle sequence going backwards)
//     Aborted             optimistic concurrency: the entry changed since it was read
//     Unavailable         the storage cannot be written (read-only, disk full, I/O error,
//                         locked too long); the message carries the engine's message and the
//                         database location. Reads keep working when only writes fail.
//     DataLoss            a stored row cannot be decoded, or the database is corrupt
//     Internal            anything else from the engine
// - No default arguments (virtual functions); pass {} for "no filter".
// - Timestamps set by the datastore (created_at, updated_at, used_at) come from the clock
//   the implementation was given; all times are Unix seconds.
//
// Later additions follow the same pattern: records in types.h, a block of methods here, a
// schema migration per implementation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

// How far (in revisions) ListChangeEvents keeps history that later events superseded.
inline constexpr int64_t kChangeEventRetention = 10'000;

class Datastore {
 public:
  virtual ~Datastore() = default;

  // --- Registration entries ---------------------------------------------------------------
  // Creates `entry`; an empty id gets a fresh random UUID. Returns the stored entry (id,
  // zone, normalized selectors, revision 0, created_at = updated_at = now). AlreadyExists if
  // the id is taken or an entry with the same SPIFFE ID, parent and selectors exists.
  virtual absl::StatusOr<RegistrationEntry> CreateEntry(const RegistrationEntry& entry) = 0;
  // Replaces every field of the entry `entry.id` except created_at. `entry.revision_number`
  // must be the stored revision (the one the caller read), else Aborted; the stored entry
  // gets revision + 1 and updated_at = now, and is returned.
  virtual absl::StatusOr<RegistrationEntry> UpdateEntry(const RegistrationEntry& entry) = 0;
  // Deletes and returns the entry.
  virtual absl::StatusOr<RegistrationEntry> DeleteEntry(std::string_view id) = 0;
  virtual absl::StatusOr<RegistrationEntry> GetEntry(std::string_view id) = 0;
  virtual absl::StatusOr<EntryPage> ListEntries(const EntryFilter& filter,
                                                const PageRequest& page) = 0;
  virtual absl::StatusOr<int64_t> CountEntries(const EntryFilter& filter) = 0;
  // Every entry whose parent is one of `parent_ids` (an agent's ID and the node-alias IDs it
  // matches), in id order: what an agent is served.
  virtual absl::StatusOr<std::vector<RegistrationEntry>> ListEntriesByParents(
      const std::vector<common::SpiffeId>& parent_ids) = 0;

  // --- Join tokens ------------------------------------------------------------------------
  // Stores the SHA-256 of `token` (never the token) bound to `agent_id`. AlreadyExists if the
  // same token was stored before; InvalidArgument for an empty token or agent ID.
  virtual absl::StatusOr<JoinToken> CreateJoinToken(std::string_view token,
                                                    const common::SpiffeId& agent_id,
                                                    int64_t expires_at) = 0;
  // Atomically marks the token used (used_at = now) and returns it. Exactly one of any number
  // of concurrent calls with the same token succeeds. NotFound if unknown, FailedPrecondition
  // if already used or expired (expires_at <= now). Messages never contain the token.
  virtual absl::StatusOr<JoinToken> ConsumeJoinToken(std::string_view token) = 0;
  // Deletes tokens (used or not) with expires_at < `expired_before`; returns how many.
  virtual absl::StatusOr<int64_t> PruneJoinTokens(int64_t expired_before) = 0;

  // --- Attested agents --------------------------------------------------------------------
  // Stores a newly attested agent (banned = false). AlreadyExists if the ID is stored.
  virtual absl::StatusOr<AttestedAgent> CreateAttestedAgent(const AttestedAgent& agent) = 0;
  // Replaces attestation type, serial, SVID expiry and selectors (re-attestation, renewal);
  // keeps created_at and the banned flag. NotFound if the agent is not stored.
  virtual absl::StatusOr<AttestedAgent> UpdateAttestedAgent(const AttestedAgent& agent) = 0;
  virtual absl::StatusOr<AttestedAgent> GetAttestedAgent(const common::SpiffeId& id) = 0;
  // In SPIFFE ID order.
  virtual absl::StatusOr<std::vector<AttestedAgent>> ListAttestedAgents(
      const AgentFilter& filter) = 0;
  // Evicts the agent: the record is deleted and the agent must attest again.
  virtual absl::Status DeleteAttestedAgent(const common::SpiffeId& id) = 0;
  virtual absl::StatusOr<AttestedAgent> SetAgentBanned(const common::SpiffeId& id, bool banned) = 0;

  // --- Bundles ----------------------------------------------------------------------------
  // Creates or replaces the bundle of `bundle.trust_domain`. FailedPrecondition if the stored
  // sequence is higher than `bundle.sequence` (a stale writer must not roll a bundle back);
  // InvalidArgument if bundle_json is not a JSON object.
  virtual absl::StatusOr<BundleRecord> SetBundle(const BundleRecord& bundle) = 0;
  virtual absl::StatusOr<BundleRecord> GetBundle(const common::TrustDomain& td) = 0;
  // In trust-domain order.
  virtual absl::StatusOr<std::vector<BundleRecord>> ListBundles() = 0;
  virtual absl::Status DeleteBundle(const common::TrustDomain& td) = 0;

  // --- Federation relationships -----------------------------------------------------------
  // Stores `relationship` (created_at = updated_at = now, refresh state empty) and, when given,
  // `initial_bundle` (which must be of the same trust domain) as the trust domain's bundle, in
  // one transaction. AlreadyExists if a relationship for the trust domain exists;
  // InvalidArgument for a URL that is not https://host..., a profile other than "https_web" /
  // "https_spiffe", https_spiffe without endpoint_spiffe_id, https_web with one, or an initial
  // bundle of another trust domain or not a JSON object.
  virtual absl::StatusOr<FederationRelationship> CreateFederationRelationship(
      const FederationRelationship& relationship,
      const std::optional<BundleRecord>& initial_bundle) = 0;
  // Replaces URL, profile, endpoint SPIFFE ID and web CAs (validated as on create); keeps
  // created_at and the refresh state, except that next_refresh_at becomes 0 (refresh soon).
  // NotFound if there is no relationship for the trust domain.
  virtual absl::StatusOr<FederationRelationship> UpdateFederationRelationship(
      const FederationRelationship& relationship) = 0;
  // Deletes the relationship and the stored bundle of its trust domain (a bundle change, so
  // agents stop being served it), in one transaction. NotFound if there is none.
  virtual absl::Status DeleteFederationRelationship(const common::TrustDomain& td) = 0;
  virtual absl::StatusOr<FederationRelationship> GetFederationRelationship(
      const common::TrustDomain& td) = 0;
  // In trust-domain order.
  virtual absl::StatusOr<std::vector<FederationRelationship>> ListFederationRelationships() = 0;
  // Replaces only the refresh state. NotFound if the relationship was deleted meanwhile (a
  // refresh racing a delete must not bring it back).
  virtual absl::StatusOr<FederationRelationship> RecordFederationRefresh(
      const common::TrustDomain& td, const FederationRefreshState& state) = 0;

  // --- Server replicas' own bundles -------------------------------------------------------
  // Creates or replaces the bundle `record.server_id` publishes for `record.trust_domain`
  // (updated_at = now) and records a bundle change of that trust domain, so other replicas
  // (PgChangeListener) and their agents see it. FailedPrecondition if the stored sequence of
  // that (server_id, trust_domain) is higher; InvalidArgument for an empty server_id or a
  // bundle_json that is not a JSON object.
  virtual absl::StatusOr<ServerBundleRecord> PublishServerBundle(
      const ServerBundleRecord& record) = 0;
  // Every replica's published bundles, ordered by trust domain, then server_id.
  virtual absl::StatusOr<std::vector<ServerBundleRecord>> ListServerBundles() = 0;
  // Removes what `server_id` published (a decommissioned replica); records a bundle change
  // for each trust domain it had. Returns how many records were removed.
  virtual absl::StatusOr<int64_t> DeleteServerBundles(std::string_view server_id) = 0;

  // --- Audit log --------------------------------------------------------------------------
  // Appends `event`: its sequence, prev_hash and hash are ignored and assigned (the next
  // sequence number, linked after the last event with zones::ChainAfter); its time is kept at
  // millisecond precision, and the epoch (TimePoint{}) becomes now. Returns the stored event.
  // Appends are serialized, so the chain never forks; zones::VerifyChain accepts a complete
  // unfiltered listing.
  virtual absl::StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent& event) = 0;
  // Appends `events` in order, in one transaction (all or none), as AppendAuditEvent does
  // for each. Returns the stored events. An empty batch stores nothing.
  virtual absl::StatusOr<std::vector<AuditEvent>> AppendAuditEvents(
      const std::vector<AuditEvent>& events) = 0;
  virtual absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(const AuditFilter& filter) = 0;

  // --- Step-up approvals ------------------------------------------------------------------
  // Each transition is one read-modify-write transaction that applies the
  // zones::ApprovalRequest method with the datastore's clock, so concurrent calls on one
  // approval are serialized: of any number of concurrent UseApproval calls at most one
  // succeeds. A refused transition changes nothing and returns the state machine's error
  // (FailedPrecondition for Approve/Deny in the wrong state or after expiry, PermissionDenied
  // for every refused Use, InvalidArgument for an empty approver or deny reason); an unknown
  // id is NotFound `approval "<id>" not found`.
  //
  // Stores `approval` (request.id set by the caller, e.g. zones::NewApprovalId(); state
  // pending). If a pending, unexpired approval with the same binding (subject, resource,
  // action, context digest) exists, it is returned instead with created = false. AlreadyExists
  // if the id is taken; InvalidArgument for an empty id or a context whose digest is not the
  // binding's.
  virtual absl::StatusOr<CreatedApproval> CreateApproval(const ApprovalRecord& approval) = 0;
  virtual absl::StatusOr<ApprovalRecord> GetApproval(std::string_view id) = 0;
  // Newest first (created_at descending, then id).
  virtual absl::StatusOr<std::vector<ApprovalRecord>> ListApprovals(
      const ApprovalFilter& filter) = 0;
  virtual absl::StatusOr<ApprovalRecord> ApproveApproval(std::string_view id,
                                                         std::string_view approver,
                                                         std::string_view reason) = 0;
  virtual absl::StatusOr<ApprovalRecord> DenyApproval(std::string_view id,
                                                      std::string_view approver,
                                                      std::string_view reason) = 0;
  virtual absl::StatusOr<ApprovalRecord> UseApproval(std::string_view id,
                                                     const zones::ApprovalBinding& presented) = 0;

  // --- Changes ----------------------------------------------------------------------------
  // Every committed write of an entry, agent, bundle (own, federated or a replica's published
  // one) or federation relationship appends a ChangeEvent, in the same transaction, with the
  // next revision of the datastore-wide change counter: revisions commit in increasing order,
  // one after the other without gaps, and a write that fails or rolls back appends nothing.
  // Writes of join tokens, approvals, the audit log and federation refresh state append none.
  //
  // The datastore-wide change counter: the revision of the latest change (0 when nothing was
  // ever written). Never decreases.
  virtual absl::StatusOr<int64_t> CurrentRevision() = 0;
  // The latest change of every entry, agent and bundle changed after `since_revision`, in
  // revision order; at most `limit` of them (0: all). A caller that remembers the last revision
  // it saw gets every later change, deletions included.
  virtual absl::StatusOr<std::vector<Change>> ListChanges(int64_t since_revision, int limit) = 0;
  // Every change event after `since_revision`, in revision order; at most `limit` (0: all).
  // Events superseded by a later event of the same object and more than kChangeEventRetention
  // revisions old are pruned: a reader that fell that far behind sees a gap in the revisions
  // (and must assume anything changed).
  virtual absl::StatusOr<std::vector<ChangeEvent>> ListChangeEvents(int64_t since_revision,
                                                                    int limit) = 0;
  // Calls `listener` after every commit of this datastore object that appended change events,
  // on the committing thread, with those events in revision order (concurrent commits may call
  // it concurrently and out of order). It must not block. Replaces any earlier listener; an
  // empty function removes it.
  using ChangeListener = std::function<void(const std::vector<ChangeEvent>&)>;
  virtual void SetChangeListener(ChangeListener listener) = 0;
};

}  // namespace spinel::server
