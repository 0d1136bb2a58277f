// The admin service's step-up approvals and audit log, over real components and a real gRPC
// channel (admin_harness.h): list/show/approve/deny with the operator taken from the
// spinel-operator metadata, audit events for every decision and operator mint, ListAuditEvents
// filters, and VerifyAudit on an intact and on a tampered SQLite file.
#include <doctest/doctest.h>

#include <chrono>
#include <limits>
#include <string>

#include "common/csr.h"
#include "common/keys.h"
#include "server/datastore/sqlite_datastore.h"
#include "tests/server/api/admin/admin_harness.h"
#include "trust-zones/approval.h"

using spinel::server::ApprovalRecord;
using spinel::server::testing::AdminHarness;
using spinel::server::testing::kToolsId;
using Stub = spinel::v1::AdminService::Stub;

namespace {

constexpr char kAgent[] = "spiffe://spinel.ai.example.org/spinel/agent/join_token/node-1";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A pending approval for `resource` in production, stored as CreateApproval would store it.
std::string StoreApproval(AdminHarness& h, const std::string& resource,
                          std::chrono::seconds ttl = std::chrono::minutes(10)) {
  spinel::zones::RequestContext context = {{"environment", "production"}, {"ticket", "CHG-7"}};
  auto binding = spinel::zones::ApprovalBinding::Make(kToolsId, resource, "invoke", context);
  REQUIRE(binding.ok());
  auto id = spinel::zones::NewApprovalId();
  REQUIRE(id.ok());
  auto request = spinel::zones::ApprovalRequest::Create(
      {*id, *binding, kAgent, "tool-execution", "tool-execution/production-deploys", ttl},
      h.fixture.clock);
  REQUIRE(request.ok());
  auto stored = h.fixture.datastore->CreateApproval(ApprovalRecord{*request, context});
  REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());
  return *id;
}

// A decision call as the CLI makes it: with the operator's user name as metadata.
grpc::Status Decide(AdminHarness& h, bool approve, const std::string& id, const std::string& reason,
                    spinel::v1::Approval* out, const std::string& user = "alice") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!user.empty()) context.AddMetadata("spinel-operator", user);
  spinel::v1::ApprovalDecisionRequest request;
  request.set_id(id);
  request.set_reason(reason);
  return approve ? h.stub->ApproveApproval(&context, request, out)
                 : h.stub->DenyApproval(&context, request, out);
}

spinel::v1::ListAuditEventsResponse Events(AdminHarness& h,
                                           const spinel::v1::ListAuditEventsRequest& request = {}) {
  spinel::v1::ListAuditEventsResponse response;
  grpc::Status status = h.Call(&Stub::ListAuditEvents, request, &response);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  return response;
}

spinel::v1::VerifyAuditResponse Verify(AdminHarness& h) {
  spinel::v1::VerifyAuditResponse response;
  REQUIRE(h.Call(&Stub::VerifyAudit, spinel::v1::Empty(), &response).ok());
  return response;
}

}  // namespace

TEST_CASE("admin approvals: list and show what is waiting, with its context") {
  AdminHarness h;
  const std::string deploy = StoreApproval(h, "tool:deploy.prod");
  h.fixture.clock.Advance(std::chrono::seconds(1));
  const std::string ticket = StoreApproval(h, "tool:jira.create_ticket");

  spinel::v1::ListApprovalsResponse list;
  REQUIRE(h.Call(&Stub::ListApprovals, spinel::v1::ListApprovalsRequest(), &list).ok());
  REQUIRE(list.approvals_size() == 2);
  CHECK(list.approvals(0).id() == ticket);  // newest first
  CHECK(list.approvals(1).id() == deploy);

  spinel::v1::ApprovalIdRequest show;
  show.set_id(deploy);
  spinel::v1::Approval approval;
  REQUIRE(h.Call(&Stub::GetApproval, show, &approval).ok());
  CHECK(approval.state() == "pending");
  CHECK(approval.subject() == kToolsId);
  CHECK(approval.resource() == "tool:deploy.prod");
  CHECK(approval.context().at("ticket") == "CHG-7");
  CHECK(approval.requesting_agent() == kAgent);
  CHECK(approval.rule_id() == "tool-execution/production-deploys");
  CHECK(approval.expires_at() == approval.created_at() + 600);

  show.set_id("apr-nope");
  grpc::Status missing = h.Call(&Stub::GetApproval, show, &approval);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Contains(missing.error_message(), "apr-nope"));

  spinel::v1::ListApprovalsRequest bad;
  bad.set_state("granted");
  grpc::Status refused = h.Call(&Stub::ListApprovals, bad, &list);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(refused.error_message(), "state: \"granted\""));

  // Expiry shows as a state, and the filter follows it.
  h.fixture.clock.Advance(std::chrono::minutes(10));
  spinel::v1::ListApprovalsRequest expired;
  expired.set_state("expired");
  REQUIRE(h.Call(&Stub::ListApprovals, expired, &list).ok());
  CHECK(list.approvals_size() == 2);
  CHECK(list.approvals(0).state() == "expired");
  expired.set_zone("training");
  REQUIRE(h.Call(&Stub::ListApprovals, expired, &list).ok());
  CHECK(list.approvals_size() == 0);
}

