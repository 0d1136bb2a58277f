#!/usr/bin/python3
"""Independent Workload API client for the wire-compatibility test.

Uses Debian's python3-grpcio with stubs generated at test time from workload_spec.proto.
Usage: wire_client.py STUB_DIR SOCKET_PATH CASE; prints one JSON object with the results.
Cases: no_header, registered, unregistered.
"""
import base64
import json
import sys

import grpc
from google.protobuf import json_format

HEADER = (("workload.spiffe.io", "true"),)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def code_of(call):
    try:
        call()
    except grpc.RpcError as err:
        return err.code().name
    return "OK"


def first_message(stream):
    for message in stream:
        return message
    return None


def case_no_header(stub, pb):
    return {
        "x509": code_of(lambda: first_message(stub.FetchX509SVID(pb.X509SVIDRequest(),
                                                                 timeout=10))),
        "jwt": code_of(lambda: stub.FetchJWTSVID(pb.JWTSVIDRequest(audience=["a"]), timeout=10)),
        "validate": code_of(lambda: stub.ValidateJWTSVID(
            pb.ValidateJWTSVIDRequest(audience="a", svid="x"), timeout=10)),
        "jwt_bundles": code_of(lambda: first_message(stub.FetchJWTBundles(
            pb.JWTBundlesRequest(), timeout=10))),
        "wit": code_of(lambda: first_message(stub.FetchWITSVID(pb.WITSVIDRequest(),
                                                               timeout=10))),
        "wit_bundles": code_of(lambda: first_message(stub.FetchWITBundles(
            pb.WITBundlesRequest(), timeout=10))),
    }


def case_registered(stub, pb):
    out = {}
    x509 = first_message(stub.FetchX509SVID(pb.X509SVIDRequest(), metadata=HEADER, timeout=10))
    out["svids"] = [{"spiffe_id": s.spiffe_id, "x509_svid": b64(s.x509_svid),
                     "x509_svid_key": b64(s.x509_svid_key), "bundle": b64(s.bundle),
                     "hint": s.hint} for s in x509.svids]
    out["federated_bundles"] = {k: b64(v) for k, v in x509.federated_bundles.items()}
    bundles = first_message(stub.FetchX509Bundles(pb.X509BundlesRequest(), metadata=HEADER,
                                                  timeout=10))
    out["x509_bundles"] = {k: b64(v) for k, v in bundles.bundles.items()}
    jwt_bundles = first_message(stub.FetchJWTBundles(pb.JWTBundlesRequest(), metadata=HEADER,
                                                     timeout=10))
    out["jwt_bundles"] = {k: json.loads(v) for k, v in jwt_bundles.bundles.items()}
    jwt = stub.FetchJWTSVID(pb.JWTSVIDRequest(audience=["wire-test"]), metadata=HEADER,
                            timeout=10)
    out["jwt_svids"] = [{"spiffe_id": s.spiffe_id, "svid": s.svid} for s in jwt.svids]
    validated = stub.ValidateJWTSVID(
        pb.ValidateJWTSVIDRequest(audience="wire-test", svid=jwt.svids[0].svid),
        metadata=HEADER, timeout=10)
    out["validated"] = {"spiffe_id": validated.spiffe_id,
                        "claims": json_format.MessageToDict(validated.claims)}
    out["validate_wrong_audience"] = code_of(lambda: stub.ValidateJWTSVID(
        pb.ValidateJWTSVIDRequest(audience="other", svid=jwt.svids[0].svid), metadata=HEADER,
        timeout=10))
    out["no_audience"] = code_of(lambda: stub.FetchJWTSVID(pb.JWTSVIDRequest(), metadata=HEADER,
                                                           timeout=10))
    wit = first_message(stub.FetchWITSVID(pb.WITSVIDRequest(), metadata=HEADER, timeout=10))
    payload = wit.svids[0].wit_svid.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    out["wit"] = {"spiffe_id": wit.svids[0].spiffe_id, "hint": wit.svids[0].hint,
                  "key_alg": json.loads(wit.svids[0].wit_svid_key)["alg"],
                  "cnf_alg": claims["cnf"]["jwk"]["alg"]}
    wit_bundles = first_message(stub.FetchWITBundles(pb.WITBundlesRequest(), metadata=HEADER,
                                                     timeout=10))
    out["wit_bundles"] = {k: json.loads(v) for k, v in wit_bundles.bundles.items()}
    return out


def case_unregistered(stub, pb):
    return {
        "jwt": code_of(lambda: stub.FetchJWTSVID(pb.JWTSVIDRequest(audience=["a"]),
                                                 metadata=HEADER, timeout=10)),
        # Held open without an identity: the deadline ends it.
        "x509": code_of(lambda: first_message(stub.FetchX509SVID(
            pb.X509SVIDRequest(), metadata=HEADER, timeout=0.5))),
    }


def main():
    stub_dir, socket_path, case = sys.argv[1:4]
    sys.path.insert(0, stub_dir)
    import workload_spec_pb2 as pb  # pylint: disable=import-outside-toplevel
    import workload_spec_pb2_grpc as pb_grpc  # pylint: disable=import-outside-toplevel
    with grpc.insecure_channel("unix://" + socket_path) as channel:
        stub = pb_grpc.SpiffeWorkloadAPIStub(channel)
        handler = {"no_header": case_no_header, "registered": case_registered,
                   "unregistered": case_unregistered}[case]
        print(json.dumps(handler(stub, pb)))


if __name__ == "__main__":
    main()
