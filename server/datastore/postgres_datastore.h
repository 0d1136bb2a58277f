// PostgresDatastore: the Datastore (datastore.h) on a PostgreSQL database, shared by several
// spinel-server replicas: the shared SQL store (sql_store.h) on the PostgreSQL adapter
// (postgres_session.h). This class adds only opening.
//
// Connection: a libpq connection string or URI (postgres://user@host:port/db?sslmode=...);
// messages name the database as PgLocation (user@host:port/db), never the password. An
// unreachable or restarting server makes every call fail with Unavailable; the next call
// reconnects. Durability is PostgreSQL's: a write returns OK once its COMMIT did.
//
// Consistency: every write is one transaction that first takes a transaction-level advisory
// lock (kPgWriteLockKey), so writes are serialized across all replicas (postgres_session.h).
// Reads are single statements and never wait for writers.
//
// Change push: every write that records a change also sends NOTIFY on kPgChangeChannel
// (delivered at commit), so other replicas can LISTEN (PgChangeListener) instead of polling.
//
// Schema: versioned (table spinel_schema) and migrated at Open (sql_schema.h). Tables live in the
// connection's search_path (e.g. `options=-csearch_path=spinel`), so one database can hold
// several independent datastores in separate schemas.
//
// Threading: thread-safe; a pool of connections (each call holds one for its transaction).
// The clock (borrowed, must outlive the datastore) supplies created_at/updated_at/used_at
// and "now" for join-token and approval expiry.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/datastore/postgres_session.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {

class PostgresDatastore final : public SqlStore {
 public:
  // Connects to `conninfo` and migrates the schema. Errors: InvalidArgument for a connection
  // string libpq cannot parse, Unavailable when the server cannot be reached or refuses the
  // login, FailedPrecondition for a schema newer than this build.
  static absl::StatusOr<std::unique_ptr<PostgresDatastore>> Open(const std::string& conninfo,
                                                                 const common::Clock& clock);

  // user@host:port/db, for messages.
  const std::string& location() const { return pool_.location(); }
  const std::string& conninfo() const { return pool_.conninfo(); }

 private:
  PostgresDatastore(std::unique_ptr<PgSqlDatabase> db, PgPool& pool, const common::Clock& clock);

  PgPool& pool_;  // owned by the SqlStore's database
};

}  // namespace spinel::server
