// Contract tests for bundles and the audit log, run against every backend.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/datastore/datastore.h"
#include "tests/server/datastore/datastore_test_util.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server::testing {
namespace {

constexpr char kBundleV1[] = R"({"keys":[{"use":"x509-svid"}],"spiffe_sequence":1})";
constexpr char kBundleV2[] = R"({"keys":[],"spiffe_sequence":2})";

TEST_CASE_TEMPLATE("bundles: set, get, list, delete", B, SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  const common::TrustDomain inference = Td("inference.example.org");
  auto set = ds.SetBundle({inference, kBundleV1, 1, 0});
  REQUIRE_MESSAGE(set.ok(), std::string(set.status().message()));
  CHECK(set->updated_at == 1'800'000'000);
  CHECK(*ds.GetBundle(inference) == *set);

  backend.clock.Advance(std::chrono::seconds(5));
  auto replaced = ds.SetBundle({inference, kBundleV2, 2, 0});
  REQUIRE(replaced.ok());
  CHECK(ds.GetBundle(inference)->bundle_json == kBundleV2);
  CHECK(ds.GetBundle(inference)->updated_at == 1'800'000'005);

  REQUIRE(ds.SetBundle({Td("acme.com"), "{}", 0, 0}).ok());
  auto all = ds.ListBundles();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].trust_domain.name() == "acme.com");
  CHECK((*all)[1].sequence == 2);

  CHECK(ds.DeleteBundle(Td("acme.com")).ok());
  auto gone = ds.GetBundle(Td("acme.com"));
  CHECK(gone.status().code() == absl::StatusCode::kNotFound);
  CHECK(gone.status().message() == "bundle of \"acme.com\" not found");
  CHECK(ds.DeleteBundle(Td("acme.com")).code() == absl::StatusCode::kNotFound);
}

TEST_CASE_TEMPLATE("bundles: never roll back; unchanged writes wake nobody; JSON checked", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  const common::TrustDomain td = Td("inference.example.org");
  REQUIRE(ds.SetBundle({td, kBundleV2, 2, 0}).ok());
  const int64_t revision = *ds.CurrentRevision();

  auto stale = ds.SetBundle({td, kBundleV1, 1, 0});
  CHECK(stale.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(stale.status().message(), "inference.example.org"));
  CHECK(ds.GetBundle(td)->sequence == 2);

  CHECK(ds.SetBundle({td, kBundleV2, 2, 0}).ok());
  CHECK(*ds.CurrentRevision() == revision);

  for (const char* bad : {"", "[1]", "{not json", "\"s\""}) {
    CAPTURE(bad);
    CHECK(ds.SetBundle({td, bad, 3, 0}).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ds.SetBundle({{}, "{}", 1, 0}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE_TEMPLATE("audit: appends are numbered and hash-chained; listing filters", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  const char* zones[] = {"inference", "training", "inference", "tools"};
  const common::TimePoint t0 = common::FromUnixSeconds(1'800'000'000);
  for (int i = 0; i < 4; ++i) {
    AuditEvent e = Audit("x509_svid.issued", "ok", zones[i]);
    e.time = t0 + std::chrono::microseconds(10'000'000 * i + 1'234);  // kept to the millisecond
    e.actor = "spiffe://control.example.org/spinel/agent/join_token/a1";
    e.subject = "spiffe://inference.example.org/w";
    e.details = R"({"selectors":["unix:uid:1000"]})";
    e.sequence = 99;  // assigned by the datastore, as are the hashes
    e.prev_hash = e.hash = "ignored";
    auto stored = ds.AppendAuditEvent(e);
    REQUIRE_MESSAGE(stored.ok(), std::string(stored.status().message()));
    CHECK(stored->sequence == static_cast<uint64_t>(i + 1));
    CHECK(stored->time == t0 + std::chrono::milliseconds(10'000 * i + 1));
    CHECK(stored->hash == *zones::ComputeEventHash(*stored));
  }
  auto all = ds.ListAuditEvents({});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 4);
  CHECK((*all)[0].prev_hash == zones::kGenesisHash);
  CHECK((*all)[2].details == R"({"selectors":["unix:uid:1000"]})");
  for (size_t i = 1; i < all->size(); ++i) CHECK((*all)[i].prev_hash == (*all)[i - 1].hash);
  auto head = zones::VerifyChain(*all);
  REQUIRE(head.ok());
  CHECK(head->sequence == 4);

  auto inference = ds.ListAuditEvents({.zone = "inference"});
  REQUIRE(inference->size() == 2);
  CHECK((*inference)[0].sequence == 1);
  CHECK((*inference)[1].sequence == 3);
  CHECK(ds.ListAuditEvents({.since = t0 + std::chrono::seconds(20)})->front().sequence == 3);
  auto page = ds.ListAuditEvents({.after_sequence = 1, .limit = 2});
  REQUIRE(page->size() == 2);
  CHECK(page->back().sequence == 3);

  auto now = ds.AppendAuditEvent(Audit("no time given"));
  REQUIRE(now.ok());
  CHECK(now->time == t0);  // the fake clock
  CHECK(now->sequence == 5);
  CHECK(ds.AppendAuditEvent(Audit("")).status().code() == absl::StatusCode::kInvalidArgument);
  AuditEvent control = Audit("x");
  control.subject = "\x01";
  CHECK(ds.AppendAuditEvent(control).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ds.ListAuditEvents({})->size() == 5);
}

TEST_CASE_TEMPLATE("audit: concurrent appends keep one unbroken chain", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ds, t] {
      for (int i = 0; i < 25; ++i) {
        AuditEvent e = Audit("authorize");
        e.actor = std::to_string(t);
        CHECK(ds.AppendAuditEvent(e).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = ds.ListAuditEvents({});
  REQUIRE(all->size() == 100);
  CHECK(zones::VerifyChain(*all).ok());
}

}  // namespace
}  // namespace spinel::server::testing
