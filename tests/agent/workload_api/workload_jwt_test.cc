// FetchJWTSVID / ValidateJWTSVID over a real socket, and the JwtSvidCache.
#include <doctest/doctest.h>

#include "agent/workload_api/jwt_svid_cache.h"
#include "tests/agent/workload_api/workload_api_fixture.h"

namespace spinel::testing {
namespace {

constexpr char kModelId[] = "spiffe://inference.example.org/model-server";

std::string MintFor(WorkloadApiWorld& world, const std::string& zone, const std::string& id,
                    const std::string& audience) {
  auto spiffe_id = common::SpiffeId::Parse(id);
  REQUIRE(spiffe_id.ok());
  auto signer = common::JwtSvidSigner::Create(spiffe_id->trust_domain(), world.zone(zone).jwt_key,
                                              world.zone(zone).kid);
  REQUIRE(signer.ok());
  common::JwtSvidClaims claims;
  claims.subject = *spiffe_id;
  claims.audience = {audience};
  claims.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(world.clock.Now());
  claims.expires_at = claims.issued_at + 5min;
  auto token = (*signer)->Mint(claims);
  REQUIRE(token.ok());
  return *token;
}

TEST_CASE("Workload API: FetchJWTSVID and ValidateJWTSVID round trip") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)}, "internal");
  world.Sync();

  ::JWTSVIDResponse fetched;
  grpc::Status status = world.FetchJwt({"spiffe://retrieval.example.org/db", "extra"}, &fetched);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  REQUIRE(fetched.svids_size() == 1);
  CHECK(fetched.svids(0).spiffe_id() == kModelId);
  CHECK(fetched.svids(0).hint() == "internal");
  const std::string token = fetched.svids(0).svid();

  ::ValidateJWTSVIDResponse validated;
  status = world.Validate("extra", token, &validated);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(validated.spiffe_id() == kModelId);
  const auto& fields = validated.claims().fields();
  CHECK(fields.at("sub").string_value() == kModelId);
  REQUIRE(fields.at("aud").list_value().values_size() == 2);
  CHECK(fields.at("exp").number_value() > 0);

  ::ValidateJWTSVIDResponse wrong;
  status = world.Validate("someone-else", token, &wrong);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("aud") != std::string::npos);
  CHECK(wrong.spiffe_id().empty());

  status = world.Validate("extra", "not-a-token", &wrong);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(world.Validate("", token, &wrong).error_message() == "audience must be specified");
  CHECK(world.Validate("extra", "", &wrong).error_message() == "svid must be specified");
}

TEST_CASE("Workload API: ValidateJWTSVID trusts only the caller's zone and its peers") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();

  ::ValidateJWTSVIDResponse response;
  const std::string peer = MintFor(world, "retrieval", "spiffe://retrieval.example.org/db", "me");
  grpc::Status status = world.Validate("me", peer, &response);
  CHECK_MESSAGE(status.ok(), status.error_message());
  CHECK(response.spiffe_id() == "spiffe://retrieval.example.org/db");

  const std::string stranger =
      MintFor(world, "training", "spiffe://training.example.org/trainer", "me");
  status = world.Validate("me", stranger, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("not trusted by the caller") != std::string::npos);

  // A workload that also holds a training identity trusts training too.
  world.PutEntry("e2", "spiffe://training.example.org/trainer", {UidSelector(world.uid)});
  world.Sync();
  status = world.Validate("me", stranger, &response);
  CHECK_MESSAGE(status.ok(), status.error_message());
}

TEST_CASE("Workload API: FetchJWTSVID request checks and entitlement") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.PutEntry("e2", "spiffe://retrieval.example.org/retriever", {UidSelector(world.uid)});
  world.PutEntry("x", "spiffe://inference.example.org/not-mine", {UidSelector(world.uid + 1)});
  world.Sync();
  ::JWTSVIDResponse response;

  grpc::Status status = world.FetchJwt({}, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "audience must be specified");
  CHECK(world.FetchJwt({""}, &response).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(world.FetchJwt(std::vector<std::string>(100, "a"), &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  status = world.FetchJwt({"a"}, &response, "spiffe://Bad/ID");
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("invalid requested SPIFFE ID: ", 0) == 0);

  status = world.FetchJwt({"a"}, &response, "spiffe://inference.example.org/not-mine");
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);

  response.Clear();
  status = world.FetchJwt({"a"}, &response);  // all entitled identities
  REQUIRE(status.ok());
  REQUIRE(response.svids_size() == 2);
  CHECK(response.svids(0).spiffe_id() == kModelId);
  CHECK(response.svids(1).spiffe_id() == "spiffe://retrieval.example.org/retriever");

  response.Clear();
  status = world.FetchJwt({"a"}, &response, "spiffe://retrieval.example.org/retriever");
  REQUIRE(status.ok());
  REQUIRE(response.svids_size() == 1);
  CHECK(response.svids(0).spiffe_id() == "spiffe://retrieval.example.org/retriever");

  world.minter.set_fail(true);
  status = world.FetchJwt({"fresh-audience"}, &response);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("Workload API: JWT-SVIDs are cached per identity and audience set until half-life") {
  WorkloadApiWorld world;  // the minter's tokens live 5 minutes
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  ::JWTSVIDResponse first, second, third, other;
  REQUIRE(world.FetchJwt({"a", "b"}, &first).ok());
  REQUIRE(world.FetchJwt({"b", "a", "a"}, &second).ok());
  CHECK(first.svids(0).svid() == second.svids(0).svid());
  CHECK(world.minter.mints() == 1);
  REQUIRE(world.FetchJwt({"a"}, &other).ok());
  CHECK(world.minter.mints() == 2);

  world.clock.Advance(2min);
  REQUIRE(world.FetchJwt({"a", "b"}, &third).ok());
  CHECK(third.svids(0).svid() == first.svids(0).svid());
  world.clock.Advance(31s);  // past half of 5 minutes
  REQUIRE(world.FetchJwt({"a", "b"}, &third).ok());
  CHECK(third.svids(0).svid() != first.svids(0).svid());
  CHECK(world.minter.mints() == 3);
}

TEST_CASE("WorkloadApi JwtSvidCache: bounded size evicts the least recently used") {
  FakeClock clock;
  TestJwtMinter minter(clock);
  auto key = common::PrivateKey::Generate();
  REQUIRE(key.ok());
  minter.AddKey(*common::TrustDomain::Parse("example.org"), *key, "k");
  agent::JwtSvidCache cache(minter, clock, 2);
  agent::CachedEntry entry;
  entry.id = "e";
  entry.spiffe_id = *common::SpiffeId::Parse("spiffe://example.org/w");

  auto a = cache.Get(entry, {"a"});
  REQUIRE(a.ok());
  REQUIRE(cache.Get(entry, {"b"}).ok());
  REQUIRE(cache.Get(entry, {"a"}).ok());  // a is now the most recent
  REQUIRE(cache.Get(entry, {"c"}).ok());  // evicts b
  CHECK(cache.size() == 2);
  CHECK(cache.mints() == 3);
  CHECK(cache.Get(entry, {"a"})->token == a->token);
  REQUIRE(cache.Get(entry, {"b"}).ok());
  CHECK(cache.mints() == 4);

  entry.revision = 7;  // an updated entry gets a fresh token
  CHECK(cache.Get(entry, {"a"})->token != a->token);
  minter.set_fail(true);
  CHECK(cache.Get(entry, {"zzz"}).status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace spinel::testing
