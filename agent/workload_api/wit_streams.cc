// Response builders of FetchWITSVID and FetchWITBundles (contract in wit_streams.h).
#include "agent/workload_api/wit_streams.h"

#include <algorithm>
#include <set>

#include "agent/workload_api/workload_streams.h"
#include "common/jwt_decode.h"
#include "common/log.h"
#include "common/secret_data.h"
#include "common/strings.h"

namespace spinel::agent {

std::vector<const CachedEntry*> WitEntries(const CacheSnapshot& snapshot,
                                           const common::SelectorSet& selectors,
                                           const std::string& spiffe_id) {
  std::vector<const CachedEntry*> entries = snapshot.Matching(selectors);
  if (!spiffe_id.empty()) {
    std::erase_if(entries,
                  [&](const CachedEntry* e) { return e->spiffe_id.ToString() != spiffe_id; });
  }
  return entries;
}

BuiltResponse BuildWitSvidResponse(const CacheSnapshot& snapshot,
                                   const common::SelectorSet& selectors,
                                   const std::string& spiffe_id, common::TimePoint now,
                                   ::WITSVIDResponse* out) {
  WipeWitSvidKeys(out);
  out->Clear();
  BuiltResponse built;
  std::set<std::string> hints;
  for (const CachedEntry* entry : WitEntries(snapshot, selectors, spiffe_id)) {
    const WitSvidRecord* wit = entry->wit.get();
    if (wit == nullptr || !wit->key_jwk || wit->expires_at <= now) continue;
    const std::string hint = entry->hint.size() <= kMaxHintBytes ? entry->hint : std::string();
    if (!hint.empty() && !hints.insert(hint).second) continue;
    absl::StatusOr<std::string> token_hash = common::TokenHash(wit->token);
    if (!token_hash.ok()) continue;
    ::WITSVID* proto = out->add_svids();
    proto->set_spiffe_id(wit->id.ToString());
    proto->set_wit_svid(wit->token);
    proto->set_wit_svid_key(std::string(wit->key_jwk->view()));
    proto->set_hint(hint);
    common::StrAppend(&built.fingerprint, "wit|", entry->id, "|", proto->spiffe_id(), "|", hint,
                      "|", *token_hash, "\n");
    built.next_expiry = std::min(built.next_expiry, wit->expires_at);
  }
  built.has_identity = out->svids_size() > 0;
  if (!built.has_identity) return BuiltResponse{};
  return built;
}

BuiltResponse BuildWitBundlesResponse(const CacheSnapshot& snapshot,
                                      const common::SelectorSet& selectors,
                                      ::WITBundlesResponse* out) {
  out->Clear();
  BuiltResponse built;
  std::vector<const CachedEntry*> matching = snapshot.Matching(selectors);
  if (matching.empty()) return built;
  for (const common::TrustDomain& td : snapshot.TrustedDomains(matching)) {
    auto bundle = snapshot.bundles.find(td);
    if (bundle == snapshot.bundles.end() || bundle->second.wit_authorities.empty()) continue;
    absl::StatusOr<std::string> jwks = bundle->second.WitAuthoritiesJson();
    if (!jwks.ok()) {
      LOG_WARN("workload API: cannot encode WIT bundle",
               {{"trust_domain", td.name()}, {"error", std::string(jwks.status().message())}});
      continue;
    }
    common::StrAppend(&built.fingerprint, td.name(), "|", *jwks, "\n");
    (*out->mutable_bundles())[td.IdString()] = std::move(*jwks);
  }
  built.has_identity = out->bundles_size() > 0;
  return built;
}

void WipeWitSvidKeys(::WITSVIDResponse* response) {
  for (::WITSVID& svid : *response->mutable_svids()) {
    common::WipeSecret(*svid.mutable_wit_svid_key());
  }
}

}  // namespace spinel::agent
