// Test fixture that builds every part of a running spinel-server from real components, the way
// the composition root does (tests/server/service_deps.h builds each service's dependencies
// from them):
//   - SqliteDatastore on ":memory:";
//   - the shipped zones ($SPINEL_SOURCE_DIR/trust-zones/zones, set by ctest; else found
//     relative to this file), or a zone directory of the test's choice, loaded as the server
//     does (ReadZoneGeneration: the set and its sources);
//   - CaManager with the control trust domain and every zone, keys in a temp directory;
//   - EntryRegistry, Issuer, AgentView, SyncHub, Metrics and OwnBundles (without a
//     BundleMerger: the own bundles are the local snapshots);
//   - a ChangeFeed on the datastore with the sync wake-up subscribed (WakeSyncOnChanges), as
//     server.cc wires it: committed changes wake the hub's streams, and nothing else does.
// The clock is a FakeClock that starts at the current wall-clock second, so certificates the
// fixture's CAs sign are also valid for real TLS peers, yet tests can still move time.
//
// Also UnavailableDatastore: a Datastore whose every call fails with Unavailable (to test how
// callers cope with a datastore that does not answer).
//
// Use inside a doctest test case (set-up failures are REQUIREd). Not thread-safe to build;
// the components themselves are.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/api/agent/node_attestation.h"
#include "server/bundles/own_bundle.h"
#include "server/ca/ca_manager.h"
#include "server/config.h"
#include "server/datastore/change_feed.h"
#include "server/datastore/datastore.h"
#include "server/datastore/sqlite_datastore.h"
#include "server/entries/registry.h"
#include "server/issuance/issuer.h"
#include "server/metrics/metrics.h"
#include "server/sync/agent_sync.h"
#include "server/sync/change_wakeup.h"
#include "server/zones/trusted_issuer_keys.h"
#include "server/zones/zone_reload.h"
#include "server/zones/zone_state.h"
#include "tests/fakes/fake_clock.h"
#include "trust-zones/zone_loader.h"

namespace spinel::server::testing {

// The shipped default zones.
inline std::string ShippedZonesDir() {
  if (const char* root = std::getenv("SPINEL_SOURCE_DIR"); root != nullptr && *root != '\0') {
    return std::string(root) + "/trust-zones/zones";
  }
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
          "trust-zones" / "zones")
      .string();
}

