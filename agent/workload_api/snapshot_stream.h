// SnapshotStream: one server-streaming Workload API call (FetchX509SVID, FetchX509Bundles,
// FetchJWTBundles) as a gRPC callback reactor, so that thousands of open streams need no thread
// each.
//
// Life of a stream:
//   1. the RPC handler creates it and, once the caller's selectors are known (attestation runs
//      on the service's WorkQueue), calls Activate(); an attestation error finishes the call;
//   2. Activate() and every later Poke() rebuild the caller's response from an IdentityCache
//      snapshot and send it only when its content (fingerprint) differs from what was last sent:
//      a rotated SVID, an added/removed entry or a changed bundle send one message; an unrelated
//      cache change sends none. At most one write is in flight; a Poke during a write marks the
//      stream dirty and the newest state is sent when the write completes;
//   3. the response is built at send time with the clock's now, so an expired SVID is never
//      sent; ExpiryDue() tells the hub when an SVID in the last message has expired, so the
//      stream is re-poked even if nothing else changes;
//   4. the call ends with Finish(): client cancellation, shutdown, or loss of identity.
//
// No identity (the caller matches no entry, or no entry with a usable SVID): gRPC cannot send
// PERMISSION_DENIED and keep the stream open (nothing can be sent after Finish), and an
// X509SVIDResponse without SVIDs is invalid (spec F7; go-spiffe rejects it). So:
//  - when the stream OPENS without an identity and the agent has synced and the caller matches
//    no entry, the stream is finished at once with PERMISSION_DENIED "no identity issued" (the
//    spec's and SPIRE's behaviour; clients retry with backoff) when StreamEnv::
//    deny_without_identity is set (the agent's default). Otherwise — not synced yet, a matching
//    entry still waiting for its SVID, or deny_without_identity unset — the stream stays open
//    and silent and its first message is sent as soon as an identity exists;
//  - when a caller that was sent an identity LOSES all of them (entry removed, SVID expired
//    without a successor), the stream is finished with PERMISSION_DENIED "no identity issued"
//    (spec F10: the client stops using them and reconnects; its next stream is held as above).
//
// Lifetime: reference-counted. gRPC holds one reference until OnDone; the hub and queued tasks
// take temporary references (Ref/Unref) while they use the stream; the last Unref deletes it.
// No write is started after Finish, and Finish is called exactly once.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/selector.h"

namespace spinel::agent {

// What every stream needs from the service. Must outlive the streams.
struct StreamEnv {
  IdentityCache& cache;
  const common::Clock& clock;
  bool deny_without_identity = false;
};

// What a response builder made of a snapshot for one caller.
struct BuiltResponse {
  bool has_identity = false;  // false: the caller is entitled to nothing; nothing was built
  std::string fingerprint;    // identifies the content; never contains secrets
  common::TimePoint next_expiry = common::TimePoint::max();  // earliest SVID expiry sent
};

class SnapshotStream {
 public:
  explicit SnapshotStream(const StreamEnv& env) : env_(env) {}
  virtual ~SnapshotStream() = default;
  SnapshotStream(const SnapshotStream&) = delete;
  SnapshotStream& operator=(const SnapshotStream&) = delete;

  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  // Called before the attestation is scheduled: until Activate(), a requested finish is
  // deferred, so the call (and the connection whose ProcessInfo the attestation uses)
  // stays alive while the attestation runs.
  void BeginActivation();
  // Called once, with the caller's normalized selectors or the attestation error (the call is
  // finished with that status, converted by common::ToGrpcStatus).
  void Activate(const absl::StatusOr<common::SelectorSet>& selectors);
  // Sends the caller's state in `snapshot` if it changed since the last message.
  void Poke(const CacheSnapshot& snapshot);
  // True when an SVID in the last message has expired at `now`.
  bool ExpiryDue(common::TimePoint now) const {
    return next_expiry_.load() <= now.time_since_epoch().count();
  }
  // Finishes the call with `status` (after any write in flight). Idempotent.
  void RequestFinish(const grpc::Status& status);
  // Called once from OnDone, before the gRPC reference is dropped (the hub unregisters).
  void SetOnDone(std::function<void(SnapshotStream*)> on_done) { on_done_ = std::move(on_done); }

 protected:
  // Builds the response for `selectors` into the stream's message buffer.
  virtual BuiltResponse Build(const CacheSnapshot& snapshot, const common::SelectorSet& selectors,
                              common::TimePoint now) = 0;
  virtual void StartWriteCall() = 0;
  virtual void FinishCall(const grpc::Status& status) = 0;
  // Clears secrets (private keys) from the message buffer once it is not needed any more.
  virtual void WipeMessage() {}

  // For the reactor's OnWriteDone / OnCancel / OnDone.
  void WriteDone(bool ok);
  void Cancelled();
  void Done();

 private:
  enum class Action { kNone, kWrite, kFinish };
  Action PokeLocked(const CacheSnapshot& snapshot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // True when a caller without identity is refused now rather than held (see above).
  bool DenyWithoutIdentity(const CacheSnapshot& snapshot) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Action RequestFinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Run(Action action);

  const StreamEnv env_;
  std::atomic<int> refs_{1};  // gRPC's reference, dropped in Done()
  std::atomic<common::Duration::rep> next_expiry_{
      common::TimePoint::max().time_since_epoch().count()};
  std::function<void(SnapshotStream*)> on_done_;

  common::Mutex mutex_;
  bool active_ ABSL_GUARDED_BY(mutex_) = false;      // selectors known
  bool activating_ ABSL_GUARDED_BY(mutex_) = false;  // attestation scheduled, Activate not yet run
  bool in_flight_ ABSL_GUARDED_BY(mutex_) = false;   // a write is outstanding
  bool dirty_ ABSL_GUARDED_BY(mutex_) = false;       // a Poke arrived during the write
  bool sent_any_ ABSL_GUARDED_BY(mutex_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mutex_) = false;
  // Finish called (or about to be, by the thread that set it).
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mutex_);  // set once, before finished_
  common::SelectorSet selectors_ ABSL_GUARDED_BY(mutex_);
  // Of the newest snapshot built from; older ones are ignored.
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;
  std::string last_fingerprint_ ABSL_GUARDED_BY(mutex_);
};

// The gRPC reactor for responses of type `Response`; subclasses implement Build().
template <typename Response>
class TypedSnapshotStream : public grpc::ServerWriteReactor<Response>, public SnapshotStream {
 public:
  explicit TypedSnapshotStream(const StreamEnv& env) : SnapshotStream(env) {}

  void OnWriteDone(bool ok) override { WriteDone(ok); }
  void OnCancel() override { Cancelled(); }
  void OnDone() override { Done(); }

 protected:
  void StartWriteCall() override { this->StartWrite(&message_); }
  void FinishCall(const grpc::Status& status) override { this->Finish(status); }

  Response message_;  // written only while no write is in flight
};

}  // namespace spinel::agent
