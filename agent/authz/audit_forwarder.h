// AuditForwarder: sends the agent's decision audit events to the server asynchronously.
// Record() only queues (it never waits for the network); a background thread (Start) sends
// the queue in batches with AuditReporter::ReportAuditEvents as soon as events are there.
//
// Buffering: while the server is unreachable (a send fails), events stay queued and the thread
// retries with a backoff doubling from retry_min to retry_max. The queue holds at most
// `capacity` events; recording into a full queue drops the OLDEST event and counts it. The
// count of drops not yet reported goes with the next successful batch as `dropped` (and is
// then cleared); stats() keeps running totals. A batch is removed from the queue only after
// the server acknowledged it, so a failed send loses nothing.
//
// Time: events are stamped (time_ms) with the injected clock when recorded, so buffered events
// keep the time of the decision. The retry backoff waits in real time (it only paces retries).
//
// Flush() runs one send attempt on the caller's thread (the thread's own step; tests drive the
// forwarder with it without starting the thread). Stop() (also the destructor) wakes and joins
// the thread; events still queued then are logged as lost, not sent.
//
// Thread-safe: Record/Flush/stats from any thread; Start/Stop from the owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <thread>

#include "absl/status/status.h"
#include "agent/authz/audit_reporter.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "types.pb.h"

namespace spinel::agent {

struct AuditForwarderOptions {
  size_t capacity = 10000;  // agent config audit_buffer_size; at least 1
  size_t max_batch = 500;   // events per ReportAuditEvents call
  std::chrono::milliseconds retry_min{500};
  std::chrono::milliseconds retry_max{30000};
};

class AuditForwarder {
 public:
  struct Stats {
    size_t queued = 0;                // events waiting to be sent
    uint64_t sent = 0;                // events the server acknowledged
    uint64_t dropped = 0;             // events dropped since the start (buffer full)
    uint64_t dropped_unreported = 0;  // of those, not yet reported to the server
    uint64_t failed_sends = 0;        // send attempts that failed
  };

  AuditForwarder(AuditReporter& reporter, const common::Clock& clock,
                 AuditForwarderOptions options = {});
  ~AuditForwarder();
  AuditForwarder(const AuditForwarder&) = delete;
  AuditForwarder& operator=(const AuditForwarder&) = delete;

  // Queues `event`, setting time_ms to now when it is 0. Never blocks on the network.
  void Record(spinel::v1::AuditEvent event);
  // One send attempt of up to max_batch queued events (with the unreported drop count).
  // OK when the batch was acknowledged or there was nothing to send; else the send error, and
  // every event stays queued.
  absl::Status Flush() ABSL_LOCKS_EXCLUDED(mutex_, flush_mutex_);

  void Start();
  void Stop();

  Stats stats() const;

 private:
  void Run();

  AuditReporter& reporter_;
  const common::Clock& clock_;
  const AuditForwarderOptions options_;

  mutable common::Mutex mutex_;
  common::CondVar wake_;
  // Queued events with a local sequence number, oldest first.
  std::deque<std::pair<uint64_t, spinel::v1::AuditEvent>> queue_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mutex_) = 1;
  Stats stats_ ABSL_GUARDED_BY(mutex_);  // queued is computed
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  common::Mutex flush_mutex_;  // one send at a time
  std::thread thread_;
};

}  // namespace spinel::agent
