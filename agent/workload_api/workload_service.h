// WorkloadService: the SPIFFE Workload API (shared/spec/workload_api.md, checklist E and F) as a
// gRPC callback service, ::SpiffeWorkloadAPI::CallbackService (method paths
// /SpiffeWorkloadAPI/<Method>). Serve it with WorkloadApiServer (workload_api_server.h), which
// owns the socket and feeds connections to gRPC with their peer credentials recorded.
//
// Every call:
//  - must carry metadata "workload.spiffe.io: true" (exactly one value, exactly "true"),
//    otherwise INVALID_ARGUMENT "security header missing from request" (all methods, WIT too);
//  - is attributed to its connection's peer credentials (PeerRegistry::Lookup(peer())), and the
//    caller is attested once per call with the CallerAttestor; its entries are the cache
//    entries whose selectors are all among the caller's. A caller that cannot be identified or
//    attested gets PERMISSION_DENIED.
// RPCs:
//  - FetchX509SVID / FetchX509Bundles / FetchJWTBundles: streams (snapshot_stream.h,
//    workload_streams.h). A message is pushed when, and only when, the caller's response
//    content changes. A stream opened by a caller matching no entry ends with PERMISSION_DENIED
//    (or, without deny_streams_without_identity, is held open until it gets an identity); a
//    stream whose caller loses every identity ends with PERMISSION_DENIED "no identity issued".
//  - FetchJWTSVID: INVALID_ARGUMENT "audience must be specified" without audience (also for an
//    empty audience value, more than kMaxAudiences values or one over kMaxAudienceBytes);
//    INVALID_ARGUMENT "invalid requested SPIFFE ID: ..." for a malformed spiffe_id;
//    PERMISSION_DENIED when the caller has no entry (or none with the requested ID). One token
//    per distinct SPIFFE ID of the caller's entries, through a JwtSvidCache; minting errors are
//    UNAVAILABLE (INVALID_ARGUMENT / PERMISSION_DENIED from the minter pass through).
//  - ValidateJWTSVID: INVALID_ARGUMENT "audience must be specified" / "svid must be
//    specified"; PERMISSION_DENIED when the caller has no entry; the token is validated
//    (common::ValidateJwtSvid) against the JWT authorities of the caller's TrustedDomains only
//    (own zones and their peers: a token of a non-peer zone is rejected); any validation
//    failure is INVALID_ARGUMENT with the reason. Returns the SPIFFE ID and all claims.
//  - FetchWITSVID / FetchWITBundles (wit_handlers.cc, wit_streams.h): streams like the ones
//    above. FetchWITSVID: INVALID_ARGUMENT "invalid requested SPIFFE ID: ..." for a malformed
//    spiffe_id; PERMISSION_DENIED when the agent has synced and the caller has no entry with
//    the requested ID (or none at all). Opening the stream marks the served entries as wanting
//    WIT-SVIDs (IdentityCache::RequestWitSvids); the agent's WitRotator mints them and renews
//    them at half-life, and every new one is pushed. Until the first arrives the stream waits.
//  - spinel.v1.WitSvids/MintWitSvidForKey (served by WitSvidsService on the same socket): a
//    WIT-SVID bound to the caller's own key, after the key proof (common/wit_key_proof.h);
//    contract in common/proto/wit_svids.proto. UNIMPLEMENTED without options.wit_minter.
//
// Threads: handlers run on gRPC's callback threads and only do quick work; attestation and
// minting run on an internal WorkQueue; streams are updated by a StreamHub dispatcher thread.
// Shutdown order: Shutdown() (finishes open streams with UNAVAILABLE), then
// grpc::Server::Shutdown, then destroy the service (joins its threads). The cache, minter,
// registry and clock must outlive the service.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "agent/jwt_minter.h"
#include "agent/wit_minter.h"
#include "agent/workload_api/jwt_svid_cache.h"
#include "agent/workload_api/peer_registry.h"
#include "agent/workload_api/stream_hub.h"
#include "agent/workload_api/work_queue.h"
#include "common/clock.h"
#include "common/replay_cache.h"
#include "common/selector.h"
#include "wit_svids.grpc.pb.h"
#include "workload.grpc.pb.h"

namespace spinel::agent {

// Turns a caller's peer credentials into its selectors (the agent passes its workload
// attestors). Called on the service's worker threads, concurrently; must be thread-safe.
using CallerAttestor = std::function<absl::StatusOr<common::SelectorSet>(const ProcessInfo& peer)>;

struct WorkloadServiceOptions {
  // true (default): a stream opened by a caller that matches no entry (once the agent has
  // synced) ends at once with PERMISSION_DENIED, as the spec and SPIRE do. false: it stays open
  // and silent until an identity exists. Either way a caller whose entry waits for its first
  // SVID is held until the SVID arrives (snapshot_stream.h).
  bool deny_streams_without_identity = true;
  size_t worker_threads = 4;
  size_t jwt_cache_entries = JwtSvidCache::kDefaultMaxEntries;
  // How often (real time) open streams are checked for SVIDs that expired since last sent.
  std::chrono::milliseconds expiry_check_interval{1000};
  // Mints WIT-SVIDs for workloads' own keys (MintWitSvidForKey); null: that RPC is refused.
  // Not owned; must outlive the service.
  WitMinter* wit_minter = nullptr;
};

inline constexpr size_t kMaxAudiences = 32;
inline constexpr size_t kMaxAudienceBytes = 1024;

class WorkloadService final : public ::SpiffeWorkloadAPI::CallbackService {
 public:
  WorkloadService(IdentityCache& cache, JwtMinter& minter, CallerAttestor attestor,
                  PeerRegistry& peers, const common::Clock& clock,
                  WorkloadServiceOptions options = {});
  ~WorkloadService() override;

