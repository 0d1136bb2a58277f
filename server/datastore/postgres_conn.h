// A thin RAII layer over libpq: PgConnection owns a connection (PGconn*), PgRows a result
// (PGresult*), PgTransaction rolls back unless committed, PgPool hands out connections to one
// database. This is the only code that calls PQfinish/PQclear; nothing else holds raw handles.
//
// Values reach SQL only as bound text parameters ($1, $2, ... through PgParams); Exec takes
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
#include "absl/synchronization/mutex.h"

namespace spinel::server {

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;

// "postgres://user@host:port/dbname" for a libpq connection string or URI, without the
// password or any other option; InvalidArgument when libpq cannot parse `conninfo` (the
// message does not repeat it, as it may hold a password).
absl::StatusOr<std::string> PgLocation(const std::string& conninfo);

// Bound parameters, all sent as text ($1 is the first added).
class PgParams {
 public:
  PgParams& Text(std::string_view value);
  PgParams& Int(int64_t value);
  PgParams& Bool(bool value);
  PgParams& Null();
  PgParams& OptionalInt(const std::optional<int64_t>& value);
  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConnection;
  std::vector<std::optional<std::string>> values_;
};

// One row of a result (borrowed from PgRows, which must outlive it). Columns from 0.
class PgRow {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}
  std::string Text(int column) const;  // "" for NULL
  int64_t Int(int column) const;       // 0 for NULL
  bool Bool(int column) const;         // a boolean column: "t"
  bool IsNull(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  const PGresult* result_;
  int row_;
};

// A successful command's result.
class PgRows {
 public:
  explicit PgRows(PgResultPtr result) : result_(std::move(result)) {}
  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  PgRow operator[](int row) const { return PgRow(result_.get(), row); }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;

 private:
  PgResultPtr result_;
};

class PgConnection {
 public:
  // Connects (blocking, at most connect_timeout seconds from the connection string or 10);
  // Unavailable naming `location` when the server cannot be reached or refuses us.
  static absl::StatusOr<PgConnection> Connect(const std::string& conninfo,
                                              const std::string& location);

  PgConnection(PgConnection&&) noexcept = default;
  PgConnection& operator=(PgConnection&&) noexcept = default;

  // Runs one statement with bound parameters.
  absl::StatusOr<PgRows> Query(std::string_view sql, const PgParams& params);
  absl::StatusOr<PgRows> Query(std::string_view sql) { return Query(sql, PgParams()); }
  // Runs constant SQL (possibly several statements, no parameters).
  absl::Status Exec(const std::string& sql);
  // Runs constant SQL returning one integer.
  absl::StatusOr<int64_t> QueryInt(std::string_view sql);

  bool healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  bool InTransaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }
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

// A transaction (BEGIN) that rolls back when destroyed without a successful Commit.
class PgTransaction {
 public:
  static absl::StatusOr<PgTransaction> Begin(PgConnection& conn);
  PgTransaction(PgTransaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  PgTransaction& operator=(PgTransaction&&) = delete;
  ~PgTransaction();

  absl::Status Commit();

 private:
  explicit PgTransaction(PgConnection* conn) : conn_(conn) {}
  PgConnection* conn_;  // borrowed; null once committed
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
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
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
  absl::Mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
};

// Builds a WHERE clause from constant conditions that each end with their parameter, e.g.
//   PgConditions where;
//   if (filter.zone) where.AddText("zone = ", *filter.zone);  // " WHERE zone = $1"
// Parameters are numbered from 1; a caller's further parameters start at Count() + 1.
class PgConditions {
 public:
  void AddText(std::string_view condition, std::string_view value);
  void AddInt(std::string_view condition, int64_t value);
  std::string Sql() const;
  // A copy of the parameters, to add further ones to.
  PgParams Params() const { return params_; }
  int Count() const { return params_.size(); }

 private:
  std::vector<std::string> conditions_;
  PgParams params_;
};

}  // namespace spinel::server
