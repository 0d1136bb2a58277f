// AuditForwarder: batching, buffering while the server is unreachable, oldest-first drops with
// a reported count, time stamps from the injected clock, and the background thread.
#include "agent/authz/audit_forwarder.h"

#include <doctest/doctest.h>

#include <thread>

#include "tests/agent/authz/authz_fakes.h"
#include "tests/fakes/fake_clock.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuditInbox;
using spinel::testing::FakeClock;
using namespace std::chrono_literals;

v1::AuditEvent Event(int n) {
  v1::AuditEvent event;
  event.set_kind("authorize");
  event.set_outcome("ALLOW");
  event.set_reason("event " + std::to_string(n));
  return event;
}

int64_t Millis(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TEST_CASE("audit forwarder: events are stamped with the decision time and sent in batches") {
  FakeClock clock;
  AuditInbox inbox;
  AuditForwarder forwarder(inbox, clock, {.capacity = 100, .max_batch = 2});
  const int64_t first = Millis(clock.Now());
  forwarder.Record(Event(1));
  clock.Advance(1500ms);
  forwarder.Record(Event(2));
  v1::AuditEvent stamped = Event(3);
  stamped.set_time_ms(42);  // an explicit time is kept
  forwarder.Record(stamped);
  REQUIRE(forwarder.Flush().ok());
  REQUIRE(forwarder.Flush().ok());
  REQUIRE(forwarder.Flush().ok());  // nothing left: no call
  auto batches = inbox.batches();
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].events_size() == 2);
  CHECK(batches[1].events_size() == 1);
  CHECK(batches[0].events(0).time_ms() == first);
  CHECK(batches[0].events(1).time_ms() == first + 1500);
  CHECK(batches[1].events(0).time_ms() == 42);
  CHECK(batches[0].dropped() == 0);
  CHECK(inbox.calls() == 2);
  CHECK(forwarder.stats().sent == 3);
  CHECK(forwarder.stats().queued == 0);
}

TEST_CASE("audit forwarder: an unreachable server keeps events; a full buffer drops the oldest") {
  FakeClock clock;
  AuditInbox inbox;
  inbox.set_down(true);
  AuditForwarder forwarder(inbox, clock, {.capacity = 3, .max_batch = 10});
  for (int i = 1; i <= 5; ++i) forwarder.Record(Event(i));
  CHECK(forwarder.Flush().code() == absl::StatusCode::kUnavailable);
  CHECK(forwarder.Flush().code() == absl::StatusCode::kUnavailable);
  AuditForwarder::Stats stats = forwarder.stats();
  CHECK(stats.queued == 3);
  CHECK(stats.dropped == 2);
  CHECK(stats.dropped_unreported == 2);
  CHECK(stats.failed_sends == 2);
  CHECK(inbox.batches().empty());

  inbox.set_down(false);
  REQUIRE(forwarder.Flush().ok());
  auto batches = inbox.batches();
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].dropped() == 2);
  REQUIRE(batches[0].events_size() == 3);
  CHECK(batches[0].events(0).reason() == "event 3");  // 1 and 2 were the oldest
  CHECK(batches[0].events(2).reason() == "event 5");
  stats = forwarder.stats();
  CHECK(stats.dropped_unreported == 0);
  CHECK(stats.dropped == 2);

  // The drop count is reported once: the next batch carries 0.
  forwarder.Record(Event(6));
  REQUIRE(forwarder.Flush().ok());
  CHECK(inbox.batches().back().dropped() == 0);
}

TEST_CASE("audit forwarder: drops with an empty queue are still reported") {
  FakeClock clock;
  AuditInbox inbox;
  inbox.set_down(true);
  AuditForwarder forwarder(inbox, clock, {.capacity = 1, .max_batch = 1});
  forwarder.Record(Event(1));
  forwarder.Record(Event(2));  // drops event 1
  inbox.set_down(false);
  REQUIRE(forwarder.Flush().ok());
  CHECK(inbox.batches().back().dropped() == 1);
  CHECK(forwarder.stats().dropped_unreported == 0);
}

TEST_CASE("audit forwarder: the background thread delivers, retries after an outage, stops") {
  FakeClock clock;
  AuditInbox inbox;
  inbox.set_down(true);
  AuditForwarder forwarder(inbox, clock,
                           {.capacity = 10, .max_batch = 10, .retry_min = 10ms, .retry_max = 20ms});
  forwarder.Start();
  forwarder.Record(Event(1));
  forwarder.Record(Event(2));
  auto wait_until = [](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return done();
  };
  REQUIRE(wait_until([&] { return forwarder.stats().failed_sends >= 2; }));
  CHECK(forwarder.stats().queued == 2);
  inbox.set_down(false);
  REQUIRE(wait_until([&] { return forwarder.stats().sent == 2; }));
  CHECK(inbox.events().size() == 2);
  forwarder.Record(Event(3));
  REQUIRE(wait_until([&] { return forwarder.stats().sent == 3; }));
  forwarder.Stop();
  forwarder.Record(Event(4));  // after Stop: queued, never sent by a thread
  CHECK(forwarder.stats().sent == 3);
}

}  // namespace
}  // namespace spinel::agent
