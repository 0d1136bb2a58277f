#include "server/bundles/bundle_merger.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrCat;

constexpr char kJwtExpiryMember[] = "spinel_jwt_expiry";

bool Contains(const std::vector<common::Certificate>& certs, const common::Certificate& cert) {
  return std::any_of(certs.begin(), certs.end(),
                     [&](const common::Certificate& c) { return c.Equals(cert); });
}

// A bundle's content without sequence and refresh hint.
bool SameContent(const common::Bundle& a, const common::Bundle& b) {
  common::Bundle x = a;
  common::Bundle y = b;
  x.sequence = y.sequence = std::nullopt;
  x.refresh_hint_seconds = y.refresh_hint_seconds = std::nullopt;
  return x.Equals(y);
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

common::Bundle MergeReplicaBundles(const common::TrustDomain& td,
                                   const std::vector<ReplicaBundle>& replicas,
                                   common::TimePoint now) {
  common::Bundle out;
  out.trust_domain = td;
  const int64_t now_seconds = common::ToUnixSeconds(now);
  for (const ReplicaBundle& replica : replicas) {
    for (const common::Certificate& cert : replica.bundle.x509_authorities) {
      if (cert.NotAfter() <= now || Contains(out.x509_authorities, cert)) continue;
      out.x509_authorities.push_back(cert);
    }
    for (const auto& [kid, key] : replica.bundle.jwt_authorities) {
      auto expiry = replica.jwt_expiry.find(kid);
      if (expiry != replica.jwt_expiry.end() && expiry->second <= now_seconds) continue;
      out.jwt_authorities.emplace(kid, key);  // keeps the first replica's key for a kid
    }
  }
  // Second pass, so a WIT key never takes a kid some replica's JWT key has (kids are unique
  // across the whole bundle).
  for (const ReplicaBundle& replica : replicas) {
    for (const auto& [kid, key] : replica.bundle.wit_authorities) {
      auto expiry = replica.jwt_expiry.find(kid);
      if (expiry != replica.jwt_expiry.end() && expiry->second <= now_seconds) continue;
      if (out.jwt_authorities.count(kid) > 0) continue;
      out.wit_authorities.emplace(kid, key);
    }
  }
  return out;
}

uint64_t MergedSequence(uint64_t sum, uint64_t previous, bool content_changed) {
  return std::max(sum, content_changed ? previous + 1 : previous);
}

absl::StatusOr<std::string> PublishedBundleJson(const AuthoritySnapshot& snapshot) {
  SPINEL_ASSIGN_OR_RETURN(nlohmann::json jwks, snapshot.ToBundle().ToJwks());
  nlohmann::json expiry = nlohmann::json::object();
  for (const JwtAuthority& jwt : snapshot.jwt) {
    expiry[jwt.kid] = common::ToUnixSeconds(jwt.NotAfter());
  }
  for (const WitAuthority& wit : snapshot.wit) {
    expiry[wit.kid] = common::ToUnixSeconds(wit.NotAfter());
  }
  jwks[kJwtExpiryMember] = std::move(expiry);
  return jwks.dump();
}

absl::StatusOr<ReplicaBundle> DecodeReplicaBundle(const ServerBundleRecord& record) {
  const std::string where =
      StrCat("bundle of ", record.trust_domain.name(), " published by ", record.server_id);
  nlohmann::json doc = nlohmann::json::parse(record.bundle_json, nullptr, false);
  if (!doc.is_object()) return absl::InvalidArgumentError(StrCat(where, ": not a JSON object"));
  ReplicaBundle out{.server_id = record.server_id,
                    .sequence = static_cast<uint64_t>(std::max<int64_t>(record.sequence, 0))};
  auto expiry = doc.find(kJwtExpiryMember);
  if (expiry != doc.end() && expiry->is_object()) {
    for (const auto& [kid, value] : expiry->items()) {
      if (value.is_number_integer()) out.jwt_expiry[kid] = value.get<int64_t>();
    }
  }
  absl::StatusOr<common::Bundle> bundle = common::Bundle::FromJwks(record.trust_domain, doc);
  if (!bundle.ok()) {
    return absl::InvalidArgumentError(StrCat(where, ": ", bundle.status().message()));
  }
  out.bundle = std::move(*bundle);
  return out;
}

absl::StatusOr<std::string> LoadOrCreateServerId(const std::string& configured,
                                                 const std::string& data_dir) {
  if (!configured.empty()) return configured;
  const std::string path = data_dir + "/server-id";
  if (common::FileExists(path)) {
    SPINEL_ASSIGN_OR_RETURN(std::string text, common::ReadFile(path));
    std::string id = Trimmed(std::move(text));
    if (id.empty())
      return absl::DataLossError(StrCat(path, " is empty; delete it or set server_id"));
    return id;
  }
  SPINEL_ASSIGN_OR_RETURN(std::string hex, common::RandomHex(8));
  std::string id = StrCat("srv-", hex);
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(path, id + "\n", 0600));
  return id;
}

