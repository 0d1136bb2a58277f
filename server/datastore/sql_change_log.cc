// SqlStore: the change log (table change_events). Every write of an entry, agent, bundle or
// federation relationship appends one event with the next revision of the datastore-wide
// counter in the transaction that makes the change; writes are serialized (SqlDatabase::Write),
// so MAX + 1 is the next revision and revisions commit in increasing order without gaps. The
// engine announces each event (SqlDialect::announce_change); the committing SqlStore tells its
// change listener once the transaction committed (SqlStore::Write).
//
// History is pruned now and then: an event superseded by a later event of the same object and
// more than kChangeEventRetention revisions old is deleted, so the log stays about as large as
// the number of objects (plus the retained window) while ListChanges, which needs only each
// object's latest event, stays complete.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::StrAppend;
using common::StrCat;

constexpr int64_t kPruneEvery = 1'000;  // revisions between two prunings

constexpr char kEventColumns[] = "revision, kind, object_id, deleted, parent_ids";

// A row of kEventColumns.
absl::StatusOr<ChangeEvent> ReadEvent(const SqlRow& row) {
  ChangeEvent event{.revision = row.Int(0), .object_id = row.Text(2), .deleted = row.Bool(3)};
  SPINEL_ASSIGN_OR_RETURN(event.kind, ParseChangeKind(row.Text(1)));
  SPINEL_ASSIGN_OR_RETURN(event.parent_ids, DecodeStrings(row.Text(4), "change event"));
  return event;
}

absl::Status PruneSupersededEvents(SqlSession& s, int64_t through_revision) {
  return s
      .Query(
          "DELETE FROM change_events WHERE revision <= $1 AND EXISTS (SELECT 1 FROM "
          "change_events AS later WHERE later.kind = change_events.kind AND "
          "later.object_id = change_events.object_id AND "
          "later.revision > change_events.revision)",
          SqlParams().Int(through_revision))
      .status();
}

}  // namespace

absl::Status SqlStore::RecordChange(WriteSession& s, ChangeEvent event) {
  SPINEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      s.Query("INSERT INTO change_events (revision, kind, object_id, deleted, parent_ids) "
              "VALUES ((SELECT COALESCE(MAX(revision), 0) + 1 FROM change_events), "
              "$1, $2, $3, $4) RETURNING revision",
              SqlParams()
                  .Text(ChangeKindName(event.kind))
                  .Text(event.object_id)
                  .Bool(event.deleted)
                  .Text(EncodeStrings(event.parent_ids))));
  if (rows.empty()) return absl::InternalError("change log: no revision returned");
  event.revision = rows[0].Int(0);
  if (const char* announce = s.dialect().announce_change; announce != nullptr) {
    SPINEL_RETURN_IF_ERROR(s.Query(announce, SqlParams().Int(event.revision)).status());
  }
  if (event.revision % kPruneEvery == 0 && event.revision > kChangeEventRetention) {
    SPINEL_RETURN_IF_ERROR(PruneSupersededEvents(s, event.revision - kChangeEventRetention));
  }
  s.events.push_back(std::move(event));
  return absl::OkStatus();
}

void SqlStore::AnnounceCommitted(const std::vector<ChangeEvent>& events) {
  ChangeListener listener;
  {
    common::MutexLock lock(listener_mu_);
    listener = listener_;
  }
  if (listener) listener(events);
}

void SqlStore::SetChangeListener(ChangeListener listener) {
  common::MutexLock lock(listener_mu_);
  listener_ = std::move(listener);
}

absl::StatusOr<int64_t> SqlStore::CurrentRevision() {
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<int64_t> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows,
                            s.Query("SELECT COALESCE(MAX(revision), 0) FROM change_events"));
    if (rows.empty()) return absl::InternalError("change log: no current revision");
    return rows[0].Int(0);
  });
}

absl::StatusOr<std::vector<Change>> SqlStore::ListChanges(int64_t since_revision, int limit) {
  // Each entry's, agent's and bundle's latest event.
  std::string sql =
      "SELECT revision, kind, object_id, deleted FROM change_events AS c WHERE revision > $1 "
      "AND kind IN ('entry', 'agent', 'bundle') AND NOT EXISTS (SELECT 1 FROM change_events AS "
      "later WHERE later.kind = c.kind AND later.object_id = c.object_id AND "
      "later.revision > c.revision) ORDER BY revision";
  SqlParams params = SqlParams().Int(since_revision);
  if (limit > 0) {
    StrAppend(&sql, " LIMIT $2");
    params.Int(limit);
  }
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<Change>> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(sql, params));
    std::vector<Change> out;
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(ChangeKind kind, ParseChangeKind(rows[i].Text(1)));
      out.push_back(Change{rows[i].Int(0), kind, rows[i].Text(2), rows[i].Bool(3)});
    }
    return out;
  });
}

absl::StatusOr<std::vector<ChangeEvent>> SqlStore::ListChangeEvents(int64_t since_revision,
                                                                    int limit) {
  std::string sql =
      StrCat("SELECT ", kEventColumns, " FROM change_events WHERE revision > $1 ORDER BY revision");
  SqlParams params = SqlParams().Int(since_revision);
  if (limit > 0) {
    StrAppend(&sql, " LIMIT $2");
    params.Int(limit);
  }
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<ChangeEvent>> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(sql, params));
    std::vector<ChangeEvent> out;
    out.reserve(static_cast<size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(ChangeEvent event, ReadEvent(rows[i]));
      out.push_back(std::move(event));
    }
    return out;
  });
}

}  // namespace spinel::server
