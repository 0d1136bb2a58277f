// Federation through the Workload API over a real socket: a workload of a zone that
// federates_with a foreign trust domain gets that domain's bundle (the agent holds it once the
// server sent it) in federated_bundles, FetchX509Bundles and FetchJWTBundles, and
// ValidateJWTSVID accepts its JWT-SVIDs - exactly like a peer's - until the bundle is gone;
// a workload of a zone that does not federate never sees it.
#include <doctest/doctest.h>

#include "tests/agent/workload_api/workload_api_fixture.h"

namespace spinel::testing {
namespace {

constexpr char kModelId[] = "spiffe://inference.example.org/model-server";
constexpr char kTrainerId[] = "spiffe://training.example.org/trainer";
constexpr char kPartnerTd[] = "tools.partner.test";
constexpr char kPartnerKey[] = "spiffe://tools.partner.test";
constexpr char kPartnerTool[] = "spiffe://tools.partner.test/tool-runner";

std::string MintForeign(WorkloadApiWorld& world, const std::string& id,
                        const std::string& audience) {
  auto spiffe_id = common::SpiffeId::Parse(id);
  REQUIRE(spiffe_id.ok());
  const TestZone& partner = world.foreign("partner");
  auto signer =
      common::JwtSvidSigner::Create(spiffe_id->trust_domain(), partner.jwt_key, partner.kid);
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

// World where inference federates with tools.partner.test, whose bundle the agent holds.
void Federate(WorkloadApiWorld& world) {
  world.zone("inference").federates_with = {kPartnerTd};
  world.AddForeign("partner", kPartnerTd);
}

template <typename Map>
bool Has(const Map& map, const std::string& key) {
  return map.find(key) != map.end();
}

}  // namespace

TEST_CASE("Workload API federation: a federating zone's workload gets the foreign bundle") {
  WorkloadApiWorld world;
  Federate(world);
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  auto stub = world.Stub();
  const std::string partner_der = world.foreign("partner").MakeBundle().X509AuthoritiesDer();

  auto svids = WorkloadApiWorld::X509Stream(*stub);
  REQUIRE(svids->WaitForCount(1));
  ::X509SVIDResponse first = svids->message(0);
  REQUIRE(first.svids_size() == 1);
  REQUIRE(Has(first.federated_bundles(), kPartnerKey));
  CHECK(first.federated_bundles().at(kPartnerKey) == partner_der);
  CHECK(Has(first.federated_bundles(), "spiffe://retrieval.example.org"));  // the peer, as before
  CHECK(first.federated_bundles_size() == 2);

  auto x509_bundles = WorkloadApiWorld::X509BundlesStream(*stub);
  REQUIRE(x509_bundles->WaitForCount(1));
  CHECK(x509_bundles->message(0).bundles().at(kPartnerKey) == partner_der);
  auto jwt_bundles = WorkloadApiWorld::JwtBundlesStream(*stub);
  REQUIRE(jwt_bundles->WaitForCount(1));
  REQUIRE(Has(jwt_bundles->message(0).bundles(), kPartnerKey));
  CHECK(jwt_bundles->message(0).bundles().at(kPartnerKey).find(world.foreign("partner").kid) !=
        std::string::npos);

  ::ValidateJWTSVIDResponse validated;
  const std::string token = MintForeign(world, kPartnerTool, "spiffe://inference.example.org/m");
  grpc::Status status = world.Validate("spiffe://inference.example.org/m", token, &validated);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(validated.spiffe_id() == kPartnerTool);

  // The relationship is deleted: the server stops sending the bundle. Open streams are pushed
  // the change and the next validation fails.
  world.RemoveForeign("partner");
  world.Sync();
  REQUIRE(svids->WaitForCount(2));
  CHECK_FALSE(Has(svids->message(1).federated_bundles(), kPartnerKey));
  CHECK(Has(svids->message(1).federated_bundles(), "spiffe://retrieval.example.org"));
  REQUIRE(x509_bundles->WaitForCount(2));
  CHECK_FALSE(Has(x509_bundles->message(1).bundles(), kPartnerKey));
  REQUIRE(jwt_bundles->WaitForCount(2));
  CHECK_FALSE(Has(jwt_bundles->message(1).bundles(), kPartnerKey));
  status = world.Validate("spiffe://inference.example.org/m", token, &validated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("no bundle for trust domain tools.partner.test") !=
        std::string::npos);
}

TEST_CASE("Workload API federation: workloads of zones that do not federate never see it") {
  WorkloadApiWorld world;
  Federate(world);
  world.PutEntry("t1", kTrainerId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("t1");
  auto stub = world.Stub();
  REQUIRE(world.cache.Snapshot()->bundles.count(*common::TrustDomain::Parse(kPartnerTd)) == 1);

  auto svids = WorkloadApiWorld::X509Stream(*stub);
  REQUIRE(svids->WaitForCount(1));
  CHECK(svids->message(0).svids_size() == 1);
  CHECK(svids->message(0).federated_bundles_size() == 0);
  auto x509_bundles = WorkloadApiWorld::X509BundlesStream(*stub);
  REQUIRE(x509_bundles->WaitForCount(1));
  CHECK_FALSE(Has(x509_bundles->message(0).bundles(), kPartnerKey));
  auto jwt_bundles = WorkloadApiWorld::JwtBundlesStream(*stub);
  REQUIRE(jwt_bundles->WaitForCount(1));
  CHECK_FALSE(Has(jwt_bundles->message(0).bundles(), kPartnerKey));

  ::ValidateJWTSVIDResponse validated;
  const std::string token = MintForeign(world, kPartnerTool, "me");
  grpc::Status status = world.Validate("me", token, &validated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("not trusted by the caller") != std::string::npos);
  CHECK(validated.spiffe_id().empty());
}

}  // namespace spinel::testing
