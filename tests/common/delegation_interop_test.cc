// Delegation interoperability with code nobody here wrote: Debian's python3-jwt (PyJWT) and
// python3-cryptography. Python plays the organization's OIDC provider: it mints alice's RS256 ID
// token and publishes its JWK Set; Spinel validates that token against the JWKS file, exchanges
// it for a delegation token and deepens the chain; Python then verifies both delegation tokens'
// signatures with the zones' public keys and reads the nested "act". Skipped when the packages
// are missing.
#include <doctest/doctest.h>

#include "common/jwk.h"
#include "common/jwks.h"
#include "tests/common/delegation_test_world.h"
#include "tests/common/python_interop.h"
#include "tests/fakes/temp_dir.h"

using spinel::testing::PythonCanImport;
using spinel::testing::PythonRun;
using spinel::testing::RunPythonScript;
using spinel::testing::TempDir;

namespace {

// Writes idp_jwks.json and id_token.txt (RS256, kid "py-idp") for the audience in aud.txt.
constexpr char kIssuerScript[] = R"PY(
import json, time
import jwt
from jwt.algorithms import RSAAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
jwk.update({"kid": "py-idp", "use": "sig", "alg": "RS256"})
with open("idp_jwks.json", "w") as f:
    json.dump({"keys": [jwk]}, f)
now = int(time.time())
token = jwt.encode({"iss": "https://idp.example.org", "sub": "alice", "aud": open("aud.txt").read(),
                    "iat": now, "exp": now + 600, "email": "alice@example.org",
                    "groups": ["sre", "ml"]}, key, algorithm="RS256", headers={"kid": "py-idp"})
with open("id_token.txt", "w") as f:
    f.write(token)
print("issued ok")
)PY";

// Verifies hop1.txt and hop2.txt with the zone keys in zone_keys.json ({kid: jwk}); prints
// "name value" lines.
constexpr char kVerifyScript[] = R"PY(
import json
import jwt

keys = json.load(open("zone_keys.json"))

def verify(name, audience):
    token = open(name + ".txt").read()
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "delegation+jwt", header
    key = jwt.PyJWK(keys[header["kid"]], algorithm=header["alg"]).key
    claims = jwt.decode(token, key, algorithms=[header["alg"]], audience=audience,
                        options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": True})
    chain, act = [], claims.get("act")
    while act is not None:
        chain.append(act["sub"])
        act = act.get("act")
    print(name + "_sub", claims["sub"])
    print(name + "_chain", ",".join(chain))
    print(name + "_groups", ",".join(claims["user"]["claims"]["groups"]))
    print(name + "_cnf_alg", claims["cnf"]["jwk"]["alg"])
    try:
        jwt.decode(token, jwt.PyJWK(keys["deleg-tools" if header["kid"] == "deleg-inf" else "deleg-inf"],
                   algorithm=header["alg"]).key, algorithms=[header["alg"]], audience=audience)
        print(name + "_other_key accepted")
    except jwt.InvalidSignatureError:
        print(name + "_other_key refused")

verify("hop1", open("hop1_aud.txt").read())
verify("hop2", open("hop2_aud.txt").read())
)PY";

}  // namespace

TEST_CASE("interop: PyJWT's ID token is exchanged; PyJWT verifies the delegation tokens") {
  TempDir dir;
  if (!PythonCanImport(dir, "jwt, cryptography")) {
    MESSAGE("python3-jwt / python3-cryptography are not installed; skipping");
    return;
  }
  using spinel::testing::delegation::DelegationWorld;
  DelegationWorld w;
  w.now = spinel::common::SystemClock::Get().Now();  // PyJWT checks exp on the wall clock
  dir.Write("aud.txt", "spinel-agents");
  RunPythonScript(dir, "issue.py", kIssuerScript);

  // Spinel: the JWKS file of the zone's trusted issuer, alice's token, two exchanges.
  auto jwks = spinel::common::JwksFile::Open(dir.File("idp_jwks.json"));
  REQUIRE_MESSAGE(jwks.ok(), spinel::testing::Message(jwks.status()));
  const spinel::common::TrustedIssuerKeys issuers[] = {{w.issuer, (*jwks)->Current()}};
  spinel::common::SubjectTokenTrust trust{issuers, &w.authorities};
  auto hop1_plan = spinel::common::ExchangeSubjectToken(
      dir.Read("id_token.txt"), trust, w.Request(w.agent, w.AgentCnf(), w.caller.ToString()),
      w.limits, w.now);
  REQUIRE_MESSAGE(hop1_plan.ok(), spinel::testing::Message(hop1_plan.status()));
  auto hop1 = w.inference_signer->Mint(*hop1_plan);
  REQUIRE(hop1.ok());
  auto hop2_plan = spinel::common::ExchangeSubjectToken(
      hop1->token, trust, w.Request(w.caller, w.CallerCnf(), w.mcp.ToString()), w.limits, w.now);
  REQUIRE_MESSAGE(hop2_plan.ok(), spinel::testing::Message(hop2_plan.status()));
  auto hop2 = w.tools_signer->Mint(*hop2_plan);
  REQUIRE(hop2.ok());

  json zone_keys = {{"deleg-inf", *spinel::common::PublicKeyToJwk(*w.inference_key.Public())},
                    {"deleg-tools", *spinel::common::PublicKeyToJwk(*w.tools_key.Public())}};
  dir.Write("zone_keys.json", zone_keys.dump());
  dir.Write("hop1.txt", hop1->token);
  dir.Write("hop2.txt", hop2->token);
  dir.Write("hop1_aud.txt", w.caller.ToString());
  dir.Write("hop2_aud.txt", w.mcp.ToString());
  PythonRun r = RunPythonScript(dir, "verify.py", kVerifyScript);
  INFO(r.output);
  auto& got = r.values;
  CHECK(got["hop1_sub"] == "alice");
  CHECK(got["hop1_chain"] == "spiffe://inference.example.org/agent");
  CHECK(got["hop2_sub"] == "alice");
  CHECK(got["hop2_chain"] ==
        "spiffe://tools.example.org/caller,spiffe://inference.example.org/agent");
  CHECK(got["hop2_groups"] == "sre,ml");
  CHECK(got["hop1_cnf_alg"] == "ES256");
  CHECK(got["hop1_other_key"] == "refused");
  CHECK(got["hop2_other_key"] == "refused");
}