// The current wall-clock time, truncated to whole seconds.
inline common::TimePoint WallClockSecond() {
  return common::FromUnixSeconds(common::ToUnixSeconds(std::chrono::system_clock::now()));
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDirectory {
 public:
  TempDirectory() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/spinel-srv-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServerFixtureOptions {
  std::string control_trust_domain = "spinel.ai.example.org";
  std::string zones_dir = ShippedZonesDir();
  std::chrono::seconds control_ca_ttl{24 * 3600};
  std::chrono::seconds approval_ttl = ServerConfig{}.approval_ttl;
};

class ServerFixture {
 public:
  explicit ServerFixture(const ServerFixtureOptions& options = {})
      : dir(temp_dir.path()), clock(WallClockSecond()) {
    absl::StatusOr<common::TrustDomain> control =
        common::TrustDomain::Parse(options.control_trust_domain);
    REQUIRE(control.ok());
    config.trust_domain = *control;
    config.data_dir = dir;
    config.zones_dir = options.zones_dir;
    config.https_address = "127.0.0.1:0";
    config.datastore = "sqlite::memory:";
    config.ca_ttl = options.control_ca_ttl;
    config.approval_ttl = options.approval_ttl;

    auto opened = SqliteDatastore::Open(":memory:", clock);
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    datastore = std::move(*opened);
    absl::StatusOr<ZoneGeneration> generation = ReadZoneGeneration(options.zones_dir);
    REQUIRE_MESSAGE(generation.ok(), generation.status().ToString());
    std::vector<TrustDomainCaConfig> cas_config = CaConfigs(config, generation->set);
    zones = std::make_unique<ZoneState>(*std::move(generation));
    auto cas_opened = CaManager::Open(cas_config, dir + "/keys", clock);
    REQUIRE_MESSAGE(cas_opened.ok(), cas_opened.status().ToString());
    cas = std::move(*cas_opened);
    registry = std::make_unique<EntryRegistry>(*datastore, *zones, config.trust_domain);
    issuer = std::make_unique<Issuer>(*cas, *zones, config.trust_domain, clock);
    view = std::make_unique<AgentView>(*datastore, *zones, *cas, config.trust_domain, clock);
    hub = std::make_unique<SyncHub>();
    own_bundles = std::make_unique<OwnBundles>(*cas, nullptr);
    auto started = ChangeFeed::Start(*datastore, ChangeFeedOptions{});
    REQUIRE_MESSAGE(started.ok(), started.status().ToString());
    feed = std::move(*started);
    WakeSyncOnChanges(*feed, *hub, server_id());
  }

  ServerFixture(const ServerFixture&) = delete;
  ServerFixture& operator=(const ServerFixture&) = delete;

  // spiffe://<control>/spinel/server
  common::SpiffeId server_id() const { return ServerId(config.trust_domain); }
  // The zone `name` of the current zone set (REQUIREd to exist).
  const zones::Zone& zone(const std::string& name) const {
    const zones::Zone* found = zones->Get()->Find(name);
    REQUIRE(found != nullptr);
    return *found;
  }

  TempDirectory temp_dir;  // first member: removed after every component is gone
  std::string dir;         // its path (config.data_dir)
  spinel::testing::FakeClock clock;
  ServerConfig config;
  std::unique_ptr<SqliteDatastore> datastore;
  std::unique_ptr<ZoneState> zones;
  std::unique_ptr<CaManager> cas;
  std::unique_ptr<EntryRegistry> registry;
  std::unique_ptr<Issuer> issuer;
  std::unique_ptr<AgentView> view;
  std::unique_ptr<SyncHub> hub;
  Metrics metrics;
  std::unique_ptr<OwnBundles> own_bundles;
  TrustedIssuerKeyring issuer_keys;  // the zones' trusted user issuers (token exchange)
  std::unique_ptr<ChangeFeed> feed;  // after what its subscribers use: stopped first
};

// Every call fails with Unavailable.
class UnavailableDatastore final : public Datastore {
 public:
  template <typename T>
  static absl::StatusOr<T> Fail() {
    return absl::UnavailableError("datastore unavailable (test)");
  }

  absl::StatusOr<RegistrationEntry> CreateEntry(const RegistrationEntry&) override {
    return Fail<RegistrationEntry>();
  }
  absl::StatusOr<RegistrationEntry> UpdateEntry(const RegistrationEntry&) override {
    return Fail<RegistrationEntry>();
  }
  absl::StatusOr<RegistrationEntry> DeleteEntry(std::string_view) override {
    return Fail<RegistrationEntry>();
  }
  absl::StatusOr<RegistrationEntry> GetEntry(std::string_view) override {
    return Fail<RegistrationEntry>();
  }
  absl::StatusOr<EntryPage> ListEntries(const EntryFilter&, const PageRequest&) override {
    return Fail<EntryPage>();
  }
  absl::StatusOr<int64_t> CountEntries(const EntryFilter&) override { return Fail<int64_t>(); }
  absl::StatusOr<std::vector<RegistrationEntry>> ListEntriesByParents(
      const std::vector<common::SpiffeId>&) override {
    return Fail<std::vector<RegistrationEntry>>();
  }
  absl::StatusOr<JoinToken> CreateJoinToken(std::string_view, const common::SpiffeId&,
                                            int64_t) override {
    return Fail<JoinToken>();
  }
  absl::StatusOr<JoinToken> ConsumeJoinToken(std::string_view) override {
    return Fail<JoinToken>();
  }
  absl::StatusOr<int64_t> PruneJoinTokens(int64_t) override { return Fail<int64_t>(); }
  absl::StatusOr<AttestedAgent> CreateAttestedAgent(const AttestedAgent&) override {
    return Fail<AttestedAgent>();
  }
  absl::StatusOr<AttestedAgent> UpdateAttestedAgent(const AttestedAgent&) override {
    return Fail<AttestedAgent>();
  }
  absl::StatusOr<AttestedAgent> GetAttestedAgent(const common::SpiffeId&) override {
    return Fail<AttestedAgent>();
  }
  absl::StatusOr<std::vector<AttestedAgent>> ListAttestedAgents(const AgentFilter&) override {
    return Fail<std::vector<AttestedAgent>>();
  }
  absl::Status DeleteAttestedAgent(const common::SpiffeId&) override {
    return Fail<int>().status();
  }
  absl::StatusOr<AttestedAgent> SetAgentBanned(const common::SpiffeId&, bool) override {
    return Fail<AttestedAgent>();
  }
  absl::StatusOr<BundleRecord> SetBundle(const BundleRecord&) override {
    return Fail<BundleRecord>();
  }
  absl::StatusOr<BundleRecord> GetBundle(const common::TrustDomain&) override {
    return Fail<BundleRecord>();
  }
  absl::StatusOr<std::vector<BundleRecord>> ListBundles() override {
    return Fail<std::vector<BundleRecord>>();
  }
  absl::Status DeleteBundle(const common::TrustDomain&) override { return Fail<int>().status(); }
  absl::StatusOr<FederationRelationship> CreateFederationRelationship(
      const FederationRelationship&, const std::optional<BundleRecord>&) override {
    return Fail<FederationRelationship>();
  }
  absl::StatusOr<FederationRelationship> UpdateFederationRelationship(
      const FederationRelationship&) override {
    return Fail<FederationRelationship>();
  }
  absl::Status DeleteFederationRelationship(const common::TrustDomain&) override {
    return Fail<int>().status();
  }
  absl::StatusOr<FederationRelationship> GetFederationRelationship(
      const common::TrustDomain&) override {
    return Fail<FederationRelationship>();
  }
  absl::StatusOr<std::vector<FederationRelationship>> ListFederationRelationships() override {
    return Fail<std::vector<FederationRelationship>>();
  }
  absl::StatusOr<FederationRelationship> RecordFederationRefresh(
      const common::TrustDomain&, const FederationRefreshState&) override {
    return Fail<FederationRelationship>();
  }
  absl::StatusOr<ServerBundleRecord> PublishServerBundle(const ServerBundleRecord&) override {
    return Fail<ServerBundleRecord>();
  }
  absl::StatusOr<std::vector<ServerBundleRecord>> ListServerBundles() override {
    return Fail<std::vector<ServerBundleRecord>>();
  }
  absl::StatusOr<int64_t> DeleteServerBundles(std::string_view) override { return Fail<int64_t>(); }
  absl::StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent&) override {
    return Fail<AuditEvent>();
  }
  absl::StatusOr<std::vector<AuditEvent>> AppendAuditEvents(
      const std::vector<AuditEvent>&) override {
    return Fail<std::vector<AuditEvent>>();
  }
  absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(const AuditFilter&) override {
    return Fail<std::vector<AuditEvent>>();
  }
  absl::StatusOr<CreatedApproval> CreateApproval(const ApprovalRecord&) override {
    return Fail<CreatedApproval>();
  }
  absl::StatusOr<ApprovalRecord> GetApproval(std::string_view) override {
    return Fail<ApprovalRecord>();
  }
  absl::StatusOr<std::vector<ApprovalRecord>> ListApprovals(const ApprovalFilter&) override {
    return Fail<std::vector<ApprovalRecord>>();
  }
  absl::StatusOr<ApprovalRecord> ApproveApproval(std::string_view, std::string_view,
                                                 std::string_view) override {
    return Fail<ApprovalRecord>();
  }
  absl::StatusOr<ApprovalRecord> DenyApproval(std::string_view, std::string_view,
                                              std::string_view) override {
    return Fail<ApprovalRecord>();
  }
  absl::StatusOr<ApprovalRecord> UseApproval(std::string_view,
                                             const zones::ApprovalBinding&) override {
    return Fail<ApprovalRecord>();
  }
  absl::StatusOr<int64_t> CurrentRevision() override { return Fail<int64_t>(); }
  absl::StatusOr<std::vector<Change>> ListChanges(int64_t, int) override {
    return Fail<std::vector<Change>>();
  }
  absl::StatusOr<std::vector<ChangeEvent>> ListChangeEvents(int64_t, int) override {
    return Fail<std::vector<ChangeEvent>>();
  }
  void SetChangeListener(ChangeListener) override {}  // it never commits anything
};

}  // namespace spinel::server::testing
