// PostgresCluster: a throwaway PostgreSQL server for tests, one per test binary run.
//
// PostgresCluster::Shared() starts it on first use: initdb into a fresh /tmp/spinel-pg-XXXXXX
// directory and the `postgres` server on a Unix socket in that directory only
// (listen_addresses = ''), no TCP port. Run as root (as in CI), both run as the `postgres`
// system user of the Debian package (initdb refuses root), with the directory owned by it;
// run as anyone else, they run as that user. The server gets SIGQUIT (an immediate shutdown,
// as `pg_ctl stop -m immediate`) and the directory is removed at exit; the server also gets
// SIGQUIT if the test binary dies without exiting (PR_SET_PDEATHSIG), so no cluster outlives
// its test run.
//
// Tests share the cluster and isolate themselves with a fresh schema each (NewSchema() plus a
// connection string whose search_path is that schema) or a fresh database (NewDatabase()).
// Binaries come from /usr/lib/postgresql/<newest>/bin (Debian `postgresql`), or from
// $SPINEL_PG_BINDIR. A missing installation fails the test with the reason: PostgreSQL is
// part of the test setup (scripts/setup.sh installs it), not optional.
//
// Not thread-safe: call from the test thread.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace spinel::testing {

class PostgresCluster {
 public:
  static PostgresCluster& Shared() {
    static PostgresCluster* cluster = [] {
      auto* c = new PostgresCluster();
      c->Start();
      // Stopped at normal exit; PR_SET_PDEATHSIG covers abnormal ends.
      std::atexit([] { Shared().Stop(); });
      return c;
    }();
    return *cluster;
  }

  // The directory holding the server's socket (the libpq `host`).
  const std::string& socket_dir() const { return dir_; }
  pid_t server_pid() const { return server_pid_; }

  // A libpq URI for `database` as the superuser, with search_path = `schema` when not empty:
  // what spinel-server's `datastore:` setting takes.
  std::string Uri(std::string_view schema = "", std::string_view database = "postgres") const {
    std::string uri = "postgresql://postgres@/" + std::string(database) +
                      "?host=" + Escape(dir_) + "&port=5432";
    if (!schema.empty()) uri += "&options=" + Escape("-csearch_path=" + std::string(schema));
    return uri;
  }

  // Creates an empty schema with a fresh name and returns the name.
  std::string NewSchema() {
    const std::string name = "t" + std::to_string(++counter_) + "_" + std::to_string(getpid());
    Admin("CREATE SCHEMA " + name);
    return name;
  }
  // Best effort (for destructors): a failure is ignored.
  void DropSchema(const std::string& name) {
    TryAdmin("DROP SCHEMA IF EXISTS " + name + " CASCADE", "postgres");
  }

  // Creates an empty database with a fresh name and returns the name.
  std::string NewDatabase() {
    const std::string name = "db" + std::to_string(++counter_) + "_" + std::to_string(getpid());
    Admin("CREATE DATABASE " + name);
    return name;
  }

  // Runs constant SQL as the superuser on the `postgres` database; fails the test on error.
  void Admin(const std::string& sql, std::string_view database = "postgres") {
    const std::string error = TryAdmin(sql, database);
    REQUIRE_MESSAGE(error.empty(), "PostgreSQL test cluster: " << sql << ": " << error);
  }

  // As Admin; returns the error message ("" on success) instead of failing the test.
  std::string TryAdmin(const std::string& sql, std::string_view database) {
    PGconn* conn = PQconnectdb(Uri("", database).c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
      PGresult* result = PQexec(conn, sql.c_str());
      if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
        error = PQresultErrorMessage(result);
      }
      PQclear(result);
    }
    PQfinish(conn);
    return error;
  }

 private:
  PostgresCluster() = default;

  static std::string Escape(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '_' || c == '.') {
        out += c;
      } else {
        out += '%';
        out += kHex[u >> 4];
        out += kHex[u & 0xf];
      }
    }
    return out;
  }

  static std::string BinDir() {
    if (const char* env = std::getenv("SPINEL_PG_BINDIR"); env != nullptr && *env != '\0') {
      return env;
    }
    std::string best;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const std::string bin = e.path().string() + "/bin";
      if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
    }
    REQUIRE_MESSAGE(!best.empty(),
                    "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                    "(install the Debian package `postgresql`: scripts/setup.sh)");
    return best;
  }

  static std::string ReadLog(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // fork/exec `argv` as the cluster user with stdout/stderr to `log`; returns the pid.
  pid_t Spawn(const std::vector<std::string>& argv, const std::string& log, bool die_with_parent) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (chdir(dir_.c_str()) != 0) _exit(126);
      if (run_as_postgres_ &&
          (setgroups(0, nullptr) != 0 || setgid(gid_) != 0 || setuid(uid_) != 0)) {
        _exit(126);
      }
      // After setuid, which clears it; the parent may have died in between.
      if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent)) {
        _exit(126);
      }
      execv(args[0], args.data());
      _exit(127);
    }
    return pid;
  }

  void Start() {
    const std::string bin = BinDir();
    char tmpl[] = "/tmp/spinel-pg-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    if (geteuid() == 0) {
      const passwd* pw = getpwnam("postgres");
      REQUIRE_MESSAGE(pw != nullptr, "running as root needs the `postgres` system user "
                                     "(Debian package `postgresql`) to run the test cluster");
      run_as_postgres_ = true;
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      REQUIRE(chown(dir_.c_str(), uid_, gid_) == 0);
    }
    const std::string log = dir_ + "/cluster.log";
    const pid_t initdb = Spawn({bin + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A",
                                "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                               log, /*die_with_parent=*/true);
    int status = 0;
    REQUIRE(waitpid(initdb, &status, 0) == initdb);
    REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0),
                    "initdb failed:\n" << ReadLog(log));
    // Test data need no crash safety: no fsync, which keeps each test in milliseconds.
    server_pid_ = Spawn({bin + "/postgres", "-D", dir_ + "/data", "-c", "listen_addresses=",
                         "-c", "unix_socket_directories=" + dir_, "-c", "fsync=off", "-c",
                         "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                         "max_connections=200"},
                        log, /*die_with_parent=*/true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (PQping(Uri().c_str()) != PQPING_OK) {
      REQUIRE_MESSAGE(waitpid(server_pid_, &status, WNOHANG) == 0,
                      "the PostgreSQL test server exited:\n" << ReadLog(log));
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                      "the PostgreSQL test server did not accept connections within 60 s:\n"
                          << ReadLog(log));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Stop() {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGQUIT);  // immediate shutdown
      int status = 0;
      waitpid(server_pid_, &status, 0);
      server_pid_ = -1;
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  bool run_as_postgres_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t server_pid_ = -1;
  int counter_ = 0;
};

}  // namespace spinel::testing
