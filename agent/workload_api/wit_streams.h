// The streaming WIT-SVID responses of the Workload API (shared/spec/wimse.md §2; internal to
// workload_api/), built from an IdentityCache snapshot for one caller like those of
// workload_streams.h.
//  - WITSVIDResponse: one WITSVID per matching entry (only those with the requested SPIFFE ID
//    when the request names one) that holds an unexpired WIT-SVID at `now`, in entry order
//    (the first is the default identity); a non-empty hint already used drops the later one;
//    hints over 1024 bytes are not sent. wit_svid_key is the private JWK (alg = cnf.jwk.alg).
//  - WITBundlesResponse: Bundle::WitAuthoritiesJson (wit-svid keys only, JSON text) of
//    TrustedDomains(matching entries): the caller's own zones, their peers and the foreign
//    trust domains they federate with, exactly as the X.509 bundles; a trust domain without
//    wit-svid keys (it does not support WIT-SVIDs) is left out.
// Pure functions of their arguments; thread-safe.
#pragma once

#include <string>

#include "agent/identity_cache.h"
#include "agent/workload_api/snapshot_stream.h"
#include "common/clock.h"
#include "common/selector.h"
#include "workload.grpc.pb.h"

namespace spinel::agent {

// `spiffe_id` "" means every identity of the caller.
BuiltResponse BuildWitSvidResponse(const CacheSnapshot& snapshot,
                                   const common::SelectorSet& selectors,
                                   const std::string& spiffe_id, common::TimePoint now,
                                   ::WITSVIDResponse* out);
BuiltResponse BuildWitBundlesResponse(const CacheSnapshot& snapshot,
                                      const common::SelectorSet& selectors,
                                      ::WITBundlesResponse* out);
// The caller's entries with `spiffe_id` ("" = all): the entries FetchWITSVID serves.
std::vector<const CachedEntry*> WitEntries(const CacheSnapshot& snapshot,
                                           const common::SelectorSet& selectors,
                                           const std::string& spiffe_id);
// Overwrites and clears the private keys in `response`.
void WipeWitSvidKeys(::WITSVIDResponse* response);

class WitSvidStream final : public TypedSnapshotStream<::WITSVIDResponse> {
 public:
  WitSvidStream(const StreamEnv& env, std::string spiffe_id)
      : TypedSnapshotStream(env), spiffe_id_(std::move(spiffe_id)) {}
  ~WitSvidStream() override { WipeWitSvidKeys(&message_); }

 protected:
  BuiltResponse Build(const CacheSnapshot& snapshot, const common::SelectorSet& selectors,
                      common::TimePoint now) override {
    return BuildWitSvidResponse(snapshot, selectors, spiffe_id_, now, &message_);
  }
  void WipeMessage() override { WipeWitSvidKeys(&message_); }

 private:
  const std::string spiffe_id_;
};

class WitBundlesStream final : public TypedSnapshotStream<::WITBundlesResponse> {
 public:
  using TypedSnapshotStream::TypedSnapshotStream;

 protected:
  BuiltResponse Build(const CacheSnapshot& snapshot, const common::SelectorSet& selectors,
                      common::TimePoint) override {
    return BuildWitBundlesResponse(snapshot, selectors, &message_);
  }
};

}  // namespace spinel::agent
