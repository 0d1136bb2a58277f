// PgChangeListener: the push of datastore changes between spinel-server replicas sharing one
// PostgreSQL database. Every PostgresDatastore write that records a change sends NOTIFY on
// kPgChangeChannel at commit; a listener holds its own connection with LISTEN on that channel
// and calls `on_change` (e.g. SyncHub::NotifyChanged) on its thread for each batch of
// notifications, within milliseconds of the other replica's commit.
//
// Robustness: when the connection fails (server restart, network), the listener reconnects
// with a bounded backoff (0.1 s doubling to 5 s) and calls `on_change` once after every
// (re)connect, since notifications sent while it was away are lost; callers recompute from the
// datastore, so a spurious call costs a recomputation only. `on_change` is also called once
// right after the first connect.
//
// Thread-safe; Stop() (or the destructor) joins the thread. `on_change` must not block long.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace spinel::server {

class PgChangeListener {
 public:
  // Starts listening on a new thread; never fails (a connection error is retried).
  PgChangeListener(std::string conninfo, std::string location, std::function<void()> on_change);
  ~PgChangeListener();
  PgChangeListener(const PgChangeListener&) = delete;
  PgChangeListener& operator=(const PgChangeListener&) = delete;

  void Stop();
  // Notification batches received so far (for tests and metrics).
  int64_t batches() const { return batches_.load(); }
  bool connected() const { return connected_.load(); }

 private:
  void Run();
  // Listens on one connection until it fails or Stop(); false when stopping.
  bool ListenOnce();
  // Sleeps up to `ms`, returning early (false) when stopping.
  bool Pause(int ms);

  const std::string conninfo_;
  const std::string location_;
  const std::function<void()> on_change_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> batches_{0};
  std::thread thread_;
};

}  // namespace spinel::server
