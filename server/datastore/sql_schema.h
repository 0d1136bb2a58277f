// The SQL store's schema, written once for both engines: each table's DDL is one text with a
// few markers for what the engines spell differently (column types, STRICT tables, the
// identity index, the audit log's append-only trigger), rendered per engine. The migration
// runner (schema_migrations.h) applies the rendered lists.
//
// The lists differ only in how history grouped the tables: SQLite got the approvals table in a
// version of its own (2) before PostgreSQL support existed, so PostgreSQL's version 1 holds
// what SQLite's versions 1 and 2 hold, and each later PostgreSQL version N is SQLite's N + 1.
//
// What the schema encodes:
//   - selectors and DNS names are JSON arrays (records.h); selectors are normalized before
//     storing, so the identity index (on a digest of the selectors where an index row would
//     be too long) also catches an identical entry; lookups by parent, by SPIFFE ID (the
//     identity index's leading column) and by zone are indexed;
//   - keys and ordered columns compare bytewise on both engines (PostgreSQL: COLLATE "C"), so
//     listings and page tokens order alike;
//   - the audit log refuses UPDATE and DELETE by trigger: it is append-only for this code, and
//     the hash chain makes any change by other means detectable;
//   - approval and audit times are Unix milliseconds (0: not yet), everything else seconds.
//
// Adding to the schema: append a migration to both lists; never edit a released one.
// Thread-safe: the lists are rendered once, on first use, and kept for the process.
#pragma once

#include <span>

#include "server/datastore/schema_migrations.h"

namespace spinel::server {

enum class SqlEngine { kSqlite, kPostgres };

// `engine`'s migrations, in version order.
std::span<const SchemaMigration> SchemaMigrations(SqlEngine engine);

}  // namespace spinel::server