  // Finishes every open stream with UNAVAILABLE and refuses new streams. Idempotent.
  void Shutdown();
  size_t open_streams() const { return hub_.size(); }
  const JwtSvidCache& jwt_cache() const { return jwt_cache_; }

  grpc::ServerWriteReactor<::X509SVIDResponse>* FetchX509SVID(
      grpc::CallbackServerContext* context, const ::X509SVIDRequest* request) override;
  grpc::ServerWriteReactor<::X509BundlesResponse>* FetchX509Bundles(
      grpc::CallbackServerContext* context, const ::X509BundlesRequest* request) override;
  grpc::ServerWriteReactor<::JWTBundlesResponse>* FetchJWTBundles(
      grpc::CallbackServerContext* context, const ::JWTBundlesRequest* request) override;
  grpc::ServerUnaryReactor* FetchJWTSVID(grpc::CallbackServerContext* context,
                                         const ::JWTSVIDRequest* request,
                                         ::JWTSVIDResponse* response) override;
  grpc::ServerUnaryReactor* ValidateJWTSVID(grpc::CallbackServerContext* context,
                                            const ::ValidateJWTSVIDRequest* request,
                                            ::ValidateJWTSVIDResponse* response) override;
  grpc::ServerWriteReactor<::WITSVIDResponse>* FetchWITSVID(
      grpc::CallbackServerContext* context, const ::WITSVIDRequest* request) override;
  grpc::ServerWriteReactor<::WITBundlesResponse>* FetchWITBundles(
      grpc::CallbackServerContext* context, const ::WITBundlesRequest* request) override;
  // spinel.v1.WitSvids (served through WitSvidsService).
  grpc::ServerUnaryReactor* MintWitSvidForKey(grpc::CallbackServerContext* context,
                                              const spinel::v1::MintWitSvidForKeyRequest* request,
                                              spinel::v1::MintWitSvidForKeyResponse* response);

 private:
  // OK, or the INVALID_ARGUMENT status for a missing/wrong security header.
  static grpc::Status CheckSecurityHeader(const grpc::CallbackServerContext& context);
  // The caller's credentials, or PERMISSION_DENIED when its connection is unknown.
  absl::StatusOr<ProcessInfo> Caller(const grpc::CallbackServerContext& context) const;
  // Runs the attestor; the selectors come back normalized.
  absl::StatusOr<common::SelectorSet> Attest(const ProcessInfo& peer) const;
  // Runs once the caller's selectors are known, before the stream is activated; an error
  // finishes the stream with it.
  using AttestedHook = std::function<absl::Status(const common::SelectorSet& selectors)>;
  // Registers `stream` and schedules its attestation, or finishes it with an error.
  void StartStream(grpc::CallbackServerContext* context, SnapshotStream* stream,
                   AttestedHook on_attested = nullptr);
  // FetchWITSVID's hook: the entitlement check and RequestWitSvids.
  absl::Status WantWitSvids(const common::SelectorSet& selectors, const std::string& spiffe_id);
  absl::Status MintForOwnKey(const common::SelectorSet& selectors,
                             const spinel::v1::MintWitSvidForKeyRequest& request,
                             spinel::v1::MintWitSvidForKeyResponse* response);

  // The body of a unary JWT call: the answer for an attested caller's selectors.
  using JwtCallHandler = std::function<absl::Status(const common::SelectorSet& selectors)>;
  // The preamble every unary JWT call shares: finishes at once with the first error among the
  // security header, `request_check` and the caller lookup; otherwise attests the caller on a
  // worker and finishes with `handle`'s status, clearing `response` on error. `handle` runs on
  // a worker thread while the call (its request and `response`) is alive.
  grpc::ServerUnaryReactor* ServeJwtCall(grpc::CallbackServerContext* context,
                                         const absl::Status& request_check,
                                         google::protobuf::Message* response,
                                         JwtCallHandler handle);
  absl::Status FetchJwtSvids(const common::SelectorSet& selectors, const ::JWTSVIDRequest& request,
                             ::JWTSVIDResponse* response);
  absl::Status ValidateJwt(const common::SelectorSet& selectors,
                           const ::ValidateJWTSVIDRequest& request,
                           ::ValidateJWTSVIDResponse* response) const;

  IdentityCache& cache_;
  const CallerAttestor attestor_;
  PeerRegistry& peers_;
  const common::Clock& clock_;
  const WorkloadServiceOptions options_;
  const StreamEnv env_;
  JwtSvidCache jwt_cache_;
  common::WptReplayCache wit_key_proofs_;  // jti of every accepted own-key proof
  StreamHub hub_;
  WorkQueue workers_;  // declared last: destroyed (drained) first
};

}  // namespace spinel::agent
