#!/usr/bin/python3
"""Independent WIT-SVID client for tests/integration/wit_test.cc.

Debian's python3-grpcio (stubs generated at test time from the Workload API spec proto and
common/proto/wit_svids.proto), python3-jwt (PyJWT) and python3-cryptography; nothing of Spinel.
Usage: wit_client.py STUB_DIR SOCKET_PATH TARGET_URI; prints one JSON object:
  spiffe_id, wit, wpt           the FetchWITSVID identity, its WIT-SVID (verified here with
                                PyJWT against the FetchWITBundles wit keys) and a WPT for
                                TARGET_URI signed with the wit_svid_key private JWK;
  bundles                       the trust domains of FetchWITBundles;
  own_wit, own_wpt, own_cnf_ok  a WIT-SVID for a key this script generated and kept
                                (spinel.v1.WitSvids/MintWitSvidForKey with a key proof), and a
                                WPT signed with that key;
  replay                        the gRPC code of sending the same proof again.
"""
import base64
import hashlib
import json
import os
import sys
import time

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

sys.path.insert(0, sys.argv[1])
import wit_svids_pb2  # noqa: E402
import wit_svids_pb2_grpc  # noqa: E402
import workload_spec_pb2 as pb  # noqa: E402
import workload_spec_pb2_grpc as pb_grpc  # noqa: E402

HEADER = (("workload.spiffe.io", "true"),)


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def th(token):
    return b64u(hashlib.sha256(token.encode()).digest())


def first(stream):
    for message in stream:
        return message
    raise RuntimeError("stream ended without a message")


def verify_wit(wit, bundles):
    header = jwt.get_unverified_header(wit)
    assert header["typ"] == "wit+jwt", header
    claims = jwt.decode(wit, options={"verify_signature": False})
    td = "spiffe://" + claims["sub"].split("/")[2]
    keys = {k["kid"]: k for k in json.loads(bundles[td])["keys"]}
    issuer = jwt.PyJWK(keys[header["kid"]], algorithm=header["alg"]).key
    claims = jwt.decode(wit, issuer, algorithms=[header["alg"]],
                        options={"require": ["exp", "sub", "cnf"]})
    assert "aud" not in claims, claims
    return claims


def make_wpt(wit, key, alg, target):
    return jwt.encode({"aud": target, "exp": int(time.time()) + 60,
                       "jti": b64u(os.urandom(16)), "wth": th(wit)},
                      key, algorithm=alg, headers={"typ": "wpt+jwt"})


def thumbprint(jwk):
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64u(hashlib.sha256(json.dumps(members, sort_keys=True,
                                          separators=(",", ":")).encode()).digest())


def own_key(channel, bundles, target, out):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk["alg"] = "ES256"
    now = int(time.time())
    proof = jwt.encode({"aud": "spinel:wit-svid-for-key", "jkt": thumbprint(jwk), "sub": "",
                        "iat": now, "exp": now + 30, "jti": b64u(os.urandom(16))},
                       key, algorithm="ES256", headers={"typ": "wit-key-proof+jwt"})
    stub = wit_svids_pb2_grpc.WitSvidsStub(channel)
    request = wit_svids_pb2.MintWitSvidForKeyRequest(public_jwk=json.dumps(jwk), proof=proof)
    response = stub.MintWitSvidForKey(request, metadata=HEADER, timeout=10)
    claims = verify_wit(response.wit_svid, bundles)
    cnf = claims["cnf"]["jwk"]
    out["own_cnf_ok"] = all(cnf[k] == jwk[k] for k in ("kty", "crv", "x", "y", "alg"))
    out["own_wit"] = response.wit_svid
    out["own_wpt"] = make_wpt(response.wit_svid, key, "ES256", target)
    try:
        stub.MintWitSvidForKey(request, metadata=HEADER, timeout=10)
        out["replay"] = "OK"
    except grpc.RpcError as err:
        out["replay"] = err.code().name


def main():
    socket_path, target = sys.argv[2], sys.argv[3]
    channel = grpc.insecure_channel("unix://" + socket_path)
    stub = pb_grpc.SpiffeWorkloadAPIStub(channel)
    svids = first(stub.FetchWITSVID(pb.WITSVIDRequest(), metadata=HEADER, timeout=10))
    bundles = dict(first(stub.FetchWITBundles(pb.WITBundlesRequest(), metadata=HEADER,
                                              timeout=10)).bundles)
    svid = svids.svids[0]
    claims = verify_wit(svid.wit_svid, bundles)
    private = json.loads(svid.wit_svid_key)
    cnf = claims["cnf"]["jwk"]
    assert private["alg"] == cnf["alg"] and private["x"] == cnf["x"], (private["alg"], cnf)
    key = jwt.PyJWK(private, algorithm=private["alg"]).key
    out = {"spiffe_id": svid.spiffe_id, "wit": svid.wit_svid, "bundles": sorted(bundles),
           "wpt": make_wpt(svid.wit_svid, key, private["alg"], target)}
    own_key(channel, bundles, target, out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
