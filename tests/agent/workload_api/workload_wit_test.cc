// WIT-SVIDs on the Workload API (agent/workload_api/wit_handlers.cc, wit_streams.h) with the
// agent's WitRotator: FetchWITSVID and FetchWITBundles over a real Unix socket (security
// header, entitlement, spiffe_id filter, half-life rotation pushed on the open stream), and
// spinel.v1.WitSvids/MintWitSvidForKey for a workload that keeps its own key.
#include <doctest/doctest.h>

#include "agent/wit_rotator.h"
#include "common/private_jwk.h"
#include "common/wit_key_proof.h"
#include "common/wpt.h"
#include "common/wpt_verifier.h"
#include "tests/agent/workload_api/workload_api_fixture.h"
#include "tests/support/wait_for.h"
#include "wit_svids.grpc.pb.h"

namespace spinel::testing {
namespace {

constexpr char kModelId[] = "spiffe://inference.example.org/model-server";
constexpr char kRetrieverId[] = "spiffe://inference.example.org/retriever-client";

std::unique_ptr<StreamCollector<::WITSVIDResponse>> WitStream(::SpiffeWorkloadAPI::Stub& stub,
                                                              const std::string& spiffe_id = "",
                                                              bool with_header = true) {
  auto request = std::make_shared<::WITSVIDRequest>();
  request->set_spiffe_id(spiffe_id);
  return std::make_unique<StreamCollector<::WITSVIDResponse>>(
      [&stub, request](grpc::ClientContext* context,
                       grpc::ClientReadReactor<::WITSVIDResponse>* r) {
        stub.async()->FetchWITSVID(context, request.get(), r);
      },
      with_header);
}

std::unique_ptr<StreamCollector<::WITBundlesResponse>> WitBundlesStream(
    ::SpiffeWorkloadAPI::Stub& stub, bool with_header = true) {
  static const ::WITBundlesRequest request;
  return std::make_unique<StreamCollector<::WITBundlesResponse>>(
      [&stub](grpc::ClientContext* context, grpc::ClientReadReactor<::WITBundlesResponse>* r) {
        stub.async()->FetchWITBundles(context, &request, r);
      },
      with_header);
}

// The WIT bundles of the world's zones, as a validator would hold them.
common::BundleSet ZoneBundles(WorkloadApiWorld& world) {
  common::BundleSet set;
  for (const char* name : {"inference", "retrieval", "training"}) {
    REQUIRE(set.Put(world.zone(name).MakeBundle()).ok());
  }
  return set;
}

// Checks one WITSVID as an independent workload would: the WIT validates against the zone's
// WIT keys, the private JWK is the cnf key's private half with the same alg, and a WPT made
// with it is accepted by a verifier.
void CheckWit(WorkloadApiWorld& world, const ::WITSVID& svid, const std::string& want_id) {
  CHECK(svid.spiffe_id() == want_id);
  common::BundleSet bundles = ZoneBundles(world);
  const auto now = world.clock.Now();
  auto wit = common::ValidateWitSvid(svid.wit_svid(), bundles, now);
  REQUIRE_MESSAGE(wit.ok(), wit.status().ToString());
  CHECK(wit->subject.ToString() == want_id);
  auto jwk = nlohmann::json::parse(svid.wit_svid_key());
  CHECK(jwk["alg"] == "ES256");
  CHECK(jwk.contains("d"));
  auto key = common::PrivateKeyFromJwk(svid.wit_svid_key());
  REQUIRE_MESSAGE(key.ok(), key.status().ToString());
  CHECK(key->Public()->Equals(wit->confirmation.key));
  common::WptReplayCache replay;
  common::WptVerifier verifier(bundles, replay);
  auto wpt = common::CreateWpt(svid.wit_svid(), *key, {.audience = "https://svc.example/api"}, now);
  REQUIRE_MESSAGE(wpt.ok(), wpt.status().ToString());
  auto proven = verifier.Verify({svid.wit_svid(), *wpt, "https://svc.example/api", {}}, now);
  CHECK_MESSAGE(proven.ok(), proven.status().ToString());
}

}  // namespace

TEST_CASE("WIT: an entitled caller gets a WIT-SVID with its key pair, pushed once minted") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  agent::WitRotator rotator(world.cache, world.wit_minter, world.clock, 10);
  auto stub = world.Stub();
  auto stream = WitStream(*stub);
  // Nothing was asked for before the stream opened: nothing is minted for unasked entries.
  REQUIRE(WaitFor([&] { return world.cache.Snapshot()->entries.front().wit_wanted; }));
  CHECK_FALSE(stream->WaitForCount(1, 200ms));
  CHECK(rotator.RunOnce().renewed == 1);
  REQUIRE(stream->WaitForCount(1));
  ::WITSVIDResponse message = stream->message(0);
  REQUIRE(message.svids_size() == 1);
  CheckWit(world, message.svids(0), kModelId);
}

