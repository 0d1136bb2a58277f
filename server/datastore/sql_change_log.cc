// SqlStore: the change log. Every write of an entry, agent or bundle records the object's
// latest change, with the next revision of the datastore-wide counter, in the transaction
// that makes the change; writes are serialized (SqlDatabase::Write), so revisions commit in
// increasing order. The engine may announce each record (SqlDialect::announce_change).
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::StrCat;

constexpr char kChangeColumns[] = "revision, kind, object_id, deleted";

// A row of kChangeColumns.
absl::StatusOr<Change> ReadChange(const SqlRow& row) {
  SPINEL_ASSIGN_OR_RETURN(ChangeKind kind, ParseChangeKind(row.Text(1)));
  return Change{row.Int(0), kind, row.Text(2), row.Bool(3)};
}

}  // namespace

absl::Status SqlStore::RecordChange(SqlSession& s, ChangeKind kind, std::string_view object_id,
                                    bool deleted) {
  // One record per object: its latest change, with the next revision. MAX + 1 is safe: the
  // caller holds the write lock.
  SPINEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      s.Query("INSERT INTO change_log (revision, kind, object_id, deleted) VALUES "
              "((SELECT COALESCE(MAX(revision), 0) + 1 FROM change_log), $1, $2, $3) "
              "ON CONFLICT (kind, object_id) DO UPDATE SET revision = excluded.revision, "
              "deleted = excluded.deleted RETURNING revision",
              SqlParams().Text(ChangeKindName(kind)).Text(object_id).Bool(deleted)));
  if (rows.empty()) return absl::InternalError("change log: no revision returned");
  const char* announce = s.dialect().announce_change;
  if (announce == nullptr) return absl::OkStatus();
  return s.Query(announce, SqlParams().Int(rows[0].Int(0))).status();
}

absl::StatusOr<int64_t> SqlStore::CurrentRevision() {
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<int64_t> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows,
                            s.Query("SELECT COALESCE(MAX(revision), 0) FROM change_log"));
    if (rows.empty()) return absl::InternalError("change log: no current revision");
    return rows[0].Int(0);
  });
}

absl::StatusOr<std::vector<Change>> SqlStore::ListChanges(int64_t since_revision, int limit) {
  std::string sql =
      StrCat("SELECT ", kChangeColumns, " FROM change_log WHERE revision > $1 ORDER BY revision");
  SqlParams params = SqlParams().Int(since_revision);
  if (limit > 0) {
    common::StrAppend(&sql, " LIMIT $2");
    params.Int(limit);
  }
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<Change>> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(sql, params));
    std::vector<Change> out;
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(Change change, ReadChange(rows[i]));
      out.push_back(std::move(change));
    }
    return out;
  });
}

}  // namespace spinel::server