TEST_CASE("admin approvals: approve and deny record the operator and an audit event") {
  AdminHarness h;
  const std::string deploy = StoreApproval(h, "tool:deploy.prod");
  const std::string ticket = StoreApproval(h, "tool:jira.create_ticket");

  spinel::v1::Approval approved;
  REQUIRE(Decide(h, true, deploy, "change CHG-7 approved", &approved).ok());
  CHECK(approved.state() == "approved");
  CHECK(approved.decided_by() == "operator:alice");
  CHECK(approved.decision_reason() == "change CHG-7 approved");
  CHECK(approved.decided_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now()));

  // Deciding twice, denying without a reason, or an unknown id: refused, nothing changes.
  spinel::v1::Approval ignored;
  grpc::Status twice = Decide(h, false, deploy, "too late", &ignored, "bob");
  CHECK(twice.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(Contains(twice.error_message(), "approved, not pending"));
  grpc::Status no_reason = Decide(h, false, ticket, "", &ignored);
  CHECK(no_reason.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(no_reason.error_message(), "reason"));
  CHECK(Decide(h, true, "", "x", &ignored).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Decide(h, true, "apr-0", "x", &ignored).error_code() == grpc::StatusCode::NOT_FOUND);

  // Without (or with a malformed) operator name the decision is still attributed.
  spinel::v1::Approval denied;
  REQUIRE(Decide(h, false, ticket, "no change window", &denied, "bad name!").ok());
  CHECK(denied.state() == "denied");
  CHECK(denied.decided_by() == "operator:unknown");

  spinel::v1::ListAuditEventsResponse events = Events(h);
  REQUIRE(events.events_size() == 2);
  const spinel::v1::AuditEvent& a = events.events(0);
  CHECK(a.kind() == "approval.approved");
  CHECK(a.actor() == "operator:alice");
  CHECK(a.zone() == "tool-execution");
  CHECK(a.subject() == kToolsId);
  CHECK(a.outcome() == "ok");
  CHECK(a.reason() == "change CHG-7 approved");
  CHECK(Contains(a.details(), deploy));
  CHECK(events.events(1).kind() == "approval.denied");
  CHECK(events.events(1).outcome() == "DENY");
  CHECK(events.events(1).prev_hash() == a.hash());
}

TEST_CASE("admin audit: operator mints are audited, without the token") {
  AdminHarness h;
  spinel::v1::AdminMintJwtSvidRequest jwt;
  jwt.set_spiffe_id(kToolsId);
  jwt.add_audience("jira");
  spinel::v1::AdminMintJwtSvidResponse token;
  {
    grpc::ClientContext context;
    context.AddMetadata("spinel-operator", "carol");
    REQUIRE(h.stub->MintJwtSvid(&context, jwt, &token).ok());
  }
  auto key = spinel::common::PrivateKey::Generate();
  REQUIRE(key.ok());
  spinel::v1::MintX509SvidRequest x509;
  x509.set_spiffe_id(kToolsId);
  x509.set_csr(*spinel::common::CreateCsrDer(*key, *spinel::common::SpiffeId::Parse(kToolsId)));
  spinel::v1::MintX509SvidResponse svid;
  REQUIRE(h.Call(&Stub::MintX509Svid, x509, &svid).ok());

  spinel::v1::ListAuditEventsResponse events = Events(h);
  REQUIRE(events.events_size() == 2);
  const spinel::v1::AuditEvent& minted = events.events(0);
  CHECK(minted.kind() == "jwt_svid.issued");
  CHECK(minted.actor() == "operator:carol");
  CHECK(minted.zone() == "tool-execution");
  CHECK(minted.subject() == kToolsId);
  CHECK(Contains(minted.details(), "\"audience\":[\"jira\"]"));
  CHECK_FALSE(Contains(minted.details(), token.token()));
  const spinel::v1::AuditEvent& signed_x509 = events.events(1);
  CHECK(signed_x509.kind() == "x509_svid.issued");
  CHECK(signed_x509.actor() == "operator:unknown");
  auto leaf = spinel::common::Certificate::FromDer(svid.certificate_chain(0));
  REQUIRE(leaf.ok());
  CHECK(Contains(signed_x509.details(), "\"serial\":\"" + leaf->SerialHex() + "\""));
  CHECK(Contains(signed_x509.details(), "\"expires_at\":" + std::to_string(svid.expires_at())));
}

