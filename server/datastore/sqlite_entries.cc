// SqliteDatastore: registration entries.
#include <nlohmann/json.hpp>
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sqlite_datastore.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

// Column order shared by SELECTs (columns 0..13) and writes (parameters ?1..?14).
constexpr char kEntryColumns[] =
    "id, spiffe_id, parent_id, selectors, zone, x509_svid_ttl, jwt_svid_ttl, dns_names, hint, "
    "admin, expires_at, revision_number, created_at, updated_at";

absl::Status EntryNotFound(std::string_view id) {
  return absl::NotFoundError(StrCat("entry ", Quote(id), " not found"));
}

absl::StatusOr<RegistrationEntry> ReadEntry(const Statement& stmt) {
  RegistrationEntry e;
  e.id = stmt.ColumnText(0);
  const std::string owner = StrCat("entry ", Quote(e.id));
  SPINEL_ASSIGN_OR_RETURN(e.spiffe_id, DecodeSpiffeId(stmt.ColumnText(1), owner));
  SPINEL_ASSIGN_OR_RETURN(e.parent_id, DecodeSpiffeId(stmt.ColumnText(2), owner));
  SPINEL_ASSIGN_OR_RETURN(e.selectors, DecodeSelectors(stmt.ColumnText(3), owner));
  e.zone = stmt.ColumnText(4);
  e.x509_svid_ttl = stmt.ColumnInt(5);
  e.jwt_svid_ttl = stmt.ColumnInt(6);
  SPINEL_ASSIGN_OR_RETURN(e.dns_names, DecodeStrings(stmt.ColumnText(7), owner));
  e.hint = stmt.ColumnText(8);
  e.admin = stmt.ColumnInt(9) != 0;
  e.expires_at = stmt.ColumnOptionalInt(10);
  e.revision_number = stmt.ColumnInt(11);
  e.created_at = stmt.ColumnInt(12);
  e.updated_at = stmt.ColumnInt(13);
  return e;
}

void BindEntry(Statement& stmt, const RegistrationEntry& e) {
  stmt.BindText(1, e.id).BindText(2, e.spiffe_id.ToString()).BindText(3, e.parent_id.ToString());
  stmt.BindText(4, EncodeSelectors(e.selectors)).BindText(5, e.zone);
  stmt.BindInt(6, e.x509_svid_ttl).BindInt(7, e.jwt_svid_ttl);
  stmt.BindText(8, EncodeStrings(e.dns_names)).BindText(9, e.hint).BindInt(10, e.admin ? 1 : 0);
  stmt.BindOptionalInt(11, e.expires_at).BindInt(12, e.revision_number);
  stmt.BindInt(13, e.created_at).BindInt(14, e.updated_at);
}

SqlConditions EntryConditions(const EntryFilter& filter) {
  SqlConditions where;
  if (filter.parent_id) where.AddText("parent_id = ?", filter.parent_id->ToString());
  if (filter.spiffe_id) where.AddText("spiffe_id = ?", filter.spiffe_id->ToString());
  if (filter.zone) where.AddText("zone = ?", *filter.zone);
  return where;
}

}  // namespace

absl::StatusOr<std::vector<RegistrationEntry>> SqliteDatastore::QueryEntries(Statement& stmt) {
  std::vector<RegistrationEntry> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, ReadEntry(stmt));
    out.push_back(std::move(entry));
  }
}

absl::StatusOr<RegistrationEntry> SqliteDatastore::GetEntryLocked(std::string_view id) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT ", kEntryColumns, " FROM registration_entries WHERE id = ?1")));
  stmt.BindText(1, id);
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return EntryNotFound(id);
  return ReadEntry(stmt);
}

absl::Status SqliteDatastore::CheckNoIdenticalEntry(const RegistrationEntry& entry) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare("SELECT id FROM registration_entries WHERE spiffe_id = ?1 AND "
                                  "parent_id = ?2 AND selectors = ?3 AND id != ?4"));
  stmt.BindText(1, entry.spiffe_id.ToString()).BindText(2, entry.parent_id.ToString());
  stmt.BindText(3, EncodeSelectors(entry.selectors)).BindText(4, entry.id);
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::OkStatus();
  return absl::AlreadyExistsError(
      StrCat("entry ", Quote(stmt.ColumnText(0)), " already has SPIFFE ID ",
             Quote(entry.spiffe_id.ToString()), ", parent ", Quote(entry.parent_id.ToString()),
             " and the same selectors"));
}

absl::Status SqliteDatastore::WriteEntry(const RegistrationEntry& entry, bool insert) {
  static const std::string kInsert = StrCat("INSERT INTO registration_entries (", kEntryColumns,
                                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                            "?11, ?12, ?13, ?14)");
  static constexpr char kUpdate[] =
      "UPDATE registration_entries SET spiffe_id = ?2, parent_id = ?3, selectors = ?4, "
      "zone = ?5, x509_svid_ttl = ?6, jwt_svid_ttl = ?7, dns_names = ?8, hint = ?9, "
      "admin = ?10, expires_at = ?11, revision_number = ?12, created_at = ?13, "
      "updated_at = ?14 WHERE id = ?1";
  SPINEL_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(insert ? kInsert : kUpdate));
  BindEntry(stmt, entry);
  SPINEL_RETURN_IF_ERROR(stmt.Run());
  return RecordChange(ChangeKind::kEntry, entry.id, false);
}

