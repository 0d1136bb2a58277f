// X.509 attacks against the real spinel-agent's subject proof: forged X509-SVID chains given
// as the subject of an Authorize call (`spinel-agent authorize --x509-svid FILE`), which the
// agent verifies against the bundles it holds. The forger holds the real zone CA keys (read
// from the server's data directory: a compromised or mis-issuing CA); a well-made leaf, and a
// well-made leaf under a valid intermediate, from the same forger are accepted, so each
// refusal is the attack's. Refused: a chain to a different zone's CA, a leaf with CA=true,
// a leaf with two URI SANs, a leaf under an expired intermediate. Unit
// level: tests/common/x509_svid_validator_test.cc; TLS between zones: tests/integration/
// peering_tls_test.cc.
#include <doctest/doctest.h>

#include "tests/fakes/test_ca.h"
#include "tests/security/attack_util.h"

using spinel::common::Certificate;
using spinel::common::PrivateKey;
using spinel::common::TimePoint;
using spinel::testing::AgentWorld;
using spinel::testing::CertSpec;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::CraftCertificate;
using spinel::testing::ZoneKeys;
using namespace std::chrono_literals;

namespace {

constexpr char kRequest[] =
    " --resource tool:deploy.api --action invoke --context environment=staging --output json";

CertSpec LeafSpec(const std::vector<std::string>& uris, TimePoint not_before, TimePoint not_after) {
  CertSpec spec;
  spec.uris = uris;
  spec.not_before = not_before;
  spec.not_after = not_after;
  return spec;
}

CertSpec IntermediateSpec(TimePoint not_before, TimePoint not_after) {
  CertSpec spec;
  spec.uris = {"spiffe://tools.ai.example.org"};
  spec.ca = true;
  spec.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  spec.not_before = not_before;
  spec.not_after = not_after;
  return spec;
}

Certificate Leaf(const CertSpec& spec, const Certificate& issuer, const PrivateKey& issuer_key) {
  return CraftCertificate(spec, *spinel::testing::NewAttackKey().Public(), issuer, issuer_key);
}

// `authorize` with the chain (leaf first) as the subject.
CommandResult AuthorizeWith(const AgentWorld& world, const std::string& name,
                            const std::vector<Certificate>& chain) {
  const std::string path = world.dir.Write(name + ".pem", spinel::common::ConcatPem(chain));
  return world.Agent("authorize --x509-svid " + spinel::testing::ShellQuote(path) + kRequest);
}

}  // namespace

TEST_CASE("attack: forged X509-SVID chains are refused by the real agent's subject proof") {
  AgentWorld world;
  ZoneKeys tools = spinel::testing::ReadZoneKeys(world.server, "tools.ai.example.org");
  ZoneKeys training = spinel::testing::ReadZoneKeys(world.server, "training.ai.example.org");
  const std::string runner = spinel::testing::kAttackRunner;
  // Inside the zone CA's validity, which began when the server started.
  const TimePoint start = tools.ca.NotBefore();
  const TimePoint now = std::chrono::system_clock::now();
  REQUIRE(now - 2s > start);
  const TimePoint later = now + 1h;

  // The forger's controls: a well-made leaf, and one under a valid intermediate.
  CommandResult direct = AuthorizeWith(
      world, "direct", {Leaf(LeafSpec({runner}, start, later), tools.ca, tools.ca_key)});
  REQUIRE_MESSAGE(direct.exit_code == 0, direct.Describe() << world.agent->Log());
  CHECK(spinel::testing::ParseJsonOutput(direct)["subject"] == runner);
  PrivateKey intermediate_key = spinel::testing::NewAttackKey();
  Certificate intermediate = CraftCertificate(IntermediateSpec(start, later),
                                              *intermediate_key.Public(), tools.ca, tools.ca_key);
  CommandResult via_intermediate = AuthorizeWith(
      world, "via-intermediate",
      {Leaf(LeafSpec({runner}, start, later), intermediate, intermediate_key), intermediate});
  REQUIRE_MESSAGE(via_intermediate.exit_code == 0, via_intermediate.Describe());

  PrivateKey expired_key = spinel::testing::NewAttackKey();
  Certificate expired = CraftCertificate(IntermediateSpec(start, now - 1s), *expired_key.Public(),
                                         tools.ca, tools.ca_key);
  CertSpec ca_leaf = LeafSpec({runner}, start, later);
  ca_leaf.ca = true;
  ca_leaf.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN;

  struct Attack {
    const char* what;
    std::vector<Certificate> chain;
  };
  const std::vector<Attack> attacks = {
      {"tools ID signed by training's CA",
       {Leaf(LeafSpec({runner}, start, later), training.ca, training.ca_key)}},
      {"leaf with CA=true", {Leaf(ca_leaf, tools.ca, tools.ca_key)}},
      {"two URI SANs",
       {Leaf(LeafSpec({runner, "spiffe://tools.ai.example.org/admin"}, start, later), tools.ca,
             tools.ca_key)}},
      {"leaf under an expired intermediate",
       {Leaf(LeafSpec({runner}, start, later), expired, expired_key), expired}},
  };
  int index = 0;
  for (const Attack& attack : attacks) {
    INFO(attack.what);
    CommandResult refused = AuthorizeWith(world, "attack-" + std::to_string(index++), attack.chain);
    CHECK_MESSAGE(refused.exit_code == 1, refused.Describe());
    CHECK_MESSAGE(Contains(refused.err, "UNAUTHENTICATED"), refused.Describe());
    CHECK_FALSE(Contains(refused.out, "ALLOW"));
  }
}
