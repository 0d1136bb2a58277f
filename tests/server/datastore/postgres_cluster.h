// PostgresCluster: the throwaway PostgreSQL server of a test binary run, one per run:
// tests/support/postgres_server.h (initdb into /tmp/spinel-pg-XXXXXX, a Unix socket only, run
// as the `postgres` user when root, stopped and removed at exit or when the binary dies),
// started on first use of Shared(), with failures REQUIREd (doctest).
//
// Tests share the cluster and isolate themselves with a fresh schema each (NewSchema() plus a
// connection string whose search_path is that schema) or a fresh database (NewDatabase()).
// PostgreSQL is part of the test setup (scripts/setup.sh installs it), not optional: a missing
// installation fails the test with the reason.
//
// Not thread-safe: call from the test thread.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tests/support/postgres_server.h"

namespace spinel::testing {

class PostgresCluster {
 public:
  static PostgresCluster& Shared() {
    static PostgresCluster* cluster = [] {
      absl::StatusOr<std::unique_ptr<PostgresServer>> started = PostgresServer::Start();
      REQUIRE_MESSAGE(started.ok(), started.status().ToString());
      auto* c = new PostgresCluster(*std::move(started));
      // Stopped at normal exit; PR_SET_PDEATHSIG covers abnormal ends.
      std::atexit([] { Shared().server_->Stop(); });
      return c;
    }();
    return *cluster;
  }

  // The directory holding the server's socket (the libpq `host`).
  const std::string& socket_dir() const { return server_->socket_dir(); }
  pid_t server_pid() const { return server_->server_pid(); }

  // A libpq URI for `database` as the superuser, with search_path = `schema` when not empty:
  // what spinel-server's `datastore:` setting takes.
  std::string Uri(std::string_view schema = "", std::string_view database = "postgres") const {
    return server_->Uri(schema, database);
  }

  // Creates an empty schema with a fresh name and returns the name.
  std::string NewSchema() { return Required(server_->NewSchema()); }
  // Best effort (for destructors): a failure is ignored.
  void DropSchema(const std::string& name) {
    server_->Admin("DROP SCHEMA IF EXISTS " + name + " CASCADE").IgnoreError();
  }
  // Creates an empty database with a fresh name and returns the name.
  std::string NewDatabase() { return Required(server_->NewDatabase()); }

  // Runs constant SQL as the superuser on `database`; fails the test on error.
  void Admin(const std::string& sql, std::string_view database = "postgres") {
    absl::Status done = server_->Admin(sql, database);
    REQUIRE_MESSAGE(done.ok(), done.ToString());
  }
  // As Admin; returns the error message ("" on success) instead of failing the test.
  std::string TryAdmin(const std::string& sql, std::string_view database) {
    absl::Status done = server_->Admin(sql, database);
    return done.ok() ? std::string() : std::string(done.message());
  }

 private:
  explicit PostgresCluster(std::unique_ptr<PostgresServer> server) : server_(std::move(server)) {}

  static std::string Required(absl::StatusOr<std::string> value) {
    REQUIRE_MESSAGE(value.ok(), value.status().ToString());
    return *std::move(value);
  }

  std::unique_ptr<PostgresServer> server_;
};

}  // namespace spinel::testing
