// SimAgent: one simulated spinel-agent for load generation. It speaks the agent API exactly as
// spinel-agent does (agent/server_client.h, agent/server_trust.h): join-token attestation with
// a node-made key (ServerClient::AttestJoinToken), then mTLS with its agent SVID on its own
// channel (verifying the server as spiffe://<control-td>/spinel/server against the control
// bundle). One process runs many: the Sync stream uses gRPC's callback API, so a thousand
// agents need no thousand threads.
//
// Sync: StartSync() opens the stream; every SyncUpdate is applied to the agent's entry set
// (a full snapshot replaces it, otherwise entries are added/updated and removed ids dropped),
// and the steady-clock time each entry id was first seen is kept (fan-out timing).
// ExpectEntries(n) arms FullAt(): the time the set first held at least n entries.
//
// SignCsrs(): one SignX509Svids call on the raw stub; the response is counted, not parsed into
// certificates (the load generator must not spend its CPU on d2i_X509).
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "agent.grpc.pb.h"
#include "agent/server_trust.h"
#include "common/mutex.h"

namespace spinel::bench {

using SteadyTime = std::chrono::steady_clock::time_point;

class SimAgent {
 public:
  // Attests at `address` with `join_token`, trusting the control bundle `control_pem`.
  static absl::StatusOr<std::unique_ptr<SimAgent>> Attest(const std::string& address,
                                                          const std::string& control_pem,
                                                          const std::string& join_token);
  ~SimAgent();
  SimAgent(const SimAgent&) = delete;
  SimAgent& operator=(const SimAgent&) = delete;

  const std::string& id() const { return id_; }

  // One SignX509Svids call; the number of SVIDs signed (refusals are an error naming the
  // first).
  absl::StatusOr<int> SignCsrs(const spinel::v1::SignX509SvidsRequest& request);

  // Opens the Sync stream (no-op when open). StopSync() cancels it and waits for its end.
  void StartSync();
  void StopSync();
  // Set before StartSync (or any time): FullAt() is when the set first held >= n entries.
  void ExpectEntries(size_t n);

  size_t EntryCount() const;
  bool snapshot_received() const;
  std::optional<SteadyTime> FullAt() const;
  std::optional<SteadyTime> FirstSeen(const std::string& entry_id) const;
  // Waits up to `timeout` for `entry_id` to be seen; its first-seen time.
  std::optional<SteadyTime> WaitForEntry(const std::string& entry_id,
                                         std::chrono::milliseconds timeout) const;
  // The status the last Sync stream ended with (OK while open or never opened).
  absl::Status sync_status() const;

 private:
  class SyncReactor;
  SimAgent(std::string id, std::shared_ptr<spinel::v1::AgentService::Stub> stub);
  void Apply(const spinel::v1::SyncUpdate& update);
  void SyncEnded(const absl::Status& status);

  const std::string id_;
  std::shared_ptr<spinel::v1::AgentService::Stub> stub_;
  mutable spinel::common::Mutex mutex_;
  mutable spinel::common::CondVar changed_;
  std::unique_ptr<SyncReactor> reactor_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, SteadyTime> first_seen_ ABSL_GUARDED_BY(mutex_);  // every id ever seen
  std::map<std::string, bool> current_ ABSL_GUARDED_BY(mutex_);           // ids held now
  size_t expected_ ABSL_GUARDED_BY(mutex_) = 0;
  std::optional<SteadyTime> full_at_ ABSL_GUARDED_BY(mutex_);
  bool snapshot_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Status sync_status_ ABSL_GUARDED_BY(mutex_);
};

// Fresh P-256 keys and CSRs (DER) for `spiffe_id`, made before a timed run so the load
// generator does not spend the measured time on key generation.
absl::StatusOr<std::vector<std::string>> MakeCsrs(const std::string& spiffe_id, int count);

}  // namespace spinel::bench
