// Node attestation (server/api/agent/node_attestation.cc) over a real SQLite datastore and real
// node certificates: join tokens (single use, expiry, the agent ID they are bound to, nothing
// secret in errors) and x509pop (chain checks, the challenge signed with the right or wrong key).
#include "server/api/agent/node_attestation.h"

#include <doctest/doctest.h>

#include "common/pop_signature.h"
#include "server/datastore/records.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/server_test_util.h"

using spinel::common::Certificate;
using spinel::common::PrivateKey;
using spinel::server::AttestJoinToken;
using spinel::server::CreateJoinToken;
using spinel::server::X509PopAttestor;
using spinel::testing::CertSpec;
using spinel::testing::CraftCertificate;
using spinel::testing::TestCa;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

TEST_CASE("join token: bound to its agent ID and usable once") {
  ServerFixture f;
  auto created = CreateJoinToken(*f.datastore, f.config.trust_domain, 10min, f.clock.Now());
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(created->token.size() == 64);
  CHECK(created->agent_id.ToString().rfind(
            "spiffe://spinel.ai.example.org/spinel/agent/join_token/", 0) == 0);
  CHECK(created->expires_at == spinel::common::ToUnixSeconds(f.clock.Now() + 10min));

  auto attested = AttestJoinToken(*f.datastore, created->token);
  REQUIRE_MESSAGE(attested.ok(), attested.status().ToString());
  CHECK(attested->agent_id == created->agent_id);
  CHECK(attested->method == "join_token");
  CHECK(attested->selectors.empty());

  auto again = AttestJoinToken(*f.datastore, created->token);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_FALSE(Contains(again.status().message(), created->token));

  // Two tokens never produce the same agent.
  auto other = CreateJoinToken(*f.datastore, f.config.trust_domain, 10min, f.clock.Now());
  REQUIRE(other.ok());
  CHECK(other->agent_id != created->agent_id);
}

TEST_CASE("join token: expired, unknown, empty and zero-TTL tokens are refused") {
  ServerFixture f;
  auto created = CreateJoinToken(*f.datastore, f.config.trust_domain, 1min, f.clock.Now());
  REQUIRE(created.ok());
  f.clock.Advance(61s);
  auto expired = AttestJoinToken(*f.datastore, created->token);
  CHECK(expired.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_MESSAGE(Contains(expired.status().message(), "expired"), expired.status().ToString());
  CHECK_FALSE(Contains(expired.status().message(), created->token));

  auto unknown = AttestJoinToken(*f.datastore, std::string(64, 'a'));
  CHECK(unknown.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(unknown.status().message(), "not valid"));
  CHECK(AttestJoinToken(*f.datastore, "").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CreateJoinToken(*f.datastore, f.config.trust_domain, 0s, f.clock.Now()).status().code() ==
        absl::StatusCode::kInvalidArgument);

  UnavailableDatastore down;
  CHECK(AttestJoinToken(down, created->token).status().code() == absl::StatusCode::kUnavailable);
}

namespace {

struct NodeCredentials {
  TestCa ca;
  Certificate leaf;
  PrivateKey key;
};

NodeCredentials MakeNode(spinel::common::TimePoint now, const std::string& cn) {
  TestCa ca = TestCa::Root("nodes.example.org", now - 1min);
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  CertSpec spec;
  spec.subject = {{"O", "Example"}, {"CN", cn}};
  spec.not_before = now - 1min;
  spec.not_after = now + 1h;
  Certificate leaf = CraftCertificate(spec, *key->Public(), ca.cert(), ca.key());
  return NodeCredentials{std::move(ca), leaf, std::move(*key)};
}

std::unique_ptr<X509PopAttestor> AttestorTrusting(const TestCa& ca,
                                                  const spinel::common::TrustDomain& control) {
  auto attestor = X509PopAttestor::Create(ca.cert().ToPem(), control);
  REQUIRE_MESSAGE(attestor.ok(), attestor.status().ToString());
  return std::move(*attestor);
}

}  // namespace

TEST_CASE("x509pop: a trusted node that signs the nonce is attested with its selectors") {
  ServerFixture f;
  NodeCredentials node = MakeNode(f.clock.Now(), "gpu-node-1");
  auto attestor = AttestorTrusting(node.ca, f.config.trust_domain);

  auto challenge = attestor->Begin({node.leaf.ToDer()}, f.clock.Now());
  REQUIRE_MESSAGE(challenge.ok(), challenge.status().ToString());
  CHECK(challenge->nonce.size() == 32);
  const std::string fingerprint = spinel::server::Sha256Hex(node.leaf.ToDer());
  CHECK(challenge->attestation.agent_id.ToString() ==
        "spiffe://spinel.ai.example.org/spinel/agent/x509pop/" + fingerprint);
  CHECK(challenge->attestation.method == "x509pop");
  CHECK(challenge->attestation.selectors ==
        Selectors({"x509pop:subject:cn:gpu-node-1",
                   "x509pop:ca:fingerprint:" + spinel::server::Sha256Hex(node.ca.cert().ToDer()),
                   "x509pop:serialnumber:" + node.leaf.SerialHex()}));

  auto signature = spinel::common::SignPossessionProof(node.key, challenge->nonce);
  REQUIRE(signature.ok());
  CHECK(X509PopAttestor::Finish(*challenge, *signature).ok());

  // Each Begin is a fresh nonce: an old signature does not answer a new challenge.
  auto second = attestor->Begin({node.leaf.ToDer()}, f.clock.Now());
  REQUIRE(second.ok());
  CHECK(second->nonce != challenge->nonce);
  CHECK(X509PopAttestor::Finish(*second, *signature).code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("x509pop: wrong key, untrusted or expired certificates are refused") {
  ServerFixture f;
  NodeCredentials node = MakeNode(f.clock.Now(), "gpu-node-1");
  auto attestor = AttestorTrusting(node.ca, f.config.trust_domain);

  SUBCASE("a signature by another key") {
    auto challenge = attestor->Begin({node.leaf.ToDer()}, f.clock.Now());
    REQUIRE(challenge.ok());
    auto other = PrivateKey::Generate();
    REQUIRE(other.ok());
    auto signature = spinel::common::SignPossessionProof(*other, challenge->nonce);
    REQUIRE(signature.ok());
    absl::Status finished = X509PopAttestor::Finish(*challenge, *signature);
    CHECK(finished.code() == absl::StatusCode::kPermissionDenied);
    CHECK(Contains(finished.message(), "x509pop"));
    CHECK(X509PopAttestor::Finish(*challenge, "garbage").code() ==
          absl::StatusCode::kPermissionDenied);
  }
  SUBCASE("a node certificate from another CA") {
    NodeCredentials stranger = MakeNode(f.clock.Now(), "intruder");
    auto challenge = attestor->Begin({stranger.leaf.ToDer()}, f.clock.Now());
    CHECK(challenge.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(Contains(challenge.status().message(), "node certificate not trusted"));
  }
  SUBCASE("an expired node certificate") {
    auto challenge = attestor->Begin({node.leaf.ToDer()}, f.clock.Now() + 2h);
    CHECK(challenge.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(Contains(challenge.status().message(), "expired"));
  }
  SUBCASE("no or malformed certificates") {
    CHECK(attestor->Begin({}, f.clock.Now()).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(attestor->Begin({"not DER"}, f.clock.Now()).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}
