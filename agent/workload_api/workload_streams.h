// The three streaming responses of the Workload API (internal to workload_api/): how each is
// built from an IdentityCache snapshot for one caller, and the stream reactors that send them.
//
// Entitlement: the caller's entries are CacheSnapshot::Matching(selectors).
//  - X509SVIDResponse: one X509SVID per entry with an unexpired SVID (at `now`) whose trust
//    domain has X.509 authorities, in entry order (the first is the default identity); a
//    non-empty hint already used by an earlier SVID drops the later SVID (spec F8: keep the
//    first); hints over 1024 bytes are not sent. federated_bundles: the X.509 authorities of
//    FederatedDomains of the served entries (zone peers), keyed "spiffe://<td>".
//  - X509BundlesResponse: the X.509 authorities of TrustedDomains(matching entries).
//  - JWTBundlesResponse: Bundle::JwtAuthoritiesJson (jwt-svid keys only) of the same domains.
// A builder reports has_identity == false (and the stream sends nothing) when there is nothing
// valid to send: no SVID for X509SVIDResponse, no bundle for the others.
// Builders are pure functions of their arguments; thread-safe.
#pragma once

#include "agent/identity_cache.h"
#include "agent/workload_api/snapshot_stream.h"
#include "common/clock.h"
#include "common/selector.h"
#include "workload.grpc.pb.h"

namespace spinel::agent {

inline constexpr size_t kMaxHintBytes = 1024;

BuiltResponse BuildX509SvidResponse(const CacheSnapshot& snapshot,
                                    const common::SelectorSet& selectors, common::TimePoint now,
                                    ::X509SVIDResponse* out);
BuiltResponse BuildX509BundlesResponse(const CacheSnapshot& snapshot,
                                       const common::SelectorSet& selectors,
                                       ::X509BundlesResponse* out);
BuiltResponse BuildJwtBundlesResponse(const CacheSnapshot& snapshot,
                                      const common::SelectorSet& selectors,
                                      ::JWTBundlesResponse* out);
// Overwrites and clears the private keys in `response`.
void WipeX509SvidKeys(::X509SVIDResponse* response);

class X509SvidStream final : public TypedSnapshotStream<::X509SVIDResponse> {
 public:
  using TypedSnapshotStream::TypedSnapshotStream;
  ~X509SvidStream() override { WipeX509SvidKeys(&message_); }

 protected:
  BuiltResponse Build(const CacheSnapshot& snapshot, const common::SelectorSet& selectors,
                      common::TimePoint now) override {
    return BuildX509SvidResponse(snapshot, selectors, now, &message_);
  }
  void WipeMessage() override { WipeX509SvidKeys(&message_); }
};

class X509BundlesStream final : public TypedSnapshotStream<::X509BundlesResponse> {
 public:
  using TypedSnapshotStream::TypedSnapshotStream;

 protected:
  BuiltResponse Build(const CacheSnapshot& snapshot, const common::SelectorSet& selectors,
                      common::TimePoint) override {
    return BuildX509BundlesResponse(snapshot, selectors, &message_);
  }
};

class JwtBundlesStream final : public TypedSnapshotStream<::JWTBundlesResponse> {
 public:
  using TypedSnapshotStream::TypedSnapshotStream;

 protected:
  BuiltResponse Build(const CacheSnapshot& snapshot, const common::SelectorSet& selectors,
                      common::TimePoint) override {
    return BuildJwtBundlesResponse(snapshot, selectors, &message_);
  }
};

}  // namespace spinel::agent
