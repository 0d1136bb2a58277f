// SqlStore: the Datastore (datastore.h) written once for every SQL engine, over a SqlDatabase
// (sql_session.h). SqliteDatastore and PostgresDatastore are SqlStores on their engine's
// SqlDatabase; they add only opening (connection, settings, schema) and engine accessors.
//
// Each table's logic lives here once, one file per table group: sql_entries.cc,
// sql_agents.cc (agents and join tokens), sql_bundles.cc (bundles and the replicas' own
// bundles), sql_federation.cc, sql_audit.cc (the hash chain), sql_approvals.cc and
// sql_change_log.cc. So do the rules every engine must apply alike: entries and agents are
// normalized and validated (records.h) before any SQL runs, every write of an entry, agent,
// bundle or federation relationship appends its change event in the same transaction
// (RecordChange) and tells the change listener after the commit, and audit events are chained
// under the write lock.
//
// Every write is one SqlDatabase::Write transaction; every read one SqlDatabase::Read.
// Thread-safe as its SqlDatabase is. The clock (borrowed, must outlive the store) supplies
// created_at/updated_at/used_at and "now" for join-token and approval expiry.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "server/datastore/datastore.h"
#include "server/datastore/sql_session.h"

namespace spinel::server {

class SqlStore : public Datastore {
 public:
  // EntryStore (sql_entries.cc)
  absl::StatusOr<RegistrationEntry> CreateEntry(const RegistrationEntry& entry) override;
  absl::StatusOr<RegistrationEntry> UpdateEntry(const RegistrationEntry& entry) override;
  absl::StatusOr<RegistrationEntry> DeleteEntry(std::string_view id) override;
  absl::StatusOr<RegistrationEntry> GetEntry(std::string_view id) override;
  absl::StatusOr<EntryPage> ListEntries(const EntryFilter& filter,
                                        const PageRequest& page) override;
  absl::StatusOr<int64_t> CountEntries(const EntryFilter& filter) override;
  absl::StatusOr<std::vector<RegistrationEntry>> ListEntriesByParents(
      const std::vector<common::SpiffeId>& parent_ids) override;

  // AgentStore (sql_agents.cc)
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

  // BundleStore (sql_bundles.cc)
  absl::StatusOr<BundleRecord> SetBundle(const BundleRecord& bundle) override;
  absl::StatusOr<BundleRecord> GetBundle(const common::TrustDomain& td) override;
  absl::StatusOr<std::vector<BundleRecord>> ListBundles() override;
  absl::Status DeleteBundle(const common::TrustDomain& td) override;

  // FederationStore (sql_federation.cc)
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

  // AuditStore (sql_audit.cc)
  absl::StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent& event) override;
  absl::StatusOr<std::vector<AuditEvent>> AppendAuditEvents(
      const std::vector<AuditEvent>& events) override;
  absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(const AuditFilter& filter) override;

  // ApprovalStore (sql_approvals.cc)
  absl::StatusOr<CreatedApproval> CreateApproval(const ApprovalRecord& approval) override;
  absl::StatusOr<ApprovalRecord> GetApproval(std::string_view id) override;
  absl::StatusOr<std::vector<ApprovalRecord>> ListApprovals(const ApprovalFilter& filter) override;
  absl::StatusOr<ApprovalRecord> ApproveApproval(std::string_view id, std::string_view approver,
                                                 std::string_view reason) override;
  absl::StatusOr<ApprovalRecord> DenyApproval(std::string_view id, std::string_view approver,
                                              std::string_view reason) override;
  absl::StatusOr<ApprovalRecord> UseApproval(std::string_view id,
                                             const zones::ApprovalBinding& presented) override;

  // ChangeLog (sql_change_log.cc)
  absl::StatusOr<int64_t> CurrentRevision() override;
  absl::StatusOr<std::vector<Change>> ListChanges(int64_t since_revision, int limit) override;
  absl::StatusOr<std::vector<ChangeEvent>> ListChangeEvents(int64_t since_revision,
                                                            int limit) override;
  void SetChangeListener(ChangeListener listener) override;

 protected:
  SqlStore(std::unique_ptr<SqlDatabase> db, const common::Clock& clock)
      : clock_(clock), db_(std::move(db)) {}
  SqlDatabase& database() { return *db_; }

