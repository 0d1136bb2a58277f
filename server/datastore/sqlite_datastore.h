// SqliteDatastore: the embedded Datastore (datastore.h) on one SQLite file.
//
// Durability: the file runs in WAL mode with synchronous=FULL, so every commit is fsynced
// before the method returns OK; an acknowledged write survives kill -9 and power loss. Every
// write is one BEGIN IMMEDIATE transaction: a failed write (read-only file, full disk, I/O
// error) rolls back and leaves the stored data as it was, and reads keep working.
//
// Schema: versioned by PRAGMA user_version and migrated at Open (sqlite_migrations.h). A
// database written by a newer build is refused.
//
// Read-only use: with SqliteOpenOptions::read_only, or when the file exists but cannot be
// written, the datastore opens read-only (is_read_only()): reads work, every write returns
// Unavailable naming the file. SQLite still needs to create the "-shm" and "-wal" files
// beside a WAL database to read it, unless they exist; a directory it cannot write is
// reported at Open.
//
// Threading: one connection, guarded by a mutex; every method holds it for its whole
// transaction, so calls are serialized within the process. Several processes (or several
// SqliteDatastore objects) may open the same file: SQLite's locks serialize their writes and
// busy_timeout_ms bounds the wait, after which the call fails with Unavailable.
//
// The clock (borrowed, must outlive the datastore) supplies created_at/updated_at/used_at
// and "now" for join-token expiry.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "server/datastore/datastore.h"
#include "server/datastore/sqlite_db.h"

namespace spinel::server {

class SqliteDatastore final : public Datastore {
 public:
  // Opens (creating if needed) the database at `path`, or a private in-memory database for
  // ":memory:", and migrates it to the current schema. Errors: FailedPrecondition for a schema
  // newer than this build (or an old one that is read-only), Unavailable when the file cannot
  // be opened or read, DataLoss when it is not a database.
  static absl::StatusOr<std::unique_ptr<SqliteDatastore>> Open(
      const std::string& path, const common::Clock& clock,
      const SqliteOpenOptions& options = SqliteOpenOptions());

  bool is_read_only() const { return read_only_; }
  const std::string& path() const { return path_; }
  // Runs constant SQL returning one integer on this datastore's connection, e.g.
  // "PRAGMA synchronous"; for tests that check connection settings.
  absl::StatusOr<int64_t> QueryIntForTest(std::string_view constant_sql);

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
  SqliteDatastore(SqliteDb db, const common::Clock& clock, bool read_only);

  int64_t NowSeconds() const { return common::ToUnixSeconds(clock_.Now()); }
  // Starts a write transaction; fails fast with Unavailable on a read-only database.
  absl::StatusOr<Transaction> BeginWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the latest change of an object in the change log (inside a write transaction).
  absl::Status RecordChange(ChangeKind kind, std::string_view object_id, bool deleted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::StatusOr<RegistrationEntry> GetEntryLocked(std::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<RegistrationEntry>> QueryEntries(Statement& stmt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteEntry(const RegistrationEntry& entry, bool insert)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AlreadyExists if another entry has the same SPIFFE ID, parent and selectors.
  absl::Status CheckNoIdenticalEntry(const RegistrationEntry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::StatusOr<JoinToken> GetJoinTokenLocked(const std::string& token_hash)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<AttestedAgent> GetAgentLocked(const common::SpiffeId& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<BundleRecord> GetBundleLocked(const common::TrustDomain& td)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::StatusOr<std::optional<FederationRelationship>> FindRelationshipLocked(
      const common::TrustDomain& td) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts or replaces the whole relationship row.
  absl::Status WriteRelationshipLocked(const FederationRelationship& relationship)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Appends one validated event inside the caller's write transaction.
  absl::StatusOr<AuditEvent> AppendAuditEventLocked(const AuditEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::StatusOr<ApprovalRecord> GetApprovalLocked(std::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A pending, unexpired approval bound to `binding`, if any.
  absl::StatusOr<std::optional<ApprovalRecord>> FindLiveApprovalLocked(
      const zones::ApprovalBinding& binding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteApproval(const ApprovalRecord& approval, bool insert)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads approval `id`, applies `transition` to it and stores the result, in one write
  // transaction; a failed transition changes nothing.
  absl::StatusOr<ApprovalRecord> TransitionApproval(
      std::string_view id, const std::function<absl::Status(zones::ApprovalRequest&)>& transition);

  const common::Clock& clock_;
  const std::string path_;
  const bool read_only_;
  absl::Mutex mu_;
  SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spinel::server
