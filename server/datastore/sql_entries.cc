// SqlStore: registration entries.
#include <nlohmann/json.hpp>
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

// Column order shared by SELECTs (columns 0..13) and writes (parameters $1..$14).
constexpr char kEntryColumns[] =
    "id, spiffe_id, parent_id, selectors, zone, x509_svid_ttl, jwt_svid_ttl, dns_names, hint, "
    "admin, expires_at, revision_number, created_at, updated_at";

absl::Status EntryNotFound(std::string_view id) {
  return absl::NotFoundError(StrCat("entry ", Quote(id), " not found"));
}

absl::StatusOr<RegistrationEntry> ReadEntry(const SqlRow& row) {
  RegistrationEntry e;
  e.id = row.Text(0);
  const std::string owner = StrCat("entry ", Quote(e.id));
  SPINEL_ASSIGN_OR_RETURN(e.spiffe_id, DecodeSpiffeId(row.Text(1), owner));
  SPINEL_ASSIGN_OR_RETURN(e.parent_id, DecodeSpiffeId(row.Text(2), owner));
  SPINEL_ASSIGN_OR_RETURN(e.selectors, DecodeSelectors(row.Text(3), owner));
  e.zone = row.Text(4);
  e.x509_svid_ttl = row.Int(5);
  e.jwt_svid_ttl = row.Int(6);
  SPINEL_ASSIGN_OR_RETURN(e.dns_names, DecodeStrings(row.Text(7), owner));
  e.hint = row.Text(8);
  e.admin = row.Bool(9);
  e.expires_at = row.OptionalInt(10);
  e.revision_number = row.Int(11);
  e.created_at = row.Int(12);
  e.updated_at = row.Int(13);
  return e;
}

SqlParams EntryParams(const RegistrationEntry& e) {
  SqlParams p;
  p.Text(e.id).Text(e.spiffe_id.ToString()).Text(e.parent_id.ToString());
  p.Text(EncodeSelectors(e.selectors)).Text(e.zone);
  p.Int(e.x509_svid_ttl).Int(e.jwt_svid_ttl);
  p.Text(EncodeStrings(e.dns_names)).Text(e.hint).Bool(e.admin);
  p.OptionalInt(e.expires_at).Int(e.revision_number);
  p.Int(e.created_at).Int(e.updated_at);
  return p;
}

SqlConditions EntryConditions(const EntryFilter& filter) {
  SqlConditions where;
  if (filter.parent_id) where.AddText("parent_id = ", filter.parent_id->ToString());
  if (filter.spiffe_id) where.AddText("spiffe_id = ", filter.spiffe_id->ToString());
  if (filter.zone) where.AddText("zone = ", *filter.zone);
  return where;
}

absl::Status ChangedConcurrently(const RegistrationEntry& update, int64_t stored_revision) {
  return absl::AbortedError(StrCat("entry ", Quote(update.id),
                                   " was changed concurrently: the update is based on revision ",
                                   update.revision_number, " but revision ", stored_revision,
                                   " is stored; read it again and retry"));
}

}  // namespace

absl::StatusOr<std::vector<RegistrationEntry>> SqlStore::QueryEntries(SqlSession& s,
                                                                      std::string_view sql,
                                                                      const SqlParams& params) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(sql, params));
  std::vector<RegistrationEntry> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, ReadEntry(rows[i]));
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<RegistrationEntry> SqlStore::GetEntryOn(SqlSession& s, std::string_view id) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(StrCat("SELECT ", kEntryColumns,
                                                       " FROM registration_entries WHERE id = $1"),
                                                SqlParams().Text(id)));
  if (rows.empty()) return EntryNotFound(id);
  return ReadEntry(rows[0]);
}

absl::Status SqlStore::CheckNoIdenticalEntry(SqlSession& s, const RegistrationEntry& entry) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows,
                          s.Query("SELECT id FROM registration_entries WHERE spiffe_id = $1 AND "
                                  "parent_id = $2 AND selectors = $3 AND id != $4 LIMIT 1",
                                  SqlParams()
                                      .Text(entry.spiffe_id.ToString())
                                      .Text(entry.parent_id.ToString())
                                      .Text(EncodeSelectors(entry.selectors))
                                      .Text(entry.id)));
  if (rows.empty()) return absl::OkStatus();
  return absl::AlreadyExistsError(
      StrCat("entry ", Quote(rows[0].Text(0)), " already has SPIFFE ID ",
             Quote(entry.spiffe_id.ToString()), ", parent ", Quote(entry.parent_id.ToString()),
             " and the same selectors"));
}

absl::Status SqlStore::WriteEntry(WriteSession& s, const RegistrationEntry& entry,
                                  const common::SpiffeId* previous_parent) {
  const bool insert = previous_parent == nullptr;
  static const std::string kInsert =
      StrCat("INSERT INTO registration_entries (", kEntryColumns,
             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)");
  static constexpr char kUpdate[] =
      "UPDATE registration_entries SET spiffe_id = $2, parent_id = $3, selectors = $4, "
      "zone = $5, x509_svid_ttl = $6, jwt_svid_ttl = $7, dns_names = $8, hint = $9, "
      "admin = $10, expires_at = $11, revision_number = $12, created_at = $13, "
      "updated_at = $14 WHERE id = $1";
  SPINEL_RETURN_IF_ERROR(
      s.Query(insert ? std::string_view(kInsert) : kUpdate, EntryParams(entry)).status());
  ChangeEvent event{.kind = ChangeKind::kEntry, .object_id = entry.id};
  if (previous_parent != nullptr && *previous_parent != entry.parent_id) {
    event.parent_ids.push_back(previous_parent->ToString());
  }
  event.parent_ids.push_back(entry.parent_id.ToString());
  return RecordChange(s, std::move(event));
}

