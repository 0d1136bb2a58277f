// WIT-SVID and WPT interoperability with an implementation nobody here wrote: Debian's
// python3-jwt (PyJWT) and python3-cryptography, run as /usr/bin/python3 (Debian's packages;
// scripts/setup.sh installs them). Python verifies Spinel's WIT-SVID and WPT (and the IETF
// example WPT's Ed25519 signature); Spinel verifies a WIT-SVID and WPTs Python created, ES256
// and PS256. Skipped when the packages are missing.
#include <doctest/doctest.h>

#include "common/bundle.h"
#include "tests/common/python_interop.h"
#include "tests/common/wimse_test_world.h"
#include "tests/fakes/temp_dir.h"

using spinel::testing::PythonCanImport;
using spinel::testing::PythonRun;
using spinel::testing::RunPythonScript;
using spinel::testing::TempDir;

namespace {

// Verifies spinel_bundle.json / spinel_wit.txt / spinel_wpt.txt for target.txt and
// access_token.txt; then writes py_bundle.json, py_wit.txt, py_wpt.txt, py_wit_rsa.txt and
// py_wpt_rsa.txt. Prints "name value" lines.
constexpr char kScript[] = R"PY(
import base64, hashlib, json, sys, time
import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

def read(name):
    with open(name) as f:
        return f.read()

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

def th(token):
    return b64u(hashlib.sha256(token.encode()).digest())

target, access_token = read("target.txt"), read("access_token.txt")

# 1. Spinel's WIT-SVID, against the wit-svid keys of Spinel's bundle.
bundle = json.loads(read("spinel_bundle.json"))
wit = read("spinel_wit.txt")
header = jwt.get_unverified_header(wit)
assert header["typ"] == "wit+jwt", header
keys = {k["kid"]: k for k in bundle["keys"] if k.get("use") == "wit-svid"}
issuer = jwt.PyJWK(keys[header["kid"]], algorithm=header["alg"]).key
claims = jwt.decode(wit, issuer, algorithms=[header["alg"]],
                    options={"require": ["exp", "sub", "cnf"]})
assert "aud" not in claims
print("wit_sub", claims["sub"])

# 2. Spinel's WPT, with the WIT's cnf.jwk.
cnf = claims["cnf"]["jwk"]
wpt = read("spinel_wpt.txt")
wpt_header = jwt.get_unverified_header(wpt)
assert wpt_header["typ"] == "wpt+jwt" and wpt_header["alg"] == cnf["alg"], wpt_header
proof = jwt.decode(wpt, jwt.PyJWK(cnf).key, algorithms=[cnf["alg"]], audience=target,
                   options={"require": ["exp", "jti", "aud"]})
assert proof["wth"] == th(wit) and proof["ath"] == th(access_token), proof
assert proof["exp"] - time.time() <= 300
print("wpt ok")
try:
    jwt.decode(wpt, jwt.PyJWK(cnf).key, algorithms=[cnf["alg"]], audience=target + "x")
    print("wrong_aud accepted")
except jwt.InvalidAudienceError:
    print("wrong_aud refused")

# 3. The IETF example WPT's Ed25519 signature (shared/spec/wimse.md §5).
ietf = read("ietf_wpt.txt").split(".")
ed25519.Ed25519PublicKey.from_public_bytes(unb64u(read("ietf_x.txt"))).verify(
    unb64u(ietf[2]), (ietf[0] + "." + ietf[1]).encode())
print("ietf_wpt_signature ok")

# 4. Python's own WIT-SVIDs and WPTs for Spinel to verify.
now = int(time.time())
issuer_key = ec.generate_private_key(ec.SECP256R1())
issuer_jwk = json.loads(ECAlgorithm.to_jwk(issuer_key.public_key()))
issuer_jwk.update({"use": "wit-svid", "kid": "py-wit"})
with open("py_bundle.json", "w") as f:
    json.dump({"keys": [issuer_jwk]}, f)

def mint(workload_public, alg, to_jwk, name, workload_private):
    jwk = json.loads(to_jwk(workload_public))
    jwk["alg"] = alg
    wit = jwt.encode({"sub": "spiffe://example.org/python", "exp": now + 600, "iat": now,
                      "jti": b64u(b"python-wit-" + name.encode()), "cnf": {"jwk": jwk}},
                     issuer_key, algorithm="ES256", headers={"typ": "wit+jwt", "kid": "py-wit"})
    wpt = jwt.encode({"aud": target, "exp": now + 60, "jti": b64u(("jti-" + name).encode()),
                      "wth": th(wit), "ath": th(access_token)},
                     workload_private, algorithm=alg, headers={"typ": "wpt+jwt"})
    with open("py_wit" + name + ".txt", "w") as f:
        f.write(wit)
    with open("py_wpt" + name + ".txt", "w") as f:
        f.write(wpt)

ec_key = ec.generate_private_key(ec.SECP256R1())
mint(ec_key.public_key(), "ES256", ECAlgorithm.to_jwk, "", ec_key)
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
mint(rsa_key.public_key(), "PS256", RSAAlgorithm.to_jwk, "_rsa", rsa_key)
print("python_tokens written")
)PY";

}  // namespace

