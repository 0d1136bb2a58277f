// The Workload API over a real Unix socket, with the generated C++ stub: security header,
// X509-SVID content, entitlement, the no-identity behaviour (WIT-SVIDs: workload_wit_test.cc).
#include <doctest/doctest.h>

#include "common/certificate.h"
#include "common/x509_svid_validator.h"
#include "tests/agent/workload_api/workload_api_fixture.h"

namespace spinel::testing {
namespace {

using agent::WorkloadServiceOptions;

constexpr char kModelId[] = "spiffe://inference.example.org/model-server";

// Verifies one X509SVID as a go-spiffe client would: key matches the leaf, chain verifies
// against the SVID's own bundle.
void CheckSvid(const ::X509SVID& svid, const std::string& want_id, common::TimePoint now) {
  CHECK(svid.spiffe_id() == want_id);
  auto own = common::ParseOwnX509Svid(svid.x509_svid(), svid.x509_svid_key());
  REQUIRE_MESSAGE(own.ok(), own.status().ToString());
  CHECK(own->id.ToString() == want_id);
  auto bundle = common::Certificate::ParseDerChain(svid.bundle());
  REQUIRE(bundle.ok());
  common::X509AuthorityMap authorities;
  authorities.Set(own->id.trust_domain(), *bundle);
  auto verified = common::VerifyX509SvidDer(svid.x509_svid(), authorities, now);
  CHECK_MESSAGE(verified.ok(), verified.status().ToString());
}

TEST_CASE("Workload API: every method refuses a call without the security header") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  auto stub = world.Stub();
  const std::string kMessage = "security header missing from request";

  auto stream = WorkloadApiWorld::X509Stream(*stub, /*with_header=*/false);
  auto done = stream->WaitDone();
  REQUIRE(done.has_value());
  CHECK(done->error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(done->error_message() == kMessage);
  CHECK(stream->count() == 0);

  for (const char* value : {"", "false", "True"}) {
    grpc::ClientContext context;
    if (*value != '\0') context.AddMetadata("workload.spiffe.io", value);
    ::JWTSVIDRequest request;
    request.add_audience("a");
    ::JWTSVIDResponse response;
    grpc::Status status = stub->FetchJWTSVID(&context, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == kMessage);
  }
  {
    grpc::ClientContext context;  // two values: refused too
    context.AddMetadata("workload.spiffe.io", "true");
    context.AddMetadata("workload.spiffe.io", "true");
    ::ValidateJWTSVIDRequest request;
    request.set_audience("a");
    request.set_svid("x");
    ::ValidateJWTSVIDResponse response;
    CHECK(stub->ValidateJWTSVID(&context, request, &response).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    ::WITSVIDRequest request;
    auto reader = stub->FetchWITSVID(&context, request);
    ::WITSVIDResponse response;
    CHECK_FALSE(reader->Read(&response));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  CHECK(world.attestations.load() == 0);
}

TEST_CASE("Workload API: a registered caller gets its X509-SVID, key and bundle") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)}, "internal");
  world.PutEntry("e2", "spiffe://inference.example.org/dup-hint", {UidSelector(world.uid)},
                 "internal");
  world.PutEntry("e3", "spiffe://training.example.org/trainer", {UidSelector(world.uid)});
  world.Sync();
  agent::X509SvidRecord first = world.Issue("e1");
  world.Issue("e2");
  world.Issue("e3");

  auto stub = world.Stub();
  auto stream = WorkloadApiWorld::X509Stream(*stub);
  REQUIRE(stream->WaitForCount(1));
  ::X509SVIDResponse message = stream->message(0);
  // e2 repeats the non-empty hint of e1: dropped (spec F8, keep the first).
  REQUIRE(message.svids_size() == 2);
  CheckSvid(message.svids(0), kModelId, world.clock.Now());
  CHECK(message.svids(0).hint() == "internal");
  CHECK(message.svids(0).x509_svid() == common::ConcatDer(first.chain));
  CHECK(first.chain.size() == 2);  // leaf + intermediate
  CheckSvid(message.svids(1), "spiffe://training.example.org/trainer", world.clock.Now());
  CHECK(message.svids(1).bundle() == world.zone("training").root.cert().ToDer());
  // inference peers with retrieval; training with nobody.
  REQUIRE(message.federated_bundles_size() == 1);
  CHECK(message.federated_bundles().at("spiffe://retrieval.example.org") ==
        world.zone("retrieval").root.cert().ToDer());
  CHECK(world.last_attested_pid.load() == ::getpid());
}

