// PostgresServer: a throwaway PostgreSQL server for tests and benchmarks (free of doctest).
//
// Start() runs initdb into a fresh /tmp/spinel-pg-XXXXXX directory and the `postgres` server on
// a Unix socket in that directory only (listen_addresses = ''), no TCP port, without fsync
// (test data need no crash safety). Run as root (as in CI), both run as the `postgres` system
// user of the Debian package (initdb refuses root), with the directory owned by it; run as
// anyone else, they run as that user. The server also gets SIGQUIT if this process dies
// (PR_SET_PDEATHSIG), so no cluster outlives its run; the destructor stops it (SIGQUIT: an
// immediate shutdown, as `pg_ctl stop -m immediate`) and removes the directory.
// Binaries come from /usr/lib/postgresql/<newest>/bin (Debian `postgresql`), or from
// $SPINEL_PG_BINDIR. Errors name what failed (with the server's log).
//
// Not thread-safe: call from one thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace spinel::testing {

class PostgresServer {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();  // Stop()s
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A libpq URI for `database` as the superuser, with search_path = `schema` when not empty:
  // what spinel-server's `datastore:` setting takes.
  std::string Uri(std::string_view schema = "", std::string_view database = "postgres") const;
  // Runs constant SQL as the superuser on `database`; the server's error message on failure.
  absl::Status Admin(const std::string& sql, std::string_view database = "postgres") const;
  // Creates an empty database with a fresh name and returns the name.
  absl::StatusOr<std::string> NewDatabase();
  // Creates an empty schema with a fresh name (in `postgres`) and returns the name.
  absl::StatusOr<std::string> NewSchema();
  // Immediate shutdown, and the directory removed. Idempotent.
  void Stop();

  const std::string& socket_dir() const { return dir_; }
  pid_t server_pid() const { return server_pid_; }

 private:
  PostgresServer() = default;
  absl::Status Init();
  absl::Status WaitUntilReady(const std::string& log);
  // fork/exec `argv` as the cluster user with stdout/stderr to `log`; the child's pid.
  absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log);

  std::string dir_;
  bool run_as_postgres_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t server_pid_ = -1;
  int counter_ = 0;
};

}  // namespace spinel::testing