TEST_CASE("interop: PyJWT verifies Spinel's WIT-SVID and WPT; Spinel verifies PyJWT's") {
  TempDir dir;
  if (!PythonCanImport(dir, "jwt, cryptography")) {
    MESSAGE("python3-jwt / python3-cryptography are not installed; skipping");
    return;
  }
  // Real time: PyJWT checks exp against the wall clock.
  WimseWorld w;
  w.now = spinel::common::SystemClock::Get().Now();
  w.wit = w.MintWit();
  BoundTokens tokens;
  tokens.access_token = wimse::kIetfAccessToken;
  dir.Write("spinel_bundle.json", *w.bundles.Find(w.td)->ToJson());
  dir.Write("spinel_wit.txt", w.wit);
  dir.Write("spinel_wpt.txt", w.MintWpt(tokens));
  dir.Write("target.txt", wimse::kTarget);
  dir.Write("access_token.txt", wimse::kIetfAccessToken);
  dir.Write("ietf_wpt.txt", wimse::kIetfWpt);
  dir.Write("ietf_x.txt", wimse::kIetfWorkloadX);
  PythonRun r = RunPythonScript(dir, "check.py", kScript);
  INFO(r.output);
  auto& got = r.values;
  CHECK(got["wit_sub"] == "spiffe://example.org/agent");
  CHECK(got["wpt"] == "ok");
  CHECK(got["wrong_aud"] == "refused");
  CHECK(got["ietf_wpt_signature"] == "ok");
  REQUIRE(got["python_tokens"] == "written");

  auto py_bundle = Bundle::Parse(w.td, dir.Read("py_bundle.json"));
  REQUIRE_MESSAGE(py_bundle.ok(), Message(py_bundle.status()));
  BundleSet bundles;
  REQUIRE(bundles.Put(*py_bundle).ok());
  WptReplayCache cache(100);
  WptVerifier verifier(bundles, cache);
  for (const char* suffix : {"", "_rsa"}) {
    CAPTURE(suffix);
    const std::string wit = dir.Read(std::string("py_wit") + suffix + ".txt");
    const std::string wpt = dir.Read(std::string("py_wpt") + suffix + ".txt");
    auto proven = verifier.Verify({wit, wpt, wimse::kTarget, tokens}, w.now);
    REQUIRE_MESSAGE(proven.ok(), Message(proven.status()));
    CHECK(proven->subject.ToString() == "spiffe://example.org/python");
    CHECK(proven->access_token_bound);
    // And the same proof is refused for another target and when replayed.
    CheckRefused(verifier.Verify({wit, wpt, "https://workload.example.com/other", tokens}, w.now),
                 "aud:");
    CheckRefused(verifier.Verify({wit, wpt, wimse::kTarget, tokens}, w.now), "jti replayed",
                 absl::StatusCode::kAlreadyExists);
  }
}