TEST_CASE("WIT: rotation at half-life pushes a new WIT-SVID with a fresh key on the open stream") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  agent::WitRotator rotator(world.cache, world.wit_minter, world.clock, 10);
  auto stub = world.Stub();
  auto stream = WitStream(*stub);
  REQUIRE(WaitFor([&] { return world.cache.Snapshot()->entries.front().wit_wanted; }));
  rotator.RunOnce();
  REQUIRE(stream->WaitForCount(1));
  world.clock.Advance(20min);  // before half of the 1h lifetime (with jitter: >= 27m)
  CHECK(rotator.RunOnce().renewed == 0);
  CHECK_FALSE(stream->WaitForCount(2, 200ms));
  world.clock.Advance(15min);  // 35m: past half-life (at most 33m)
  CHECK(rotator.RunOnce().renewed == 1);
  REQUIRE(stream->WaitForCount(2));
  ::WITSVID first = stream->message(0).svids(0);
  ::WITSVID second = stream->message(1).svids(0);
  CHECK(first.wit_svid() != second.wit_svid());
  CHECK(nlohmann::json::parse(first.wit_svid_key())["x"] !=
        nlohmann::json::parse(second.wit_svid_key())["x"]);
  CheckWit(world, second, kModelId);
}

TEST_CASE("WIT: spiffe_id filter, PermissionDenied and the security header") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.PutEntry("e2", kRetrieverId, {UidSelector(world.uid)});
  world.PutEntry("other", "spiffe://training.example.org/x", {UidSelector(world.uid + 1)});
  world.Sync();
  agent::WitRotator rotator(world.cache, world.wit_minter, world.clock, 10);
  auto stub = world.Stub();

  auto filtered = WitStream(*stub, kRetrieverId);
  REQUIRE(WaitFor([&] { return world.cache.Snapshot()->entries[1].wit_wanted; }));  // e2
  CHECK_FALSE(world.cache.Snapshot()->entries[0].wit_wanted);
  CHECK(rotator.RunOnce().renewed == 1);  // only the requested identity was asked for
  REQUIRE(filtered->WaitForCount(1));
  REQUIRE(filtered->message(0).svids_size() == 1);
  CHECK(filtered->message(0).svids(0).spiffe_id() == kRetrieverId);

  auto all = WitStream(*stub);
  REQUIRE(WaitFor([&] {
    return world.cache.Snapshot()->entries[0].wit_wanted &&
           world.cache.Snapshot()->entries[1].wit_wanted;
  }));
  CHECK(rotator.RunOnce().renewed == 1);  // e1; e2 already has one
  CHECK(WaitFor(
      [&] { return all->count() >= 1 && all->message(all->count() - 1).svids_size() == 2; }, 10s));

  auto not_entitled = WitStream(*stub, "spiffe://training.example.org/x");
  auto denied = not_entitled->WaitDone();
  REQUIRE(denied.has_value());
  CHECK(denied->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  auto malformed = WitStream(*stub, "not-a-spiffe-id");
  REQUIRE(malformed->WaitDone().has_value());
  CHECK(malformed->WaitDone()->error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  auto no_header = WitStream(*stub, "", /*with_header=*/false);
  REQUIRE(no_header->WaitDone().has_value());
  CHECK(no_header->WaitDone()->error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(no_header->WaitDone()->error_message() == "security header missing from request");
  auto bundles_no_header = WitBundlesStream(*stub, /*with_header=*/false);
  REQUIRE(bundles_no_header->WaitDone().has_value());
  CHECK(bundles_no_header->WaitDone()->error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("WIT: a caller with no entry is refused") {
  WorkloadApiWorld world;
  world.PutEntry("other", kModelId, {UidSelector(world.uid + 1)});
  world.Sync();
  auto stub = world.Stub();
  auto stream = WitStream(*stub);
  REQUIRE(stream->WaitDone().has_value());
  CHECK(stream->WaitDone()->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  auto bundles = WitBundlesStream(*stub);
  REQUIRE(bundles->WaitDone().has_value());
  CHECK(bundles->WaitDone()->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_FALSE(world.cache.Snapshot()->entries.front().wit_wanted);
}

TEST_CASE("WIT bundles: only wit-svid keys, of the caller's zone, its peers and federations") {
  WorkloadApiWorld world;
  world.AddForeign("partner", "partner.example.com");
  world.zone("inference").federates_with = {"partner.example.com"};
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  auto stub = world.Stub();
  auto stream = WitBundlesStream(*stub);
  REQUIRE(stream->WaitForCount(1));
  ::WITBundlesResponse message = stream->message(0);
  std::set<std::string> domains;
  for (const auto& [td, jwks] : message.bundles()) domains.insert(td);
  // Own zone, its peer retrieval, the federated partner; not training (no relation).
  CHECK(domains == std::set<std::string>{"spiffe://inference.example.org",
                                         "spiffe://partner.example.com",
                                         "spiffe://retrieval.example.org"});
  auto inference = nlohmann::json::parse(message.bundles().at("spiffe://inference.example.org"));
  REQUIRE(inference["keys"].size() == 1);
  CHECK(inference["keys"][0]["kid"] == "wit-inference");
  CHECK(inference["keys"][0]["use"] == "wit-svid");
  auto partner = nlohmann::json::parse(message.bundles().at("spiffe://partner.example.com"));
  REQUIRE(partner["keys"].size() == 1);
  CHECK(partner["keys"][0]["kid"] == "wit-partner");

  // A WIT key change of the zone pushes a new message.
  auto key = common::PrivateKey::Generate();
  world.zone("inference").wit_key = std::make_shared<const common::PrivateKey>(std::move(*key));
  world.Sync();
  REQUIRE(stream->WaitForCount(2));
}

TEST_CASE("own key: a proof of possession gets a WIT-SVID bound to the workload's key") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  auto channel =
      grpc::CreateChannel("unix://" + world.socket_path, grpc::InsecureChannelCredentials());
  auto stub = spinel::v1::WitSvids::NewStub(channel);
  auto key = *common::PrivateKey::Generate();
  const auto alg = common::JwsAlgorithm::kEs256;
  const std::string public_jwk = common::ConfirmationJwk({*key.Public(), alg})->dump();
  auto call = [&](const std::string& proof, const std::string& jwk, const std::string& id,
                  spinel::v1::MintWitSvidForKeyResponse* response, bool header = true) {
    grpc::ClientContext context;
    if (header) WorkloadApiWorld::AddHeader(context);
    spinel::v1::MintWitSvidForKeyRequest request;
    request.set_spiffe_id(id);
    request.set_public_jwk(jwk);
    request.set_proof(proof);
    return stub->MintWitSvidForKey(&context, request, response);
  };
  const auto now = world.clock.Now();
  const std::string proof = *common::CreateWitKeyProof(key, alg, "", now);
  spinel::v1::MintWitSvidForKeyResponse response;
  grpc::Status ok = call(proof, public_jwk, "", &response);
  REQUIRE_MESSAGE(ok.ok(), ok.error_message());
  CHECK(response.spiffe_id() == kModelId);
  common::BundleSet bundles = ZoneBundles(world);
  auto wit = common::ValidateWitSvid(response.wit_svid(), bundles, now);
  REQUIRE_MESSAGE(wit.ok(), wit.status().ToString());
  CHECK(wit->confirmation.key.Equals(*key.Public()));

  // The same proof again: replayed.
  grpc::Status replayed = call(proof, public_jwk, "", &response);
  CHECK(replayed.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(replayed.error_message().find("replayed") != std::string::npos);
  // A proof made with another key than the one to bind.
  auto other = *common::PrivateKey::Generate();
  grpc::Status wrong_key =
      call(*common::CreateWitKeyProof(other, alg, "", now), public_jwk, "", &response);
  CHECK(wrong_key.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // A proof for the default identity used to ask for a named one.
  grpc::Status wrong_sub =
      call(*common::CreateWitKeyProof(key, alg, "", now), public_jwk, kModelId, &response);
  CHECK(wrong_sub.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // An expired proof.
  grpc::Status expired =
      call(*common::CreateWitKeyProof(key, alg, "", now - 2min), public_jwk, "", &response);
  CHECK(expired.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // An identity the caller does not have; no security header.
  const std::string other_id = "spiffe://training.example.org/x";
  CHECK(call(*common::CreateWitKeyProof(key, alg, other_id, now), public_jwk, other_id, &response)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(call(*common::CreateWitKeyProof(key, alg, "", now), public_jwk, "", &response, false)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // A private JWK is never accepted as the key to bind.
  const std::string private_jwk(common::PrivateKeyToJwk(key, alg)->view());
  CHECK(call(*common::CreateWitKeyProof(key, alg, "", now), private_jwk, "", &response)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace spinel::testing
