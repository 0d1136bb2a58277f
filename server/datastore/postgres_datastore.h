// PostgresDatastore: the Datastore (datastore.h) on a PostgreSQL database, shared by several
// spinel-server replicas.
//
// Connection: a libpq connection string or URI (postgres://user@host:port/db?sslmode=...);
// messages name the database as PgLocation (user@host:port/db), never the password. An
// unreachable or restarting server makes every call fail with Unavailable; the next call
// reconnects. Durability is PostgreSQL's: a write returns OK once its COMMIT did.
//
// Consistency: every write is one transaction that first takes a transaction-level advisory
// lock (kPgWriteLockKey), so writes are serialized across all replicas exactly as SQLite's
// write lock serializes them across processes: the same checks (identical entries, single-use
// join tokens, approval transitions, the audit hash chain, bundle sequences) hold against
// concurrent replicas, and change revisions commit in increasing order. Reads are single
// statements and never wait for writers.
//
// Change push: every write that records a change also sends NOTIFY on kPgChangeChannel
// (delivered at commit), so other replicas can LISTEN (PgChangeListener) instead of polling.
//
// Schema: versioned and migrated at Open (postgres_migrations.h). Tables live in the
// connection's search_path (e.g. `options=-csearch_path=spinel`), so one database can hold
// several independent datastores in separate schemas.
//
// Threading: thread-safe; a pool of connections (each call holds one for its transaction).
// The clock (borrowed, must outlive the datastore) supplies created_at/updated_at/used_at
// and "now" for join-token and approval expiry.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/datastore/datastore.h"
#include "server/datastore/postgres_conn.h"

namespace spinel::server {

// The NOTIFY channel of datastore changes; the payload is the new revision.
inline constexpr char kPgChangeChannel[] = "spinel_changes";

class PostgresDatastore final : public Datastore {
 public:
  // Connects to `conninfo` and migrates the schema. Errors: InvalidArgument for a connection
  // string libpq cannot parse, Unavailable when the server cannot be reached or refuses the
  // login, FailedPrecondition for a schema newer than this build.
  static absl::StatusOr<std::unique_ptr<PostgresDatastore>> Open(const std::string& conninfo,
                                                                 const common::Clock& clock);

  // user@host:port/db, for messages.
  const std::string& location() const { return pool_.location(); }
  const std::string& conninfo() const { return pool_.conninfo(); }

  absl::StatusOr<RegistrationEntry> CreateEntry(const RegistrationEntry& entry) override;
  absl::StatusOr<RegistrationEntry> UpdateEntry(const RegistrationEntry& entry) override;
  absl::StatusOr<RegistrationEntry> DeleteEntry(std::string_view id) override;
  absl::StatusOr<RegistrationEntry> GetEntry(std::string_view id) override;
  absl::StatusOr<EntryPage> ListEntries(const EntryFilter& filter,
                                        const PageRequest& page) override;
  absl::StatusOr<int64_t> CountEntries(const EntryFilter& filter) override;
  absl::StatusOr<std::vector<RegistrationEntry>> ListEntriesByParents(
      const std::vector<common::SpiffeId>& parent_ids) override;

  absl::StatusOr<JoinToken> CreateJoinToken(std::string_view token,
                                            const common::SpiffeId& agent_id,
                                            int64_t expires_at) override;
  absl::StatusOr<JoinToken> ConsumeJoinToken(std::string_view token) override;
  absl::StatusOr<int64_t> PruneJoinTokens(int64_t expired_before) override;

  absl::StatusOr<AttestedAgent> CreateAttestedAgent(const AttestedAgent& agent) override;
  absl::StatusOr<AttestedAgent> UpdateAttestedAgent(const AttestedAgent& agent) override;
  absl::StatusOr<AttestedAgent> GetAttestedAgent(const common::SpiffeId& id) override;
  absl::StatusOr<std::vector<AttestedAgent>> ListAttestedAgents(const AgentFilter& filter) override;
  absl::Status DeleteAttestedAgent(const common::SpiffeId& id) override;
  absl::StatusOr<AttestedAgent> SetAgentBanned(const common::SpiffeId& id, bool banned) override;

  absl::StatusOr<BundleRecord> SetBundle(const BundleRecord& bundle) override;
  absl::StatusOr<BundleRecord> GetBundle(const common::TrustDomain& td) override;
  absl::StatusOr<std::vector<BundleRecord>> ListBundles() override;
  absl::Status DeleteBundle(const common::TrustDomain& td) override;

