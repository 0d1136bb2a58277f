// SqlStore: trust bundles, and the bundles every server replica publishes of its own trust
// domains.
#include <algorithm>
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/federation_records.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

constexpr char kBundleColumns[] = "trust_domain, bundle_json, sequence, updated_at";

absl::Status BundleNotFound(const common::TrustDomain& td) {
  return absl::NotFoundError(StrCat("bundle of ", Quote(td.name()), " not found"));
}

// SetBundle's sequence guard: a stale writer must not roll a bundle back.
absl::Status CheckBundleSequence(const BundleRecord& stored, const BundleRecord& next) {
  if (stored.sequence <= next.sequence) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat("bundle of ", Quote(next.trust_domain.name()),
                                              " is at sequence ", stored.sequence, ", newer than ",
                                              next.sequence, ": not replaced"));
}

// A row of kBundleColumns.
absl::StatusOr<BundleRecord> ReadBundle(const SqlRow& row) {
  auto td = common::TrustDomain::Parse(row.Text(0));
  if (!td.ok()) {
    return absl::DataLossError(
        StrCat("stored bundle has an invalid trust domain ", Quote(row.Text(0))));
  }
  return BundleRecord{*std::move(td), row.Text(1), row.Int(2), row.Int(3)};
}

absl::StatusOr<std::optional<ServerBundleRecord>> FindServerBundle(SqlSession& s,
                                                                   const ServerBundleRecord& r) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows found,
                          s.Query(StrCat("SELECT ", kServerBundleColumns,
                                         " FROM server_bundles WHERE trust_domain = $1 AND "
                                         "server_id = $2"),
                                  SqlParams().Text(r.trust_domain.name()).Text(r.server_id)));
  if (found.empty()) return std::optional<ServerBundleRecord>();
  SPINEL_ASSIGN_OR_RETURN(ServerBundleRecord stored, ReadServerBundle(found[0]));
  return std::optional<ServerBundleRecord>(std::move(stored));
}

}  // namespace

// --- Bundles ------------------------------------------------------------------------------

absl::StatusOr<BundleRecord> SqlStore::GetBundleOn(SqlSession& s, const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(StrCat("SELECT ", kBundleColumns,
                                                       " FROM bundles WHERE trust_domain = $1"),
                                                SqlParams().Text(td.name())));
  if (rows.empty()) return BundleNotFound(td);
  return ReadBundle(rows[0]);
}

absl::Status SqlStore::WriteBundle(WriteSession& s, const BundleRecord& bundle) {
  SPINEL_RETURN_IF_ERROR(
      s.Query(StrCat("INSERT INTO bundles (", kBundleColumns,
                     ") VALUES ($1, $2, $3, $4) ON CONFLICT (trust_domain) DO UPDATE SET "
                     "bundle_json = excluded.bundle_json, sequence = excluded.sequence, "
                     "updated_at = excluded.updated_at"),
              SqlParams()
                  .Text(bundle.trust_domain.name())
                  .Text(bundle.bundle_json)
                  .Int(bundle.sequence)
                  .Int(bundle.updated_at))
          .status());
  return RecordChange(s, ChangeKind::kBundle, bundle.trust_domain.name(), false);
}

absl::StatusOr<BundleRecord> SqlStore::SetBundle(const BundleRecord& bundle) {
  SPINEL_RETURN_IF_ERROR(ValidateBundle(bundle));
  return Write([&](WriteSession& s) -> absl::StatusOr<BundleRecord> {
    absl::StatusOr<BundleRecord> stored = GetBundleOn(s, bundle.trust_domain);
    if (!stored.ok() && stored.status().code() != absl::StatusCode::kNotFound) {
      return stored.status();
    }
    if (stored.ok()) {
      SPINEL_RETURN_IF_ERROR(CheckBundleSequence(*stored, bundle));
      // Unchanged: no write, no change record, nobody woken.
      if (stored->sequence == bundle.sequence && stored->bundle_json == bundle.bundle_json) {
        return *stored;
      }
    }
    BundleRecord out = bundle;
    out.updated_at = NowSeconds();
    SPINEL_RETURN_IF_ERROR(WriteBundle(s, out));
    return out;
  });
}

