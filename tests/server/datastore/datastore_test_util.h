// Helpers for the datastore tests: temp directories, record builders, and the backends the
// contract tests (datastore_*_test.cc) run against. A new Datastore implementation joins the
// contract tests by adding a backend type to SPINEL_DATASTORE_BACKENDS.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/selector.h"
#include "common/spiffe_id.h"
#include "server/datastore/datastore.h"
#include "server/datastore/postgres_datastore.h"
#include "server/datastore/sqlite_datastore.h"
#include "tests/fakes/fake_clock.h"
#include "tests/server/datastore/postgres_cluster.h"

namespace spinel::server::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/spinel-ds-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    // Tests may leave it read-only; make everything writable again before removing.
    for (const auto& e : std::filesystem::recursive_directory_iterator(path_, ignored)) {
      std::filesystem::permissions(e.path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
    }
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline common::SpiffeId Id(std::string_view text) {
  auto id = common::SpiffeId::Parse(text);
  REQUIRE_MESSAGE(id.ok(), std::string(id.status().message()));
  return *id;
}

inline common::TrustDomain Td(std::string_view name) {
  auto td = common::TrustDomain::Parse(name);
  REQUIRE_MESSAGE(td.ok(), std::string(td.status().message()));
  return *td;
}

inline common::SelectorSet Selectors(const std::vector<std::string_view>& texts) {
  common::SelectorSet out;
  for (std::string_view text : texts) {
    auto s = common::Selector::Parse(text);
    REQUIRE_MESSAGE(s.ok(), std::string(s.status().message()));
    out.push_back(*s);
  }
  return out;
}

inline RegistrationEntry MakeEntry(std::string_view spiffe_id, std::string_view parent_id,
                                   const std::vector<std::string_view>& selectors) {
  RegistrationEntry e;
  e.spiffe_id = Id(spiffe_id);
  e.parent_id = Id(parent_id);
  e.selectors = Selectors(selectors);
  return e;
}

inline AttestedAgent MakeAgent(std::string_view spiffe_id, std::string_view type = "join_token") {
  AttestedAgent a;
  a.spiffe_id = Id(spiffe_id);
  a.attestation_type = std::string(type);
  a.serial_number = "01ab";
  a.svid_expires_at = 1'800'003'600;
  a.selectors = Selectors({"join_token:abc"});
  return a;
}

inline AuditEvent Audit(std::string kind, std::string outcome = "ok", std::string zone = "") {
  AuditEvent e;
  e.kind = std::move(kind);
  e.outcome = std::move(outcome);
  e.zone = std::move(zone);
  return e;
}

inline bool Contains(absl::string_view haystack, std::string_view needle) {
  return std::string_view(haystack.data(), haystack.size()).find(needle) != std::string_view::npos;
}

// Opens a SQLite datastore or fails the test.
inline std::unique_ptr<SqliteDatastore> OpenSqlite(const std::string& path,
                                                   const common::Clock& clock,
                                                   const SqliteOpenOptions& options = {}) {
  auto ds = SqliteDatastore::Open(path, clock, options);
  REQUIRE_MESSAGE(ds.ok(), std::string(ds.status().message()));
  return *std::move(ds);
}

// Backends for the contract tests: each owns a fake clock and a fresh, empty datastore.
struct SqliteMemoryBackend {
  spinel::testing::FakeClock clock;
  std::unique_ptr<Datastore> store = OpenSqlite(":memory:", clock);
};

struct SqliteFileBackend {
  spinel::testing::FakeClock clock;
  TempDir dir;
  std::unique_ptr<Datastore> store = OpenSqlite(dir.File("spinel.db"), clock);
};

// Opens a PostgreSQL datastore or fails the test.
inline std::unique_ptr<PostgresDatastore> OpenPostgres(const std::string& conninfo,
                                                       const common::Clock& clock) {
  auto ds = PostgresDatastore::Open(conninfo, clock);
  REQUIRE_MESSAGE(ds.ok(), std::string(ds.status().message()));
  return *std::move(ds);
}

// A fresh schema of the binary's shared PostgreSQL test cluster (postgres_cluster.h), dropped
// afterwards.
struct PostgresBackend {
  spinel::testing::FakeClock clock;
  std::string schema = spinel::testing::PostgresCluster::Shared().NewSchema();
  std::unique_ptr<Datastore> store =
      OpenPostgres(spinel::testing::PostgresCluster::Shared().Uri(schema), clock);
  ~PostgresBackend() {
    store.reset();
    spinel::testing::PostgresCluster::Shared().DropSchema(schema);
  }
};

}  // namespace spinel::server::testing

TYPE_TO_STRING(spinel::server::testing::SqliteMemoryBackend);
TYPE_TO_STRING(spinel::server::testing::SqliteFileBackend);
TYPE_TO_STRING(spinel::server::testing::PostgresBackend);

#define SPINEL_DATASTORE_BACKENDS                                                           \
  spinel::server::testing::SqliteMemoryBackend, spinel::server::testing::SqliteFileBackend, \
      spinel::server::testing::PostgresBackend
