// ProveSubject: real JWT-SVIDs and X509-SVID chains from test CAs, checked against the bundles
// in a real IdentityCache snapshot.
#include "agent/authz/subject_proof.h"

#include <doctest/doctest.h>

#include "tests/agent/authz/authz_world.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuthzWorld;
using namespace std::chrono_literals;

absl::StatusOr<ProvedSubject> Prove(AuthzWorld& world, const v1::AuthorizeRequest& request) {
  return ProveSubject(request, *world.cache.Snapshot(), world.clock.Now());
}

v1::AuthorizeRequest WithJwt(const std::string& token, const std::string& audience = "") {
  v1::AuthorizeRequest request = AuthzWorld::Request(token, "tool:x", "invoke");
  request.set_audience(audience);
  return request;
}

v1::AuthorizeRequest WithChain(const v1::X509SvidChain& chain) {
  v1::AuthorizeRequest request;
  *request.mutable_x509_svid() = chain;
  return request;
}

bool Contains(const absl::Status& status, const std::string& text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

TEST_CASE("subject proof: a valid JWT-SVID proves its subject (default audience)") {
  AuthzWorld world;
  auto proved = Prove(world, WithJwt(world.Jwt(AuthzWorld::kInference, "/model-server")));
  REQUIRE_MESSAGE(proved.ok(), proved.status().ToString());
  CHECK(proved->id.ToString() == "spiffe://inference.ai.example.org/model-server");
  CHECK(proved->proof == "jwt-svid");
}

TEST_CASE("subject proof: an explicit audience replaces the default") {
  AuthzWorld world;
  const std::string token = world.Jwt(AuthzWorld::kTools, "/runner", {"jira-guard"});
  CHECK(Prove(world, WithJwt(token, "jira-guard")).ok());
  auto refused = Prove(world, WithJwt(token));  // expects spinel-authorize
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(Contains(refused.status(), "aud"));
}

TEST_CASE("subject proof: JWT-SVIDs that must not prove anything are UNAUTHENTICATED") {
  AuthzWorld world;
  struct Case {
    const char* name;
    std::string token;
    std::string why;  // part of the error message
  };
  // Signed by the other zone's key but claiming an inference subject: the kid is not in the
  // inference bundle.
  common::JwtSvidClaims forged;
  forged.subject = *common::SpiffeId::Parse("spiffe://inference.ai.example.org/model-server");
  forged.audience = {"spinel-authorize"};
  forged.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(world.clock.Now());
  forged.expires_at = forged.issued_at + 5min;
  auto other_signer = common::JwtSvidSigner::Create(
      *common::TrustDomain::Parse(AuthzWorld::kInference), world.zone(AuthzWorld::kOther).jwt_key,
      world.zone(AuthzWorld::kOther).kid);
  REQUIRE(other_signer.ok());
  // Signed with the training key under the training kid, but the subject is in inference.
  auto training_as_inference = common::JwtSvidSigner::Create(
      *common::TrustDomain::Parse(AuthzWorld::kInference),
      world.zone(AuthzWorld::kTraining).jwt_key, world.zone(AuthzWorld::kTraining).kid);
  REQUIRE(training_as_inference.ok());
  std::string token = world.Jwt(AuthzWorld::kInference, "/model-server");
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const Case cases[] = {
      {"expired", world.Jwt(AuthzWorld::kInference, "/m", {"spinel-authorize"}, 5min, -10min),
       "exp"},
      {"wrong audience", world.Jwt(AuthzWorld::kInference, "/m", {"someone-else"}), "aud"},
      {"kid of an unknown trust domain", *(*other_signer)->Mint(forged), "kid"},
      {"kid of another zone", *(*training_as_inference)->Mint(forged), "kid"},
      {"subject in a trust domain the agent has no bundle for",
       world.Jwt(AuthzWorld::kOther, "/intruder"), "other.example.org"},
      {"tampered signature", tampered, "signature"},
      {"not a JWT", "not-a-token", "JWT"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto refused = Prove(world, WithJwt(c.token));
    REQUIRE(!refused.ok());
    CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_MESSAGE(Contains(refused.status(), c.why), refused.status().ToString());
    CHECK(Contains(refused.status(), "JWT-SVID not accepted"));
  }
}

TEST_CASE("subject proof: a JWT-SVID stops proving once the clock passes its expiry") {
  AuthzWorld world;
  const std::string token =
      world.Jwt(AuthzWorld::kRetrieval, "/retriever", {"spinel-authorize"}, 2min);
  CHECK(Prove(world, WithJwt(token)).ok());
  world.clock.Advance(3min);  // past exp + 30 s leeway
  auto refused = Prove(world, WithJwt(token));
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("subject proof: a valid X509-SVID chain proves its subject") {
  AuthzWorld world;
  auto proved = Prove(world, WithChain(world.X509(AuthzWorld::kTraining, "/trainer")));
  REQUIRE_MESSAGE(proved.ok(), proved.status().ToString());
  CHECK(proved->id.ToString() == "spiffe://training.ai.example.org/trainer");
  CHECK(proved->proof == "x509-svid");
}

TEST_CASE("subject proof: X509-SVID chains that must not prove anything are UNAUTHENTICATED") {
  AuthzWorld world;
  // A leaf for an inference ID signed by the unknown zone's CA.
  spinel::testing::TestCa impostor =
      spinel::testing::TestCa::Root(AuthzWorld::kInference, world.clock.Now() - 1h, 48h);
  spinel::testing::TestLeaf forged =
      impostor.Mint("spiffe://inference.ai.example.org/model-server", world.clock.Now());
  v1::X509SvidChain forged_chain;
  forged_chain.add_certificates(forged.cert.ToDer());
  v1::X509SvidChain expiring = world.X509(AuthzWorld::kInference, "/m", 10min);
  v1::X509SvidChain garbage;
  garbage.add_certificates("not DER");
  struct Case {
    const char* name;
    v1::X509SvidChain chain;
    bool advance;  // move the clock 1 h first
  };
  const Case cases[] = {
      {"signed by a CA not in the bundle", forged_chain, false},
      {"trust domain the agent has no bundle for", world.X509(AuthzWorld::kOther, "/x"), false},
      {"expired", expiring, true},
      {"not DER", garbage, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    if (c.advance) world.clock.Advance(1h);
    auto refused = Prove(world, WithChain(c.chain));
    REQUIRE(!refused.ok());
    CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK_MESSAGE(Contains(refused.status(), "X509-SVID not accepted"),
                  refused.status().ToString());
  }
}

TEST_CASE("subject proof: a request without a subject is INVALID_ARGUMENT") {
  AuthzWorld world;
  v1::AuthorizeRequest none;
  CHECK(Prove(world, none).status().code() == absl::StatusCode::kInvalidArgument);
  v1::AuthorizeRequest empty_chain;
  empty_chain.mutable_x509_svid();
  CHECK(Prove(world, empty_chain).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Prove(world, WithJwt("")).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace spinel::agent
