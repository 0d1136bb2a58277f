// PgChangeListener: the push of datastore changes between spinel-server replicas sharing one
// PostgreSQL database. Every PostgresDatastore write that records a change sends NOTIFY on
// kPgChangeChannel at commit, with the change's revision; a listener holds its own connection
// with LISTEN on that channel and calls `on_revision` on its thread for each batch of
// notifications, with the highest revision in it, within milliseconds of the other replica's
// commit. The change feed (change_feed.h) then reads the change log since what it delivered;
// in the server only the change feed starts one.
//
// Robustness: when the connection fails (server restart, network), the listener reconnects
// with a bounded backoff (0.1 s doubling to 5 s) and calls `on_revision(0)` ("unknown: read
// the log") once after every (re)connect, since notifications sent while it was away are lost.
// It is also called so right after the first connect.
//
// Thread-safe; Stop() (or the destructor) joins the thread. `on_change` must not block long.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace spinel::server {

class PgChangeListener {
 public:
  // Starts listening on a new thread; never fails (a connection error is retried).
  PgChangeListener(std::string conninfo, std::string location,
                   std::function<void(int64_t revision)> on_revision);
  // As above, for a caller that needs no revision.
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
  const std::function<void(int64_t)> on_revision_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> batches_{0};
  std::thread thread_;
};

}  // namespace spinel::server
