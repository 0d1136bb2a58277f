// X509Watcher: a workload holding one FetchX509SVID stream open on a spinel-agent's Workload
// API socket (real gRPC over the Unix socket, with the workload.spiffe.io header), checking
// every message as it arrives:
//   - the steady-clock time each SPIFFE ID was first delivered (propagation timing);
//   - every served leaf's notAfter against the wall clock at receipt: a leaf whose notAfter is
//     not in the future is counted as served expired;
//   - rotations: a SPIFFE ID delivered with a different leaf than before.
// The leaf's notAfter is read by walking the DER (common/der_reader.h), not with d2i_X509,
// so that watching thousands of SVIDs costs the watcher little.
// Thread-safe; one reader thread per watcher.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "workload.grpc.pb.h"

namespace spinel::bench {

// notAfter (unix seconds) of the first certificate in `chain_der` (DER, concatenated).
absl::StatusOr<int64_t> LeafNotAfter(std::string_view chain_der);

struct WatchStats {
  int64_t messages = 0;
  int64_t svids_checked = 0;     // SVIDs in all messages
  int64_t served_expired = 0;    // of those, not valid at receipt
  int64_t rotations = 0;         // a known SPIFFE ID arriving with a new leaf
  int64_t min_remaining_s = -1;  // least remaining lifetime of a served leaf (-1: none yet)
  size_t ids = 0;                // distinct SPIFFE IDs in the last message
  std::string error;             // how the stream ended, when it did with an error
};

class X509Watcher {
 public:
  explicit X509Watcher(std::string socket_path) : socket_path_(std::move(socket_path)) {}
  ~X509Watcher() { Stop(); }

  void Start();
  // Cancels the stream and joins the reader.
  void Stop();

  WatchStats Stats() const;
  std::optional<std::chrono::steady_clock::time_point> FirstSeen(const std::string& id) const;
  // Waits up to `timeout` for `id` to be delivered; its first delivery time.
  std::optional<std::chrono::steady_clock::time_point> WaitFor(
      const std::string& id, std::chrono::milliseconds timeout) const;
  // Waits up to `timeout` until the last message held at least `n` SVIDs.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) const;
  // True once the stream has ended.
  bool ended() const;

 private:
  void Read();
  void Check(const ::X509SVIDResponse& response);

  const std::string socket_path_;
  std::thread reader_;
  std::unique_ptr<grpc::ClientContext> context_;
  mutable spinel::common::Mutex mutex_;
  mutable spinel::common::CondVar changed_;
  WatchStats stats_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::chrono::steady_clock::time_point> seen_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, size_t> leaf_ ABSL_GUARDED_BY(mutex_);  // id -> hash of its chain
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;
};

// Opens an X509Watcher on `socket_path` and waits until a message holds at least `min_svids`
// SVIDs; reopens the stream when the agent refuses or ends it (e.g. before it has synced the
// caller's entries). DeadlineExceeded after `timeout`.
absl::StatusOr<std::unique_ptr<X509Watcher>> WatchWhenServed(const std::string& socket_path,
                                                             size_t min_svids,
                                                             std::chrono::milliseconds timeout);

}  // namespace spinel::bench