absl::StatusOr<BundleRecord> SqlStore::GetBundle(const common::TrustDomain& td) {
  return ReadSql(*db_, [&](SqlSession& s) { return GetBundleOn(s, td); });
}

absl::StatusOr<std::vector<BundleRecord>> SqlStore::ListBundles() {
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<BundleRecord>> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(StrCat("SELECT ", kBundleColumns,
                                                         " FROM bundles ORDER BY trust_domain")));
    std::vector<BundleRecord> out;
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(BundleRecord bundle, ReadBundle(rows[i]));
      out.push_back(std::move(bundle));
    }
    return out;
  });
}

absl::Status SqlStore::DeleteBundle(const common::TrustDomain& td) {
  return Write([&](WriteSession& s) -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query("DELETE FROM bundles WHERE trust_domain = $1",
                                                  SqlParams().Text(td.name())));
    if (rows.affected() == 0) return BundleNotFound(td);
    return RecordChange(s, ChangeKind::kBundle, td.name(), true);
  });
}

// --- Replicas' own bundles ------------------------------------------------------------------

absl::StatusOr<ServerBundleRecord> SqlStore::PublishServerBundle(const ServerBundleRecord& record) {
  SPINEL_RETURN_IF_ERROR(ValidateServerBundle(record));
  return Write([&](WriteSession& s) -> absl::StatusOr<ServerBundleRecord> {
    SPINEL_ASSIGN_OR_RETURN(std::optional<ServerBundleRecord> stored, FindServerBundle(s, record));
    if (stored) {
      SPINEL_RETURN_IF_ERROR(CheckServerBundleSequence(*stored, record));
      // Unchanged: no write, no change record, nobody woken.
      if (stored->sequence == record.sequence && stored->bundle_json == record.bundle_json) {
        return *std::move(stored);
      }
    }
    ServerBundleRecord out = record;
    out.updated_at = NowSeconds();
    SPINEL_RETURN_IF_ERROR(
        s.Query(StrCat("INSERT INTO server_bundles (", kServerBundleColumns,
                       ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trust_domain, server_id) DO "
                       "UPDATE SET bundle_json = excluded.bundle_json, "
                       "sequence = excluded.sequence, updated_at = excluded.updated_at"),
                SqlParams()
                    .Text(out.server_id)
                    .Text(out.trust_domain.name())
                    .Text(out.bundle_json)
                    .Int(out.sequence)
                    .Int(out.updated_at))
            .status());
    SPINEL_RETURN_IF_ERROR(RecordChange(s, ChangeKind::kBundle, out.trust_domain.name(), false));
    return out;
  });
}

absl::StatusOr<std::vector<ServerBundleRecord>> SqlStore::ListServerBundles() {
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<ServerBundleRecord>> {
    SPINEL_ASSIGN_OR_RETURN(
        SqlRows rows, s.Query(StrCat("SELECT ", kServerBundleColumns,
                                     " FROM server_bundles ORDER BY trust_domain, server_id")));
    std::vector<ServerBundleRecord> out;
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(ServerBundleRecord r, ReadServerBundle(rows[i]));
      out.push_back(std::move(r));
    }
    return out;
  });
}

absl::StatusOr<int64_t> SqlStore::DeleteServerBundles(std::string_view server_id) {
  return Write([&](WriteSession& s) -> absl::StatusOr<int64_t> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query("DELETE FROM server_bundles WHERE server_id = $1 "
                                                  "RETURNING trust_domain",
                                                  SqlParams().Text(server_id)));
    std::vector<std::string> domains;
    for (int i = 0; i < rows.size(); ++i) domains.push_back(rows[i].Text(0));
    std::sort(domains.begin(), domains.end());  // changes recorded in trust-domain order
    for (const std::string& td : domains) {
      SPINEL_RETURN_IF_ERROR(RecordChange(s, ChangeKind::kBundle, td, false));
    }
    return static_cast<int64_t>(domains.size());
  });
}

}  // namespace spinel::server