absl::StatusOr<RegistrationEntry> SqlStore::CreateEntry(const RegistrationEntry& in) {
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, NormalizeEntry(in));
  if (entry.id.empty()) {
    SPINEL_ASSIGN_OR_RETURN(entry.id, NewEntryId());
  }
  entry.revision_number = 0;
  entry.created_at = entry.updated_at = NowSeconds();
  return Write([&](WriteSession& s) -> absl::StatusOr<RegistrationEntry> {
    absl::StatusOr<RegistrationEntry> existing = GetEntryOn(s, entry.id);
    if (existing.ok()) {
      return absl::AlreadyExistsError(StrCat("entry ", Quote(entry.id), " already exists"));
    }
    if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
    SPINEL_RETURN_IF_ERROR(CheckNoIdenticalEntry(s, entry));
    SPINEL_RETURN_IF_ERROR(WriteEntry(s, entry, /*previous_parent=*/nullptr));
    return entry;
  });
}

absl::StatusOr<RegistrationEntry> SqlStore::UpdateEntry(const RegistrationEntry& in) {
  if (in.id.empty()) return absl::InvalidArgumentError("entry update: id is required");
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, NormalizeEntry(in));
  return Write([&](WriteSession& s) -> absl::StatusOr<RegistrationEntry> {
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry stored, GetEntryOn(s, entry.id));
    if (stored.revision_number != in.revision_number) {
      return ChangedConcurrently(in, stored.revision_number);
    }
    SPINEL_RETURN_IF_ERROR(CheckNoIdenticalEntry(s, entry));
    entry.revision_number = stored.revision_number + 1;
    entry.created_at = stored.created_at;
    entry.updated_at = NowSeconds();
    SPINEL_RETURN_IF_ERROR(WriteEntry(s, entry, &stored.parent_id));
    return entry;
  });
}

absl::StatusOr<RegistrationEntry> SqlStore::DeleteEntry(std::string_view id) {
  return Write([&](WriteSession& s) -> absl::StatusOr<RegistrationEntry> {
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry stored, GetEntryOn(s, id));
    SPINEL_RETURN_IF_ERROR(
        s.Query("DELETE FROM registration_entries WHERE id = $1", SqlParams().Text(id)).status());
    SPINEL_RETURN_IF_ERROR(
        RecordChange(s, ChangeEvent{.kind = ChangeKind::kEntry,
                                    .object_id = std::string(id),
                                    .deleted = true,
                                    .parent_ids = {stored.parent_id.ToString()}}));
    return stored;
  });
}

absl::StatusOr<RegistrationEntry> SqlStore::GetEntry(std::string_view id) {
  return ReadSql(*db_, [&](SqlSession& s) { return GetEntryOn(s, id); });
}

absl::StatusOr<EntryPage> SqlStore::ListEntries(const EntryFilter& filter,
                                                const PageRequest& page) {
  if (page.page_size < 0) return absl::InvalidArgumentError("page_size cannot be negative");
  SqlConditions where = EntryConditions(filter);
  if (!page.page_token.empty()) where.AddText("id > ", page.page_token);
  std::string sql =
      StrCat("SELECT ", kEntryColumns, " FROM registration_entries", where.Sql(), " ORDER BY id");
  SqlParams params = where.params();
  // One row more than the page shows whether another page follows.
  if (page.page_size > 0) {
    common::StrAppend(&sql, " LIMIT ", where.NextParam());
    params.Int(int64_t{page.page_size} + 1);
  }
  EntryPage out;
  SPINEL_ASSIGN_OR_RETURN(
      out.entries, ReadSql(*db_, [&](SqlSession& s) { return QueryEntries(s, sql, params); }));
  if (page.page_size > 0 && out.entries.size() > static_cast<size_t>(page.page_size)) {
    out.entries.pop_back();
    out.next_page_token = out.entries.back().id;
  }
  return out;
}

absl::StatusOr<int64_t> SqlStore::CountEntries(const EntryFilter& filter) {
  SqlConditions where = EntryConditions(filter);
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<int64_t> {
    SPINEL_ASSIGN_OR_RETURN(
        SqlRows rows,
        s.Query(StrCat("SELECT COUNT(*) FROM registration_entries", where.Sql()), where.params()));
    if (rows.empty()) return absl::InternalError("COUNT(*) returned no row");
    return rows[0].Int(0);
  });
}

absl::StatusOr<std::vector<RegistrationEntry>> SqlStore::ListEntriesByParents(
    const std::vector<common::SpiffeId>& parent_ids) {
  if (parent_ids.empty()) return std::vector<RegistrationEntry>{};
  // The IDs travel as one bound JSON array: any number of parents in one statement that still
  // uses the parent index.
  nlohmann::json ids = nlohmann::json::array();
  for (const common::SpiffeId& id : parent_ids) ids.push_back(id.ToString());
  // SPIFFE IDs are ASCII, so dump() cannot meet invalid UTF-8.
  const SqlParams params =
      SqlParams().Text(ids.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return ReadSql(*db_, [&](SqlSession& s) {
    return QueryEntries(
        s,
        StrCat("SELECT ", kEntryColumns, " FROM registration_entries WHERE parent_id IN (",
               s.dialect().json_array_items, ") ORDER BY id"),
        params);
  });
}

}  // namespace spinel::server
