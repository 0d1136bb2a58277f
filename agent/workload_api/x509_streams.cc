// Response builders of FetchX509SVID and FetchX509Bundles (contract in workload_streams.h).
#include <algorithm>
#include <set>
#include <string>

#include "agent/workload_api/workload_streams.h"
#include "common/secret_data.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrAppend;

// The X.509 authorities of `td` as concatenated DER, or "" when there are none.
std::string X509AuthoritiesDer(const CacheSnapshot& snapshot, const common::TrustDomain& td) {
  auto it = snapshot.bundles.find(td);
  if (it == snapshot.bundles.end()) return "";
  return it->second.X509AuthoritiesDer();
}

// Adds one SVID for `entry` when it has a servable one; returns whether it did.
bool AddSvid(const CacheSnapshot& snapshot, const CachedEntry& entry, common::TimePoint now,
             std::set<std::string>& hints, ::X509SVIDResponse* out, BuiltResponse& built) {
  const X509SvidRecord* svid = entry.svid.get();
  if (svid == nullptr || svid->chain.empty() || !svid->key_der || svid->expires_at <= now) {
    return false;
  }
  std::string bundle = X509AuthoritiesDer(snapshot, svid->id.trust_domain());
  if (bundle.empty()) return false;
  const std::string hint = entry.hint.size() <= kMaxHintBytes ? entry.hint : std::string();
  if (!hint.empty() && !hints.insert(hint).second) return false;
  ::X509SVID* proto = out->add_svids();
  proto->set_spiffe_id(svid->id.ToString());
  proto->set_x509_svid(common::ConcatDer(svid->chain));
  proto->set_x509_svid_key(std::string(svid->key_der->view()));
  proto->set_hint(hint);
  StrAppend(&built.fingerprint, "svid|", entry.id, "|", proto->spiffe_id(), "|", hint, "|",
            common::ToUnixSeconds(svid->expires_at), "|");
  for (const common::Certificate& cert : svid->chain) {
    StrAppend(&built.fingerprint, cert.SerialHex(), ",");
  }
  StrAppend(&built.fingerprint, "|", bundle, "\n");
  proto->set_bundle(std::move(bundle));
  built.next_expiry = std::min(built.next_expiry, svid->expires_at);
  return true;
}

}  // namespace

BuiltResponse BuildX509SvidResponse(const CacheSnapshot& snapshot,
                                    const common::SelectorSet& selectors, common::TimePoint now,
                                    ::X509SVIDResponse* out) {
  WipeX509SvidKeys(out);
  out->Clear();
  BuiltResponse built;
  std::set<std::string> hints;
  std::vector<const CachedEntry*> served;
  for (const CachedEntry* entry : snapshot.Matching(selectors)) {
    if (AddSvid(snapshot, *entry, now, hints, out, built)) served.push_back(entry);
  }
  if (served.empty()) {
    out->Clear();
    return BuiltResponse{};
  }
  for (const common::TrustDomain& td : snapshot.FederatedDomains(served)) {
    std::string der = X509AuthoritiesDer(snapshot, td);
    if (der.empty()) continue;
    StrAppend(&built.fingerprint, "federated|", td.name(), "|", der, "\n");
    (*out->mutable_federated_bundles())[td.IdString()] = std::move(der);
  }
  built.has_identity = true;
  return built;
}

BuiltResponse BuildX509BundlesResponse(const CacheSnapshot& snapshot,
                                       const common::SelectorSet& selectors,
                                       ::X509BundlesResponse* out) {
  out->Clear();
  BuiltResponse built;
  std::vector<const CachedEntry*> matching = snapshot.Matching(selectors);
  if (matching.empty()) return built;
  for (const common::TrustDomain& td : snapshot.TrustedDomains(matching)) {
    std::string der = X509AuthoritiesDer(snapshot, td);
    if (der.empty()) continue;
    StrAppend(&built.fingerprint, td.name(), "|", der, "\n");
    (*out->mutable_bundles())[td.IdString()] = std::move(der);
  }
  built.has_identity = out->bundles_size() > 0;
  return built;
}

void WipeX509SvidKeys(::X509SVIDResponse* response) {
  for (::X509SVID& svid : *response->mutable_svids()) {
    common::WipeSecret(*svid.mutable_x509_svid_key());
  }
}

}  // namespace spinel::agent
