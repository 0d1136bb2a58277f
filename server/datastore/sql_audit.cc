// SqlStore: the hash-chained audit log. Appends run under the write lock, so the chain never
// forks: each event is linked (zones::ChainAfter) to the last stored one in the same
// transaction that stores it.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server {
namespace {

using common::StrCat;

// The delegation (user_issuer, user_subject, actor_chain as a JSON array of strings; "", "",
// "[]" for nobody) is stored byte for byte as given, since the hash covers it.
constexpr char kAuditColumns[] =
    "sequence, time_ms, actor, zone, subject, kind, outcome, reason, details, prev_hash, hash, "
    "user_issuer, user_subject, actor_chain";

// A row of kAuditColumns.
absl::StatusOr<AuditEvent> ReadAuditEvent(const SqlRow& row) {
  AuditEvent e;
  e.sequence = static_cast<uint64_t>(row.Int(0));
  e.time = FromUnixMillis(row.Int(1));
  e.actor = row.Text(2);
  e.zone = row.Text(3);
  e.subject = row.Text(4);
  e.kind = row.Text(5);
  e.outcome = row.Text(6);
  e.reason = row.Text(7);
  e.details = row.Text(8);
  e.prev_hash = row.Text(9);
  e.hash = row.Text(10);
  e.user_issuer = row.Text(11);
  e.user = row.Text(12);
  SPINEL_ASSIGN_OR_RETURN(e.actor_chain,
                          DecodeStrings(row.Text(13), StrCat("audit event ", e.sequence)));
  return e;
}

SqlParams AuditParams(const AuditEvent& e) {
  SqlParams p;
  p.Int(static_cast<int64_t>(e.sequence)).Int(UnixMillis(e.time));
  p.Text(e.actor).Text(e.zone).Text(e.subject).Text(e.kind).Text(e.outcome).Text(e.reason);
  p.Text(e.details).Text(e.prev_hash).Text(e.hash);
  p.Text(e.user_issuer).Text(e.user).Text(EncodeStrings(e.actor_chain));
  return p;
}

}  // namespace

absl::StatusOr<AuditEvent> SqlStore::AppendAuditEventOn(SqlSession& s, const AuditEvent& event) {
  AuditEvent out = event;
  // Stored (and hashed) at millisecond precision; the epoch means "now".
  const common::TimePoint time = out.time == common::TimePoint{} ? clock_.Now() : out.time;
  out.time = TruncateToMillis(time);
  SPINEL_ASSIGN_OR_RETURN(
      SqlRows last,
      s.Query("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1"));
  AuditEvent previous;
  if (!last.empty()) {
    previous.sequence = static_cast<uint64_t>(last[0].Int(0));
    previous.hash = last[0].Text(1);
  }
  SPINEL_RETURN_IF_ERROR(zones::ChainAfter(last.empty() ? nullptr : &previous, out));
  SPINEL_RETURN_IF_ERROR(
      s.Query(StrCat("INSERT INTO audit_events (", kAuditColumns,
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                     "$13, $14)"),
              AuditParams(out))
          .status());
  return out;
}

absl::StatusOr<AuditEvent> SqlStore::AppendAuditEvent(const AuditEvent& event) {
  SPINEL_RETURN_IF_ERROR(ValidateAuditEvent(event));
  return Write([&](WriteSession& s) { return AppendAuditEventOn(s, event); });
}

absl::StatusOr<std::vector<AuditEvent>> SqlStore::AppendAuditEvents(
    const std::vector<AuditEvent>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    absl::Status valid = ValidateAuditEvent(events[i]);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(StrCat("audit event ", i, ": ", valid.message()));
    }
  }
  if (events.empty()) return std::vector<AuditEvent>{};
  return Write([&](WriteSession& s) -> absl::StatusOr<std::vector<AuditEvent>> {
    std::vector<AuditEvent> out;
    out.reserve(events.size());
    for (const AuditEvent& event : events) {
      SPINEL_ASSIGN_OR_RETURN(AuditEvent stored, AppendAuditEventOn(s, event));
      out.push_back(std::move(stored));
    }
    return out;
  });
}

absl::StatusOr<std::vector<AuditEvent>> SqlStore::ListAuditEvents(const AuditFilter& filter) {
  SqlConditions where;
  if (filter.zone) where.AddText("zone = ", *filter.zone);
  if (filter.since) where.AddInt("time_ms >= ", UnixMillis(*filter.since));
  if (filter.kind) where.AddText("kind = ", *filter.kind);
  if (filter.user) where.AddText("user_subject = ", *filter.user);
  if (filter.after_sequence > 0) {
    where.AddInt("sequence > ", static_cast<int64_t>(filter.after_sequence));
  }
  // The newest `limit` events: take them in descending order, then restore sequence order.
  const bool newest = filter.newest && filter.limit > 0;
  std::string sql = StrCat("SELECT ", kAuditColumns, " FROM audit_events", where.Sql(),
                           newest ? " ORDER BY sequence DESC" : " ORDER BY sequence");
  SqlParams params = where.params();
  if (filter.limit > 0) {
    common::StrAppend(&sql, " LIMIT ", where.NextParam());
    params.Int(filter.limit);
  }
  if (newest) sql = StrCat("SELECT * FROM (", sql, ") AS newest ORDER BY sequence");
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<AuditEvent>> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(sql, params));
    std::vector<AuditEvent> out;
    out.reserve(static_cast<size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(AuditEvent event, ReadAuditEvent(rows[i]));
      out.push_back(std::move(event));
    }
    return out;
  });
}

}  // namespace spinel::server
