// A thin RAII layer over libpq: PgConnection owns a connection (PGconn*) and turns results
// (PGresult*) into SqlRows, PgPool hands out connections to one
// database. This is the only code that calls PQfinish/PQclear; nothing else holds raw handles.
//
// Values reach SQL only as bound text parameters ($1, $2, ... through SqlParams); Exec takes
// constant SQL text for schema and session settings and must never be given user input.
//
// Errors: every libpq failure becomes an absl::Status carrying the server's message, its
// SQLSTATE and the database location (PgLocation: user@host:port/dbname, never the password),
// with codes chosen by what the caller can do about them:
//   no connection, connection lost, classes 08/53/57/58, 25006 read-only -> Unavailable
//   23505 unique violation -> AlreadyExists; other class 23 -> FailedPrecondition
//   40001/40P01 serialization failure, deadlock -> Aborted
//   XX001/XX002 data corrupted -> DataLoss; everything else -> Internal.
//
// Transactions are RunTransaction's (driver_support.h).
//
// Thread-safety: a PgConnection (and its transactions) is used by one thread at a time;
// PgPool is thread-safe.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "server/datastore/driver_support.h"
#include "server/datastore/sql_value.h"

namespace spinel::server {

using PgConnPtr = std::unique_ptr<PGconn, CFreeDeleter<PQfinish>>;
using PgResultPtr = std::unique_ptr<PGresult, CFreeDeleter<PQclear>>;

// "postgres://user@host:port/dbname" for a libpq connection string or URI, without the
// password or any other option; InvalidArgument when libpq cannot parse `conninfo` (the
// message does not repeat it, as it may hold a password).
absl::StatusOr<std::string> PgLocation(const std::string& conninfo);

class PgConnection {
 public:
  // Connects (blocking, at most connect_timeout seconds from the connection string or 10);
  // Unavailable naming `location` when the server cannot be reached or refuses us.
  static absl::StatusOr<PgConnection> Connect(const std::string& conninfo,
                                              const std::string& location);

  PgConnection(PgConnection&&) noexcept = default;
  PgConnection& operator=(PgConnection&&) noexcept = default;

  // Runs one statement with parameters bound as $1, $2, ... (all sent as text; a bool as
  // "true"/"false") and returns its rows (every value text, or null) and how many rows it
  // changed.
  absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params);
  // Runs constant SQL (possibly several statements, no parameters).
  absl::Status Exec(const std::string& sql);

  bool healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  bool InTransaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }
  // A failed statement leaves the transaction aborted, and ROLLBACK ends it; a broken
  // connection is dropped by the pool instead (nothing uncommitted is ever durable).
  bool CanRollBack() const { return healthy() && InTransaction(); }
  const std::string& location() const { return location_; }
  PGconn* raw() { return conn_.get(); }

  // The Status for a failed result (may be null) of `sql` (may be empty).
  absl::Status Error(const PGresult* result, std::string_view sql) const;

 private:
  PgConnection(PgConnPtr conn, std::string location)
      : conn_(std::move(conn)), location_(std::move(location)) {}

  PgConnPtr conn_;
  std::string location_;
};

// Connections to one database, opened on demand and kept for reuse (at most `max_idle`
// idle). A connection that broke is dropped when returned, so the next call reconnects.
class PgPool {
 public:
  PgPool(std::string conninfo, std::string location, size_t max_idle)
      : conninfo_(std::move(conninfo)), location_(std::move(location)), max_idle_(max_idle) {}
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Exclusive use of one connection until destroyed.
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  absl::StatusOr<Lease> Acquire();
  const std::string& location() const { return location_; }
  const std::string& conninfo() const { return conninfo_; }

 private:
  void Release(std::unique_ptr<PgConnection> conn);

  const std::string conninfo_;
  const std::string location_;
  const size_t max_idle_;
  common::Mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spinel::server