 private:
  // The session of one write transaction, and the change events it appended (told to the
  // change listener once the transaction committed).
  class WriteSession final : public SqlSession {
   public:
    explicit WriteSession(SqlSession& inner) : inner_(inner) {}
    const SqlDialect& dialect() const override { return inner_.dialect(); }
    absl::Status ExecScript(const std::string& sql) override { return inner_.ExecScript(sql); }
    std::vector<ChangeEvent> events;

   private:
    absl::StatusOr<SqlRows> Execute(std::string_view sql, const SqlParams& params) override {
      return inner_.Query(sql, params);
    }
    SqlSession& inner_;
  };

  // Runs `body` (taking a WriteSession&, returning absl::Status or absl::StatusOr<T>) in one
  // write transaction; after it committed, tells the change listener what it appended.
  template <typename Body>
  std::invoke_result_t<Body&, WriteSession&> Write(Body body) {
    std::vector<ChangeEvent> events;
    auto result = WriteSql(*db_, [&](SqlSession& inner) {
      WriteSession session(inner);
      auto out = body(session);
      events = std::move(session.events);
      return out;
    });
    if (result.ok() && !events.empty()) AnnounceCommitted(events);
    return result;
  }
  void AnnounceCommitted(const std::vector<ChangeEvent>& events);

  int64_t NowSeconds() const { return common::ToUnixSeconds(clock_.Now()); }

  // Appends `event` (its revision assigned here) to the change log, announces it on the
  // engine's channel, and prunes superseded history now and then.
  static absl::Status RecordChange(WriteSession& s, ChangeEvent event);
  static absl::Status RecordChange(WriteSession& s, ChangeKind kind, std::string_view object_id,
                                   bool deleted) {
    return RecordChange(
        s, ChangeEvent{.kind = kind, .object_id = std::string(object_id), .deleted = deleted});
  }

  static absl::StatusOr<RegistrationEntry> GetEntryOn(SqlSession& s, std::string_view id);
  // AlreadyExists if another entry has the same SPIFFE ID, parent and selectors.
  static absl::Status CheckNoIdenticalEntry(SqlSession& s, const RegistrationEntry& entry);
  // Inserts or updates `entry`; `previous_parent` is the stored entry's parent on update.
  static absl::Status WriteEntry(WriteSession& s, const RegistrationEntry& entry,
                                 const common::SpiffeId* previous_parent);
  static absl::StatusOr<std::vector<RegistrationEntry>> QueryEntries(SqlSession& s,
                                                                     std::string_view sql,
                                                                     const SqlParams& params);

  static absl::StatusOr<AttestedAgent> GetAgentOn(SqlSession& s, const common::SpiffeId& id);
  static absl::StatusOr<JoinToken> GetJoinTokenOn(SqlSession& s, const std::string& hash);
  static absl::StatusOr<BundleRecord> GetBundleOn(SqlSession& s, const common::TrustDomain& td);
  static absl::Status WriteBundle(WriteSession& s, const BundleRecord& bundle);

  static absl::StatusOr<std::optional<FederationRelationship>> FindRelationshipOn(
      SqlSession& s, const common::TrustDomain& td);
  // Inserts or replaces the whole relationship row.
  static absl::Status WriteRelationship(SqlSession& s, const FederationRelationship& r);

  // Appends one validated event inside the caller's write transaction.
  absl::StatusOr<AuditEvent> AppendAuditEventOn(SqlSession& s, const AuditEvent& event);

  static absl::StatusOr<ApprovalRecord> GetApprovalOn(SqlSession& s, std::string_view id);
  // A pending, unexpired approval bound to `binding`, if any.
  absl::StatusOr<std::optional<ApprovalRecord>> FindLiveApprovalOn(
      SqlSession& s, const zones::ApprovalBinding& binding);
  static absl::Status WriteApproval(SqlSession& s, const ApprovalRecord& approval, bool insert);
  // Reads approval `id`, applies `transition` to it and stores the result, in one write
  // transaction; a failed transition changes nothing.
  absl::StatusOr<ApprovalRecord> TransitionApproval(
      std::string_view id, const std::function<absl::Status(zones::ApprovalRequest&)>& transition);

  const common::Clock& clock_;
  const std::unique_ptr<SqlDatabase> db_;
  common::Mutex listener_mu_;
  ChangeListener listener_ ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace spinel::server
