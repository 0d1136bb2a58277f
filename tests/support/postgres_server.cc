#include "tests/support/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace spinel::testing {
namespace {

std::string Escape(std::string_view text) {
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

absl::StatusOr<std::string> BinDir() {
  if (const char* env = std::getenv("SPINEL_PG_BINDIR"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::string best;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = e.path().string() + "/bin";
    if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
  }
  if (best.empty()) {
    return absl::NotFoundError(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (install the "
        "Debian package `postgresql`: scripts/setup.sh)");
  }
  return best;
}

std::string ReadLog(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());  // private constructor
  absl::Status started = server->Init();
  if (!started.ok()) return started;
  return server;
}

PostgresServer::~PostgresServer() { Stop(); }

std::string PostgresServer::Uri(std::string_view schema, std::string_view database) const {
  std::string uri =
      "postgresql://postgres@/" + std::string(database) + "?host=" + Escape(dir_) + "&port=5432";
  if (!schema.empty()) uri += "&options=" + Escape("-csearch_path=" + std::string(schema));
  return uri;
}

absl::Status PostgresServer::Admin(const std::string& sql, std::string_view database) const {
  PGconn* conn = PQconnectdb(Uri("", database).c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  PQfinish(conn);
  if (error.empty()) return absl::OkStatus();
  return absl::InternalError("PostgreSQL test server: " + sql + ": " + error);
}

absl::StatusOr<std::string> PostgresServer::NewDatabase() {
  const std::string name = "db" + std::to_string(++counter_) + "_" + std::to_string(getpid());
  absl::Status created = Admin("CREATE DATABASE " + name);
  if (!created.ok()) return created;
  return name;
}

absl::StatusOr<std::string> PostgresServer::NewSchema() {
  const std::string name = "t" + std::to_string(++counter_) + "_" + std::to_string(getpid());
  absl::Status created = Admin("CREATE SCHEMA " + name);
  if (!created.ok()) return created;
  return name;
}

absl::StatusOr<pid_t> PostgresServer::Spawn(const std::vector<std::string>& argv,
                                            const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
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
    if (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

absl::Status PostgresServer::Init() {
  absl::StatusOr<std::string> bin = BinDir();
  if (!bin.ok()) return bin.status();
  char tmpl[] = "/tmp/spinel-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = tmpl;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root needs the `postgres` system user (Debian package `postgresql`)");
    }
    run_as_postgres_ = true;
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    if (chown(dir_.c_str(), uid_, gid_) != 0) return absl::InternalError("chown failed");
  }
  const std::string log = dir_ + "/cluster.log";
  absl::StatusOr<pid_t> initdb = Spawn({*bin + "/initdb", "-D", dir_ + "/data", "-U", "postgres",
                                        "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                                       log);
  if (!initdb.ok()) return initdb.status();
  int status = 0;
  if (waitpid(*initdb, &status, 0) != *initdb || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("initdb failed:\n" + ReadLog(log));
  }
  absl::StatusOr<pid_t> server =
      Spawn({*bin + "/postgres", "-D", dir_ + "/data", "-c", "listen_addresses=", "-c",
             "unix_socket_directories=" + dir_, "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"},
            log);
  if (!server.ok()) return server.status();
  server_pid_ = *server;
  return WaitUntilReady(log);
}

absl::Status PostgresServer::WaitUntilReady(const std::string& log) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (PQping(Uri().c_str()) != PQPING_OK) {
    if (waitpid(server_pid_, &status, WNOHANG) != 0) {
      server_pid_ = -1;
      return absl::InternalError("the PostgreSQL test server exited:\n" + ReadLog(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          "the PostgreSQL test server did not accept connections within 60 s:\n" + ReadLog(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::OkStatus();
}

void PostgresServer::Stop() {
  if (server_pid_ > 0) {
    kill(server_pid_, SIGQUIT);  // immediate shutdown
    int status = 0;
    waitpid(server_pid_, &status, 0);
    server_pid_ = -1;
  }
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  dir_.clear();
}

}  // namespace spinel::testing