TEST_CASE("admin audit: list filters by zone, kind, time and limit (newest last)") {
  AdminHarness h;
  const auto start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            h.fixture.clock.Now().time_since_epoch())
                            .count();
  for (int i = 0; i < 4; ++i) {
    spinel::server::AuditEvent event;
    event.kind = i % 2 == 0 ? "authorize" : "x509_svid.issued";
    event.zone = i < 2 ? "inference" : "training";
    event.actor = "spiffe://spinel.ai.example.org/spinel/agent/join_token/node-1";
    REQUIRE(h.fixture.datastore->AppendAuditEvent(event).ok());
    h.fixture.clock.Advance(std::chrono::seconds(10));
  }
  spinel::v1::ListAuditEventsRequest request;
  request.set_zone("training");
  CHECK(Events(h, request).events_size() == 2);
  request.set_kind("authorize");
  REQUIRE(Events(h, request).events_size() == 1);
  CHECK(Events(h, request).events(0).sequence() == 3);

  spinel::v1::ListAuditEventsRequest since;
  since.set_since_ms(start_ms + 15'000);
  CHECK(Events(h, since).events_size() == 2);
  since.set_limit(1);
  REQUIRE(Events(h, since).events_size() == 1);
  CHECK(Events(h, since).events(0).sequence() == 4);

  spinel::v1::ListAuditEventsRequest bad;
  bad.set_limit(-1);
  spinel::v1::ListAuditEventsResponse ignored;
  grpc::Status refused = h.Call(&Stub::ListAuditEvents, bad, &ignored);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(refused.error_message(), "limit"));
  spinel::v1::ListAuditEventsRequest far;
  far.set_since_ms(std::numeric_limits<int64_t>::max());  // beyond what a TimePoint holds
  refused = h.Call(&Stub::ListAuditEvents, far, &ignored);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(refused.error_message(), "since_ms"));
}

TEST_CASE("admin audit: verify passes on an intact log and names an altered or removed event") {
  spinel::server::testing::TempDirectory dir;
  const std::string path = dir.path() + "/spinel.db";
  spinel::testing::FakeClock clock;
  auto opened = spinel::server::SqliteDatastore::Open(path, clock);
  REQUIRE(opened.ok());
  AdminHarness h(opened->get());

  spinel::v1::VerifyAuditResponse empty = Verify(h);
  CHECK(empty.ok());
  CHECK(empty.events() == 0);
  for (int i = 0; i < 5; ++i) {
    spinel::server::AuditEvent event;
    event.kind = "authorize";
    event.outcome = "ALLOW";
    event.reason = "event " + std::to_string(i + 1);
    REQUIRE((*opened)->AppendAuditEvent(event).ok());
  }
  spinel::v1::VerifyAuditResponse intact = Verify(h);
  CHECK(intact.ok());
  CHECK(intact.events() == 5);
  CHECK(intact.head_hash() == Events(h).events(4).hash());

  {
    auto raw = spinel::server::SqliteDb::Open(path, {});
    REQUIRE(raw.ok());
    REQUIRE(raw->Exec("DROP TRIGGER audit_events_no_update; "
                      "UPDATE audit_events SET outcome = 'DENY' WHERE sequence = 3;")
                .ok());
  }
  spinel::v1::VerifyAuditResponse altered = Verify(h);
  CHECK_FALSE(altered.ok());
  CHECK(altered.first_bad_sequence() == 3);
  CHECK(Contains(altered.problem(), "altered"));

  {
    auto raw = spinel::server::SqliteDb::Open(path, {});
    REQUIRE(raw.ok());
    REQUIRE(raw->Exec("UPDATE audit_events SET outcome = 'ALLOW' WHERE sequence = 3; "
                      "DROP TRIGGER audit_events_no_delete; "
                      "DELETE FROM audit_events WHERE sequence = 2;")
                .ok());
  }
  spinel::v1::VerifyAuditResponse removed = Verify(h);
  CHECK_FALSE(removed.ok());
  CHECK(removed.first_bad_sequence() == 2);
  CHECK(Contains(removed.problem(), "removed"));
}
