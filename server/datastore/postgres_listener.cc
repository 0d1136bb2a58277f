#include "server/datastore/postgres_listener.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "common/log.h"
#include "common/strings.h"
#include "server/datastore/postgres_conn.h"
#include "server/datastore/postgres_session.h"

namespace spinel::server {
namespace {

constexpr int kPollMs = 100;  // how often a quiet listener checks for Stop()
constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 5000;

}  // namespace

PgChangeListener::PgChangeListener(std::string conninfo, std::string location,
                                   std::function<void(int64_t)> on_revision)
    : conninfo_(std::move(conninfo)),
      location_(std::move(location)),
      on_revision_(std::move(on_revision)) {
  thread_ = std::thread([this] { Run(); });
}

PgChangeListener::PgChangeListener(std::string conninfo, std::string location,
                                   std::function<void()> on_change)
    : PgChangeListener(std::move(conninfo), std::move(location),
                       [on_change = std::move(on_change)](int64_t) { on_change(); }) {}

PgChangeListener::~PgChangeListener() { Stop(); }

void PgChangeListener::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

bool PgChangeListener::Pause(int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= deadline) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void PgChangeListener::Run() {
  int backoff = kFirstBackoffMs;
  while (!stopping_) {
    const auto started = std::chrono::steady_clock::now();
    if (!ListenOnce()) return;
    // A connection that lived a while resets the backoff.
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(10)) {
      backoff = kFirstBackoffMs;
    }
    if (!Pause(backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoffMs);
  }
}

bool PgChangeListener::ListenOnce() {
  absl::StatusOr<PgConnection> conn = PgConnection::Connect(conninfo_, location_);
  absl::Status status =
      conn.ok() ? conn->Exec(common::StrCat("LISTEN ", kPgChangeChannel)) : conn.status();
  if (!status.ok()) {
    LOG_WARN("datastore change listener cannot listen; retrying",
             {{"error", std::string(status.message())}});
    return !stopping_;
  }
  connected_ = true;
  on_revision_(0);  // whatever changed while we were not listening
  PGconn* raw = conn->raw();
  while (!stopping_) {
    pollfd fd{PQsocket(raw), POLLIN, 0};
    if (poll(&fd, 1, kPollMs) < 0 && errno != EINTR) break;
    if (PQconsumeInput(raw) == 0) break;  // connection lost
    int received = 0;
    int64_t latest = 0;  // the payload is the change's revision
    while (PGnotify* n = PQnotifies(raw)) {
      ++received;
      latest = std::max<int64_t>(latest, std::strtoll(n->extra, nullptr, 10));
      PQfreemem(n);
    }
    if (received > 0) {
      ++batches_;
      on_revision_(latest);
    }
  }
  connected_ = false;
  if (!stopping_) {
    LOG_WARN("datastore change listener lost its connection; reconnecting",
             {{"database", location_}});
  }
  return !stopping_;
}

}  // namespace spinel::server