absl::Status BundleMerger::Publish(const common::TrustDomain& td) {
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas_.Snapshot(td);
  if (!snapshot) return absl::NotFoundError(StrCat("no authority for ", td.name()));
  absl::Status published = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(std::string json, PublishedBundleJson(*snapshot));
    ServerBundleRecord record{.server_id = server_id_,
                              .trust_domain = td,
                              .bundle_json = std::move(json),
                              .sequence = static_cast<int64_t>(snapshot->sequence)};
    return datastore_.PublishServerBundle(record).status();
  }();
  common::MutexLock lock(mutex_);
  if (published.ok()) {
    unpublished_.erase(td);
  } else {
    unpublished_.insert(td);
    LOG_WARN("cannot publish this replica's bundle; will retry",
             {{"trust_domain", td.name()}, {"error", std::string(published.message())}});
  }
  RecomputeOneLocked(td, clock_.Now());
  return published;
}

absl::Status BundleMerger::PublishAll() {
  absl::Status first = absl::OkStatus();
  for (const common::TrustDomain& td : cas_.TrustDomains()) {
    absl::Status published = Publish(td);
    if (first.ok() && !published.ok()) first = published;
  }
  absl::Status refreshed = Refresh().status();
  return first.ok() ? refreshed : first;
}

absl::StatusOr<bool> BundleMerger::Refresh() {
  SPINEL_ASSIGN_OR_RETURN(std::vector<ServerBundleRecord> records, datastore_.ListServerBundles());
  common::MutexLock lock(mutex_);
  std::map<std::pair<common::TrustDomain, std::string>, Cached> next;
  for (ServerBundleRecord& record : records) {
    if (record.server_id == server_id_) continue;
    auto key = std::make_pair(record.trust_domain, record.server_id);
    auto old = records_.find(key);
    if (old != records_.end() && old->second.sequence == record.sequence &&
        old->second.json == record.bundle_json) {
      next.emplace(key, std::move(old->second));
      continue;
    }
    Cached cached{.sequence = record.sequence, .json = record.bundle_json};
    absl::StatusOr<ReplicaBundle> decoded = DecodeReplicaBundle(record);
    if (decoded.ok()) {
      cached.decoded = std::move(*decoded);
    } else {
      LOG_ERROR("ignoring a replica's published bundle",
                {{"error", std::string(decoded.status().message())}});
    }
    next.emplace(key, std::move(cached));
  }
  records_ = std::move(next);
  return RecomputeLocked();
}

absl::StatusOr<bool> BundleMerger::Tick() {
  std::set<common::TrustDomain> retry;
  {
    common::MutexLock lock(mutex_);
    retry = unpublished_;
  }
  for (const common::TrustDomain& td : retry) Publish(td).IgnoreError();  // logged inside
  return Refresh();
}

bool BundleMerger::RecomputeLocked() {
  const common::TimePoint now = clock_.Now();
  bool changed = false;
  for (const common::TrustDomain& td : cas_.TrustDomains()) {
    changed = RecomputeOneLocked(td, now) || changed;
  }
  return changed;
}

bool BundleMerger::RecomputeOneLocked(const common::TrustDomain& td, common::TimePoint now) {
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas_.Snapshot(td);
  if (!snapshot) return false;
  std::vector<ReplicaBundle> replicas;
  replicas.push_back(ReplicaBundle{
      .server_id = server_id_, .bundle = snapshot->ToBundle(), .sequence = snapshot->sequence});
  for (const JwtAuthority& jwt : snapshot->jwt) {
    replicas.front().jwt_expiry[jwt.kid] = common::ToUnixSeconds(jwt.NotAfter());
  }
  for (const WitAuthority& wit : snapshot->wit) {
    replicas.front().jwt_expiry[wit.kid] = common::ToUnixSeconds(wit.NotAfter());
  }
  uint64_t sum = snapshot->sequence;
  for (auto it = records_.lower_bound({td, ""}); it != records_.end() && it->first.first == td;
       ++it) {
    if (!it->second.decoded) continue;
    replicas.push_back(*it->second.decoded);
    sum += it->second.decoded->sequence;
  }
  common::Bundle bundle = MergeReplicaBundles(td, replicas, now);
  Merged& merged = merged_[td];
  const bool changed = !merged.bundle || !SameContent(*merged.bundle, bundle);
  const uint64_t sequence = MergedSequence(sum, merged.sequence, changed && merged.bundle);
  if (!changed && sequence == merged.sequence) return false;
  bundle.sequence = sequence;
  merged.sequence = sequence;
  merged.bundle = std::make_shared<const common::Bundle>(std::move(bundle));
  return changed;
}

void BundleMerger::RefreshOnChanges(const ChangeBatch& batch) {
  const bool bundle_changed =
      batch.resync || std::any_of(batch.events.begin(), batch.events.end(), [](const auto& e) {
        return e.kind == ChangeKind::kBundle && e.revision > 0;
      });
  if (!bundle_changed) return;
  absl::Status refreshed = Refresh().status();
  if (!refreshed.ok()) {
    LOG_WARN("cannot re-read replica bundles", {{"error", std::string(refreshed.message())}});
  }
}

std::shared_ptr<const common::Bundle> BundleMerger::BundleOf(const common::TrustDomain& td) const {
  common::MutexLock lock(mutex_);
  auto it = merged_.find(td);
  if (it == merged_.end()) return nullptr;
  return it->second.bundle;
}

std::shared_ptr<const common::Bundle> OwnBundle(const BundleMerger* merger, const CaManager& cas,
                                                const common::TrustDomain& td) {
  if (merger != nullptr) {
    if (auto bundle = merger->BundleOf(td)) return bundle;
  }
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas.Snapshot(td);
  if (!snapshot) return nullptr;
  return std::make_shared<const common::Bundle>(snapshot->ToBundle());
}

}  // namespace spinel::server
