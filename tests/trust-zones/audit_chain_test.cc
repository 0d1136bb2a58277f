#include "trust-zones/audit_chain.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "common/sha256.h"

using namespace std::chrono_literals;
using spinel::zones::AuditEvent;
using spinel::zones::CanonicalEvent;
using spinel::zones::Chain;
using spinel::zones::ChainAfter;
using spinel::zones::ChainHead;
using spinel::zones::kGenesisHash;
using spinel::zones::VerifyChain;

namespace {

// A chain of `n` events, sequence 1..n.
std::vector<AuditEvent> MakeChain(int n) {
  std::vector<AuditEvent> events;
  for (int i = 1; i <= n; ++i) {
    AuditEvent e;
    e.time = spinel::common::FromUnixSeconds(1'800'000'000) + i * 1500ms;
    e.actor = "spiffe://control.ai.example.org/agent/node-1";
    e.zone = i % 2 ? "tool-execution" : "inference";
    e.subject = "spiffe://tools.ai.example.org/runner";
    e.kind = "authorize";
    e.outcome = i % 3 ? "ALLOW" : "DENY";
    e.reason = "rule tool-execution/invoke-tools allows invoke on tool:jira.x";
    e.details = R"({"resource":"tool:jira.x","action":"invoke"})";
    REQUIRE(ChainAfter(events.empty() ? nullptr : &events.back(), e).ok());
    events.push_back(std::move(e));
  }
  return events;
}

std::string Verify(const std::vector<AuditEvent>& events) {
  absl::StatusOr<ChainHead> head = VerifyChain(events);
  if (head.ok()) return "OK";
  CHECK(head.status().code() == absl::StatusCode::kDataLoss);
  return std::string(head.status().message());
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a valid chain verifies and reports its head") {
  std::vector<AuditEvent> events = MakeChain(6);
  CHECK(events[0].sequence == 1);
  CHECK(events[0].prev_hash == kGenesisHash);
  CHECK(events[3].prev_hash == events[2].hash);
  absl::StatusOr<ChainHead> head = VerifyChain(events);
  REQUIRE(head.ok());
  CHECK(head->sequence == 6);
  CHECK(head->hash == events.back().hash);
  // Empty chain: the genesis head.
  head = VerifyChain({});
  REQUIRE(head.ok());
  CHECK(head->sequence == 0);
  CHECK(head->hash == kGenesisHash);
}

TEST_CASE("the canonical form is unambiguous and covers every field") {
  AuditEvent a;
  a.actor = "ab";
  a.zone = "c";
  AuditEvent b;
  b.actor = "a";
  b.zone = "bc";
  CHECK(CanonicalEvent(a) != CanonicalEvent(b));
  // Time counts at millisecond precision: sub-millisecond storage rounding changes nothing.
  AuditEvent c = a;
  c.time += 300us;
  CHECK(CanonicalEvent(a) == CanonicalEvent(c));
  c.time += 1ms;
  CHECK(CanonicalEvent(a) != CanonicalEvent(c));
  CHECK(Chain(a, "not-a-hash").code() == absl::StatusCode::kInvalidArgument);
  CHECK(Chain(a, kGenesisHash).ok());
  CHECK(a.hash.size() == 64);
}

TEST_CASE("editing any field of event k names event k") {
  struct Case {
    const char* what;
    void (*edit)(AuditEvent&);
  };
  const Case cases[] = {
      {"time", [](AuditEvent& e) { e.time += 1s; }},
      {"actor", [](AuditEvent& e) { e.actor += "x"; }},
      {"zone", [](AuditEvent& e) { e.zone = "training"; }},
      {"subject", [](AuditEvent& e) { e.subject = "spiffe://x/y"; }},
      {"kind", [](AuditEvent& e) { e.kind = "x509_svid.issued"; }},
      {"outcome",
       [](AuditEvent& e) {
         e.outcome = "ALLOW";
         e.outcome += "!";
       }},
      {"reason", [](AuditEvent& e) { e.reason.clear(); }},
      {"details", [](AuditEvent& e) { e.details = "{}"; }},
      {"hash", [](AuditEvent& e) { e.hash[0] = e.hash[0] == 'a' ? 'b' : 'a'; }},
  };
  for (int k = 1; k <= 5; ++k) {
    for (const Case& c : cases) {
      CAPTURE(k);
      CAPTURE(c.what);
      std::vector<AuditEvent> events = MakeChain(5);
      c.edit(events[k - 1]);
      const std::string message = Verify(events);
      CHECK(Contains(message, "audit chain broken at event " + std::to_string(k) + ": "));
      // A forged hash breaks at k itself; a content edit is reported as "altered".
      if (std::string(c.what) != "hash") CHECK(Contains(message, "altered"));
    }
  }
}

TEST_CASE("re-hashing an edited event moves the break to the next event") {
  std::vector<AuditEvent> events = MakeChain(5);
  events[2].reason = "forged";
  REQUIRE(Chain(events[2], events[2].prev_hash).ok());
  CHECK(Contains(Verify(events),
                 "broken at event 4: its prev_hash does not match the hash of "
                 "event 3"));
}

TEST_CASE("an edited sequence number or prev_hash is detected at that event") {
  std::vector<AuditEvent> events = MakeChain(5);
  events[2].sequence = 9;
  CHECK(Contains(Verify(events), "broken at event 3: altered: its sequence number"));
  events = MakeChain(5);
  events[2].prev_hash = events[0].hash;
  CHECK(Contains(Verify(events), "broken at event 3: altered"));
}

TEST_CASE("deleting event k names event k") {
  for (int k = 1; k <= 5; ++k) {
    CAPTURE(k);
    std::vector<AuditEvent> events = MakeChain(5);
    events.erase(events.begin() + (k - 1));
    const std::string message = Verify(events);
    if (k == 5) {
      // Removing the newest event leaves a valid, shorter chain: only the head shows it.
      CHECK(message == "OK");
      CHECK(VerifyChain(events)->sequence == 4);
    } else {
      CHECK(Contains(message, "broken at event " + std::to_string(k) + ": removed"));
    }
  }
  std::vector<AuditEvent> events = MakeChain(6);
  events.erase(events.begin() + 1, events.begin() + 3);  // events 2 and 3
  CHECK(Contains(Verify(events), "broken at event 2: removed, with the events up to 3"));
}

TEST_CASE("deleting event k and renumbering the rest still fails") {
  std::vector<AuditEvent> events = MakeChain(5);
  events.erase(events.begin() + 2);
  for (size_t i = 2; i < events.size(); ++i) --events[i].sequence;
  CHECK(Contains(Verify(events), "broken at event 3: altered"));
}

TEST_CASE("reordering is detected") {
  std::vector<AuditEvent> events = MakeChain(5);
  std::swap(events[1], events[2]);
  CHECK(Contains(Verify(events), "broken at event 2: reordered: event 3 is stored before it"));
  events = MakeChain(5);
  std::rotate(events.begin(), events.begin() + 1, events.end());  // 2 3 4 5 1
  CHECK(Contains(Verify(events), "broken at event 1: reordered"));
  events = MakeChain(5);
  events.push_back(events[2]);  // a duplicate appended
  CHECK(Contains(Verify(events), "broken at event 3: reordered or duplicated"));
}

TEST_CASE("events without a delegation hash exactly as version 1 did") {
  // An independent rendering of the version 1 canonical form (audit_chain.h).
  AuditEvent e = MakeChain(1)[0];
  auto net = [](const std::string& s) { return std::to_string(s.size()) + ":" + s + ","; };
  const std::string v1 = net("spinel-audit-v1") + net("1") + net("1800000001500") + net(e.actor) +
                         net(e.zone) + net(e.subject) + net(e.kind) + net(e.outcome) +
                         net(e.reason) + net(e.details);
  CHECK(CanonicalEvent(e) == v1);
  CHECK(e.hash == *spinel::common::Sha256Hex(std::string(kGenesisHash) + v1));
}

TEST_CASE("delegated events record user and chain in a version 2 form that chains with v1") {
  std::vector<AuditEvent> events = MakeChain(2);
  AuditEvent d = events.back();
  d.user_issuer = "https://idp.example.org";
  d.user = "alice";
  d.actor_chain = {"spiffe://tools.ai.example.org/runner",
                   "spiffe://inference.ai.example.org/agent"};
  REQUIRE(ChainAfter(&events.back(), d).ok());
  auto net = [](const std::string& s) { return std::to_string(s.size()) + ":" + s + ","; };
  const std::string canonical = CanonicalEvent(d);
  CHECK(canonical.starts_with(net("spinel-audit-v2")));
  CHECK(canonical.ends_with(net(d.user_issuer) + net("alice") +
                            net(net(d.actor_chain[0]) + net(d.actor_chain[1]))));
  events.push_back(d);
  CHECK(Verify(events) == "OK");

  // Each delegation field is covered by the hash.
  for (int field = 0; field < 4; ++field) {
    CAPTURE(field);
    std::vector<AuditEvent> edited = events;
    AuditEvent& e = edited.back();
    if (field == 0) e.user = "bob";
    if (field == 1) e.user_issuer = "https://other.example.org";
    if (field == 2) e.actor_chain.pop_back();
    if (field == 3) std::swap(e.actor_chain[0], e.actor_chain[1]);
    CHECK(Contains(Verify(edited), "broken at event 3: altered"));
  }
  // Chains that concatenate alike still differ.
  AuditEvent a = d;
  a.actor_chain = {"ab", "c"};
  AuditEvent b = d;
  b.actor_chain = {"a", "bc"};
  CHECK(CanonicalEvent(a) != CanonicalEvent(b));
  // Stripping the delegation off a v2 event is detected.
  std::vector<AuditEvent> stripped = events;
  stripped.back().user.clear();
  stripped.back().user_issuer.clear();
  stripped.back().actor_chain.clear();
  CHECK(Contains(Verify(stripped), "broken at event 3: altered"));
}