  absl::StatusOr<FederationRelationship> CreateFederationRelationship(
      const FederationRelationship& relationship,
      const std::optional<BundleRecord>& initial_bundle) override;
  absl::StatusOr<FederationRelationship> UpdateFederationRelationship(
      const FederationRelationship& relationship) override;
  absl::Status DeleteFederationRelationship(const common::TrustDomain& td) override;
  absl::StatusOr<FederationRelationship> GetFederationRelationship(
      const common::TrustDomain& td) override;
  absl::StatusOr<std::vector<FederationRelationship>> ListFederationRelationships() override;
  absl::StatusOr<FederationRelationship> RecordFederationRefresh(
      const common::TrustDomain& td, const FederationRefreshState& state) override;

  absl::StatusOr<ServerBundleRecord> PublishServerBundle(const ServerBundleRecord& record) override;
  absl::StatusOr<std::vector<ServerBundleRecord>> ListServerBundles() override;
  absl::StatusOr<int64_t> DeleteServerBundles(std::string_view server_id) override;

  absl::StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent& event) override;
  absl::StatusOr<std::vector<AuditEvent>> AppendAuditEvents(
      const std::vector<AuditEvent>& events) override;
  absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(const AuditFilter& filter) override;

  absl::StatusOr<CreatedApproval> CreateApproval(const ApprovalRecord& approval) override;
  absl::StatusOr<ApprovalRecord> GetApproval(std::string_view id) override;
  absl::StatusOr<std::vector<ApprovalRecord>> ListApprovals(const ApprovalFilter& filter) override;
  absl::StatusOr<ApprovalRecord> ApproveApproval(std::string_view id, std::string_view approver,
                                                 std::string_view reason) override;
  absl::StatusOr<ApprovalRecord> DenyApproval(std::string_view id, std::string_view approver,
                                              std::string_view reason) override;
  absl::StatusOr<ApprovalRecord> UseApproval(std::string_view id,
                                             const zones::ApprovalBinding& presented) override;

  absl::StatusOr<int64_t> CurrentRevision() override;
  absl::StatusOr<std::vector<Change>> ListChanges(int64_t since_revision, int limit) override;

 private:
  PostgresDatastore(std::string conninfo, std::string location, const common::Clock& clock);

  // A connection inside a write transaction holding the write lock; committed by the caller
  // with txn.Commit(), rolled back when dropped.
  struct WriteTxn {
    PgPool::Lease conn;
    std::optional<PgTransaction> txn;
    PgConnection& operator*() { return *conn; }
    PgConnection* operator->() { return &*conn; }
    absl::Status Commit() { return txn->Commit(); }
  };

  int64_t NowSeconds() const { return common::ToUnixSeconds(clock_.Now()); }
  absl::StatusOr<WriteTxn> BeginWrite();
  // Records the latest change of an object in the change log and notifies listeners (inside
  // a write transaction).
  static absl::Status RecordChange(PgConnection& conn, ChangeKind kind,
                                   std::string_view object_id, bool deleted);

  static absl::StatusOr<RegistrationEntry> GetEntryOn(PgConnection& conn, std::string_view id);
  static absl::Status CheckNoIdenticalEntry(PgConnection& conn, const RegistrationEntry& entry);
  static absl::Status WriteEntry(PgConnection& conn, const RegistrationEntry& entry, bool insert);
  static absl::StatusOr<AttestedAgent> GetAgentOn(PgConnection& conn, const common::SpiffeId& id);
  static absl::StatusOr<JoinToken> GetJoinTokenOn(PgConnection& conn, const std::string& hash);
  static absl::StatusOr<BundleRecord> GetBundleOn(PgConnection& conn,
                                                  const common::TrustDomain& td);
  absl::StatusOr<AuditEvent> AppendAuditEventOn(PgConnection& conn, const AuditEvent& event);

  static absl::StatusOr<ApprovalRecord> GetApprovalOn(PgConnection& conn, std::string_view id);
  absl::StatusOr<std::optional<ApprovalRecord>> FindLiveApprovalOn(
      PgConnection& conn, const zones::ApprovalBinding& binding);
  static absl::Status WriteApproval(PgConnection& conn, const ApprovalRecord& approval,
                                    bool insert);
  absl::StatusOr<ApprovalRecord> TransitionApproval(
      std::string_view id, const std::function<absl::Status(zones::ApprovalRequest&)>& transition);

  const common::Clock& clock_;
  PgPool pool_;
};

}  // namespace spinel::server