absl::StatusOr<RegistrationEntry> SqliteDatastore::CreateEntry(const RegistrationEntry& in) {
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, NormalizeEntry(in));
  if (entry.id.empty()) {
    SPINEL_ASSIGN_OR_RETURN(entry.id, NewEntryId());
  }
  entry.revision_number = 0;
  entry.created_at = entry.updated_at = NowSeconds();
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  absl::StatusOr<RegistrationEntry> existing = GetEntryLocked(entry.id);
  if (existing.ok()) {
    return absl::AlreadyExistsError(StrCat("entry ", Quote(entry.id), " already exists"));
  }
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  SPINEL_RETURN_IF_ERROR(CheckNoIdenticalEntry(entry));
  SPINEL_RETURN_IF_ERROR(WriteEntry(entry, /*insert=*/true));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return entry;
}

absl::StatusOr<RegistrationEntry> SqliteDatastore::UpdateEntry(const RegistrationEntry& in) {
  if (in.id.empty()) return absl::InvalidArgumentError("entry update: id is required");
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, NormalizeEntry(in));
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry stored, GetEntryLocked(entry.id));
  if (stored.revision_number != in.revision_number) {
    return absl::AbortedError(StrCat(
        "entry ", Quote(entry.id),
        " was changed concurrently: ", "the update is based on revision ", in.revision_number,
        " but revision ", stored.revision_number, " is stored; read it again and retry"));
  }
  SPINEL_RETURN_IF_ERROR(CheckNoIdenticalEntry(entry));
  entry.revision_number = stored.revision_number + 1;
  entry.created_at = stored.created_at;
  entry.updated_at = NowSeconds();
  SPINEL_RETURN_IF_ERROR(WriteEntry(entry, /*insert=*/false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return entry;
}

absl::StatusOr<RegistrationEntry> SqliteDatastore::DeleteEntry(std::string_view id) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry stored, GetEntryLocked(id));
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("DELETE FROM registration_entries WHERE id = ?1"));
  SPINEL_RETURN_IF_ERROR(stmt.BindText(1, id).Run());
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kEntry, id, true));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return stored;
}

absl::StatusOr<RegistrationEntry> SqliteDatastore::GetEntry(std::string_view id) {
  absl::MutexLock lock(&mu_);
  return GetEntryLocked(id);
}

absl::StatusOr<EntryPage> SqliteDatastore::ListEntries(const EntryFilter& filter,
                                                       const PageRequest& page) {
  if (page.page_size < 0) return absl::InvalidArgumentError("page_size cannot be negative");
  SqlConditions where = EntryConditions(filter);
  if (!page.page_token.empty()) where.AddText("id > ?", page.page_token);
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("SELECT ", kEntryColumns, " FROM registration_entries",
                                             where.Sql(), " ORDER BY id LIMIT ?")));
  where.Bind(stmt);
  // One row more than the page shows whether another page follows.
  stmt.BindInt(where.Count() + 1, page.page_size > 0 ? int64_t{page.page_size} + 1 : -1);
  EntryPage out;
  SPINEL_ASSIGN_OR_RETURN(out.entries, QueryEntries(stmt));
  if (page.page_size > 0 && out.entries.size() > static_cast<size_t>(page.page_size)) {
    out.entries.pop_back();
    out.next_page_token = out.entries.back().id;
  }
  return out;
}

absl::StatusOr<int64_t> SqliteDatastore::CountEntries(const EntryFilter& filter) {
  SqlConditions where = EntryConditions(filter);
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT COUNT(*) FROM registration_entries", where.Sql())));
  where.Bind(stmt);
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError("COUNT(*) returned no row");
  return stmt.ColumnInt(0);
}

absl::StatusOr<std::vector<RegistrationEntry>> SqliteDatastore::ListEntriesByParents(
    const std::vector<common::SpiffeId>& parent_ids) {
  if (parent_ids.empty()) return std::vector<RegistrationEntry>{};
  // The IDs travel as one bound JSON array, expanded by json_each: any number of parents in
  // one statement that still uses the parent index.
  nlohmann::json ids = nlohmann::json::array();
  for (const common::SpiffeId& id : parent_ids) ids.push_back(id.ToString());
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("SELECT ", kEntryColumns,
                                             " FROM registration_entries WHERE parent_id "
                                             "IN (SELECT value FROM json_each(?1)) ORDER BY id")));
  // SPIFFE IDs are ASCII, so dump() cannot meet invalid UTF-8.
  stmt.BindText(1, ids.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return QueryEntries(stmt);
}

}  // namespace spinel::server
