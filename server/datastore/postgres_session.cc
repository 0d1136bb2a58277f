#include "server/datastore/postgres_session.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

const SqlDialect& PgDialect() {
  static const std::string kAnnounce =
      common::StrCat("SELECT pg_notify('", kPgChangeChannel, "', $1::text)");
  static const SqlDialect kDialect{
      .engine = "PostgreSQL",
      .json_array_items = "SELECT jsonb_array_elements_text($1::jsonb)",
      .announce_change = kAnnounce.c_str(),
  };
  return kDialect;
}

absl::Status RunPgWrite(PgConnection& conn, const SqlBody& body) {
  PgSession session(conn, PgDialect());
  return RunTransaction(conn, "BEGIN", [&]() -> absl::Status {
    SPINEL_RETURN_IF_ERROR(
        session.Query("SELECT pg_advisory_xact_lock($1)", SqlParams().Int(kPgWriteLockKey))
            .status());
    return body(session);
  });
}

absl::Status PgSqlDatabase::Read(const SqlBody& body) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  PgSession session(*conn, PgDialect());
  return body(session);
}

absl::Status PgSqlDatabase::Write(const SqlBody& body) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  return RunPgWrite(*conn, body);
}

}  // namespace spinel::server
