// ChangeWakeup (server/sync/change_wakeup.cc): which sync streams a batch of changes wakes.
// WakeupsFor is checked event by event; then batches go through a ChangeWakeup into a real
// SyncHub with subscribers that count their refreshes. No sleeps decide anything: after a
// batch meant to wake one subscriber, a second batch that wakes the other acts as a barrier
// (the hub runs its passes one after another), so when the other's refresh is seen, the first
// pass is over and the counts are final.
#include "server/sync/change_wakeup.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>

#include "tests/support/wait_for.h"

namespace spinel::server {
namespace {

constexpr char kServerId[] = "spiffe://spinel.ai.example.org/spinel/server";
constexpr char kAgentA[] = "spiffe://spinel.ai.example.org/agent/a";
constexpr char kAgentB[] = "spiffe://spinel.ai.example.org/agent/b";
constexpr char kGpuAlias[] = "spiffe://spinel.ai.example.org/nodes/gpu";

ChangeEvent EntryEvent(std::vector<std::string> parents, int64_t revision = 1) {
  return ChangeEvent{.revision = revision,
                     .kind = ChangeKind::kEntry,
                     .object_id = "e1",
                     .deleted = false,
                     .parent_ids = std::move(parents)};
}

ChangeEvent Event(ChangeKind kind) { return ChangeEvent{.revision = 1, .kind = kind}; }

Wakeups Of(std::vector<ChangeEvent> events, bool resync = false) {
  return WakeupsFor(ChangeBatch{std::move(events), resync}, kServerId);
}

// A hub subscriber that serves the entries of `parents` and counts its refreshes.
class CountingSubscriber final : public SyncSubscriber {
 public:
  explicit CountingSubscriber(std::set<std::string> parents) : parents_(std::move(parents)) {}
  void Refresh() override { refreshes_.fetch_add(1); }
  bool ConcernsParents(const std::set<std::string>& parent_ids) const override {
    for (const std::string& id : parent_ids) {
      if (parents_.count(id) > 0) return true;
    }
    return false;
  }
  int refreshes() const { return refreshes_.load(); }

 private:
  const std::set<std::string> parents_;
  std::atomic<int> refreshes_{0};
};

bool ReachesCount(const CountingSubscriber& subscriber, int count) {
  return spinel::testing::WaitFor([&] { return subscriber.refreshes() >= count; },
                                  std::chrono::seconds(10), std::chrono::milliseconds(2));
}

}  // namespace

TEST_CASE("change wakeup: entry events under known parents target those parents") {
  Wakeups created = Of({EntryEvent({kAgentA})});
  CHECK_FALSE(created.all);
  CHECK(created.parent_ids == std::set<std::string>{kAgentA});
  // An update names the old and the new parent; a batch unites its events' parents.
  Wakeups moved = Of({EntryEvent({kAgentA, kGpuAlias}), EntryEvent({kAgentB}, 2)});
  CHECK_FALSE(moved.all);
  CHECK(moved.parent_ids == std::set<std::string>{kAgentA, kAgentB, kGpuAlias});
  Wakeups none = Of({});
  CHECK_FALSE(none.all);
  CHECK(none.parent_ids.empty());
}

TEST_CASE("change wakeup: everything else wakes every stream") {
  // A node alias (parent: the server) changes which agents other entries reach.
  CHECK(Of({EntryEvent({kAgentA}), EntryEvent({kServerId}, 2)}).all);
  CHECK(Of({EntryEvent({})}).all);  // parents unknown
  for (ChangeKind kind :
       {ChangeKind::kAgent, ChangeKind::kBundle, ChangeKind::kFederation, ChangeKind::kZones}) {
    Wakeups wakeups = Of({EntryEvent({kAgentA}), Event(kind)});
    CHECK(wakeups.all);
    CHECK(wakeups.parent_ids.empty());
  }
  CHECK(Of({EntryEvent({kAgentA})}, /*resync=*/true).all);
}

TEST_CASE("change wakeup: batches wake exactly the concerned subscribers of a hub") {
  SyncHub hub;
  CountingSubscriber a({kAgentA});
  CountingSubscriber b({kAgentB, kGpuAlias});
  hub.Subscribe(&a);
  hub.Subscribe(&b);
  const ChangeWakeup wakeup(hub, kServerId);

  wakeup(ChangeBatch{{EntryEvent({kAgentA})}, false});
  REQUIRE(ReachesCount(a, 1));
  wakeup(
      ChangeBatch{{EntryEvent({kGpuAlias, "spiffe://spinel.ai.example.org/agent/gone"})}, false});
  REQUIRE(ReachesCount(b, 1));  // barrier: a's pass is over
  CHECK(a.refreshes() == 1);
  wakeup(ChangeBatch{{}, false});  // nothing changed, nothing woken
  wakeup(ChangeBatch{{EntryEvent({kAgentA})}, false});
  REQUIRE(ReachesCount(a, 2));
  // Every other kind of change wakes both.
  wakeup(ChangeBatch{{Event(ChangeKind::kZones)}, false});
  REQUIRE(ReachesCount(a, 3));
  REQUIRE(ReachesCount(b, 2));
  wakeup(ChangeBatch{{EntryEvent({kAgentB})}, false});
  REQUIRE(ReachesCount(b, 3));  // barrier
  CHECK(a.refreshes() == 3);
  CHECK(b.refreshes() == 3);
  hub.Unsubscribe(&a);
  hub.Unsubscribe(&b);
}

}  // namespace spinel::server