TEST_CASE("Workload API: a caller whose selectors match no entry is not served") {
  WorkloadApiWorld world;
  world.PutEntry("other", kModelId, {UidSelector(world.uid + 1)});
  world.Sync();
  world.Issue("other");
  auto stub = world.Stub();

  ::JWTSVIDResponse jwt;
  grpc::Status status = world.FetchJwt({"svc"}, &jwt);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(jwt.svids_size() == 0);
  ::ValidateJWTSVIDResponse validated;
  CHECK(world.Validate("svc", "a.b.c", &validated).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  // Default (the spec's behaviour): streams end at once with PermissionDenied.
  auto stream = WorkloadApiWorld::X509Stream(*stub);
  auto done = stream->WaitDone();
  REQUIRE(done.has_value());
  CHECK(done->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(done->error_message() == "no identity issued");
}

TEST_CASE("Workload API: without deny_streams_without_identity such streams are held open") {
  WorkloadServiceOptions options;
  options.deny_streams_without_identity = false;
  WorkloadApiWorld world(options);
  world.PutEntry("other", kModelId, {UidSelector(world.uid + 1)});
  world.Sync();
  auto stream = WorkloadApiWorld::X509Stream(*world.Stub());
  CHECK_FALSE(stream->WaitForCount(1, 300ms));
  CHECK_FALSE(stream->WaitDone(1ms).has_value());

  // The identity that appears later reaches the open stream.
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  REQUIRE(stream->WaitForCount(1));
  CheckSvid(stream->message(0).svids(0), kModelId, world.clock.Now());
}

TEST_CASE("Workload API: a synced agent refuses a caller that matches no entry at once") {
  WorkloadApiWorld world;
  world.PutEntry("other", kModelId, {UidSelector(world.uid + 1)});
  world.Sync();
  auto stub = world.Stub();
  auto stream = WorkloadApiWorld::X509Stream(*stub);
  auto done = stream->WaitDone();
  REQUIRE(done.has_value());
  CHECK(done->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(done->error_message() == "no identity issued");
  auto bundles = WorkloadApiWorld::X509BundlesStream(*stub);
  REQUIRE(bundles->WaitDone().has_value());
  CHECK(bundles->WaitDone()->error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("Workload API: a stream whose entry waits for its SVID is held until it arrives") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();  // the entry alone (no SVID yet) gives nothing to send, and is no refusal
  auto stub = world.Stub();
  auto stream = WorkloadApiWorld::X509Stream(*stub);
  CHECK_FALSE(stream->WaitForCount(1, 200ms));
  CHECK_FALSE(stream->WaitDone(1ms).has_value());
  world.Issue("e1");
  REQUIRE(stream->WaitForCount(1));
  CheckSvid(stream->message(0).svids(0), kModelId, world.clock.Now());

  // Losing every identity ends the stream with PermissionDenied (spec F10).
  world.RemoveEntry("e1");
  world.Sync();
  auto done = stream->WaitDone();
  REQUIRE(done.has_value());
  CHECK(done->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(stream->count() == 1);
}

TEST_CASE("Workload API: a rotation pushes exactly one message; unrelated changes push none") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.PutEntry("other", "spiffe://training.example.org/other", {UidSelector(world.uid + 1)});
  world.Sync();
  world.Issue("e1");
  world.Issue("other");
  auto stub = world.Stub();
  auto stream = WorkloadApiWorld::X509Stream(*stub);
  REQUIRE(stream->WaitForCount(1));

  // Unrelated: another caller's SVID rotates, another caller's entry appears, the bundle of a
  // zone that is not a peer changes, a no-op resync.
  world.Issue("other");
  world.PutEntry("other2", "spiffe://inference.example.org/other2", {UidSelector(world.uid + 1)});
  world.zone("training").sequence++;
  world.Sync();
  world.Sync();
  CHECK_FALSE(stream->WaitForCount(2, 300ms));

  const std::string old_serial =
      common::Certificate::ParseDerChain(stream->message(0).svids(0).x509_svid())
          ->at(0)
          .SerialHex();
  world.clock.Advance(30min);
  agent::X509SvidRecord rotated = world.Issue("e1");
  REQUIRE(stream->WaitForCount(2));
  CHECK_FALSE(stream->WaitForCount(3, 300ms));
  ::X509SVIDResponse message = stream->message(1);
  REQUIRE(message.svids_size() == 1);
  auto leaf = common::Certificate::ParseDerChain(message.svids(0).x509_svid());
  REQUIRE(leaf.ok());
  CHECK(leaf->at(0).SerialHex() == rotated.chain[0].SerialHex());
  CHECK(leaf->at(0).SerialHex() != old_serial);
  CheckSvid(message.svids(0), kModelId, world.clock.Now());

  // A peer's bundle change is the caller's business: one message.
  world.zone("retrieval").sequence++;
  world.zone("retrieval").root = TestCa::Root("retrieval.example.org", world.clock.Now());
  world.Sync();
  REQUIRE(stream->WaitForCount(3));
  CHECK_FALSE(stream->WaitForCount(4, 300ms));
  CHECK(stream->message(2).federated_bundles().at("spiffe://retrieval.example.org") ==
        world.zone("retrieval").root.cert().ToDer());
}

TEST_CASE("Workload API: an expired SVID is never sent") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.PutEntry("e2", "spiffe://inference.example.org/long", {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1", 10min);
  world.Issue("e2", 2h);
  auto stub = world.Stub();
  auto stream = WorkloadApiWorld::X509Stream(*stub);
  REQUIRE(stream->WaitForCount(1));
  CHECK(stream->message(0).svids_size() == 2);

  world.clock.Advance(11min);  // e1's SVID expires; nobody told the cache
  REQUIRE(stream->WaitForCount(2));
  REQUIRE(stream->message(1).svids_size() == 1);
  CHECK(stream->message(1).svids(0).spiffe_id() == "spiffe://inference.example.org/long");

  auto fresh = WorkloadApiWorld::X509Stream(*stub);
  REQUIRE(fresh->WaitForCount(1));
  CHECK(fresh->message(0).svids_size() == 1);
}

TEST_CASE("Workload API: X.509 and JWT bundle streams serve own and peer zones only") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  auto stub = world.Stub();
  auto x509 = WorkloadApiWorld::X509BundlesStream(*stub);
  auto jwt = WorkloadApiWorld::JwtBundlesStream(*stub);
  REQUIRE(x509->WaitForCount(1));  // an entry suffices; no SVID needed for bundles
  REQUIRE(jwt->WaitForCount(1));

  ::X509BundlesResponse bundles = x509->message(0);
  REQUIRE(bundles.bundles_size() == 2);
  CHECK(bundles.bundles().at("spiffe://inference.example.org") ==
        world.zone("inference").root.cert().ToDer());
  CHECK(bundles.bundles().at("spiffe://retrieval.example.org") ==
        world.zone("retrieval").root.cert().ToDer());

  ::JWTBundlesResponse jwks = jwt->message(0);
  REQUIRE(jwks.bundles_size() == 2);
  for (const auto& [td, json] : jwks.bundles()) {
    auto doc = nlohmann::json::parse(json);
    REQUIRE(doc["keys"].size() == 1);
    CHECK(doc["keys"][0]["use"] == "jwt-svid");
    CHECK_FALSE(doc["keys"][0].contains("x5c"));
  }
  CHECK(nlohmann::json::parse(jwks.bundles().at(
            "spiffe://inference.example.org"))["keys"][0]["kid"] == "kid-inference");

  world.zone("training").sequence++;  // not a peer: nothing
  world.Sync();
  CHECK_FALSE(x509->WaitForCount(2, 300ms));
  CHECK_FALSE(jwt->WaitForCount(2, 1ms));
  auto key = common::PrivateKey::Generate();
  REQUIRE(key.ok());
  world.zone("inference").jwt_key = std::move(*key);  // a JWT key change: only the JWT stream
  world.Sync();
  REQUIRE(jwt->WaitForCount(2));
  CHECK_FALSE(x509->WaitForCount(2, 300ms));
}

TEST_CASE("Workload API: stopping the server ends open streams with Unavailable") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  auto stub = world.Stub();
  auto served = WorkloadApiWorld::X509Stream(*stub);
  auto held = WorkloadApiWorld::JwtBundlesStream(*world.Stub());
  REQUIRE(served->WaitForCount(1));
  auto started = std::chrono::steady_clock::now();
  world.server_->Stop();
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  REQUIRE(served->WaitDone().has_value());
  CHECK(served->WaitDone()->error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_FALSE(std::filesystem::exists(world.socket_path));
}

}  // namespace
}  // namespace spinel::testing
