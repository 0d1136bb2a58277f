// What the two engine drivers (sqlite_db.h, postgres_conn.h) share: owning C handles, quoting
// a statement in an error message, and running a transaction.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace spinel::server {

// A std::unique_ptr deleter that calls the C library's `Free` (e.g. PQfinish, sqlite3_finalize)
// on the handle; its result, if any, is ignored: nothing can be done about a failed close.
template <auto Free>
struct CFreeDeleter {
  template <typename T>
  void operator()(T* handle) const {
    Free(handle);
  }
};

// ` in "<the first 60 characters of sql>..."` for an error message ("" for empty SQL).
std::string SqlExcerpt(std::string_view sql);

// Runs `begin` (e.g. "BEGIN IMMEDIATE"), then `body`, then COMMIT on `conn`; when `body` or
// COMMIT fails and conn.CanRollBack(), ROLLBACK (whose own failure leaves nothing to do: an
// uncommitted transaction is never durable). Returns the first failure. `Connection` is
// SqliteDb or PgConnection, used by this thread only.
template <typename Connection>
absl::Status RunTransaction(Connection& conn, const std::string& begin,
                            const std::function<absl::Status()>& body) {
  absl::Status status = conn.Exec(begin);
  if (!status.ok()) return status;
  status = body();
  if (status.ok()) status = conn.Exec("COMMIT");
  if (!status.ok() && conn.CanRollBack()) conn.Exec("ROLLBACK").IgnoreError();
  return status;
}

}  // namespace spinel::server
