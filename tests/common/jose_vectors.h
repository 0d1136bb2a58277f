// Interop vectors produced by an independent implementation: Python "cryptography" 48 (its
// own X.509 builder, ECDSA/RSA signers and a hand-written JWK/JWS encoder), not by Spinel.
// A SPIFFE bundle for spiffe://example.org with a P-384 x509-svid authority, a P-256
// jwt-svid key "py-ec" and an RSA-2048 jwt-svid key "py-rsa"; and two JWT-SVIDs signed with
// those keys: sub spiffe://example.org/python, aud ["spinel","other"], iat 1800000000,
// exp 1800000300.
#pragma once

namespace spinel::testing {

inline constexpr char kPythonBundleJson[] =
    "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-384\", \"x\": \"op9poNaGepaR3XHJmvh1cO4i_2gG2agjAq"
    "P_OohTLjT_GVBxM6_FjsWJ5B58queE\", \"y\": \"jJgXTndJ7reHINdSGUIykqzMTkhpHl5kZokR2viOX"
    "L_lU5aWG7fc2RBd3sNBTUIg\", \"use\": \"x509-svid\", \"x5c\": [\"MIIBgzCCAQmgAwIBAgICBNIwC"
    "gYIKoZIzj0EAwMwETEPMA0GA1UECgwGU1BJRkZFMB4XDTI2MDEwMTAwMDAwMFoXDTM1MTIzMDAwMDAwM"
    "FowETEPMA0GA1UECgwGU1BJRkZFMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEop9poNaGepaR3XHJmvh1c"
    "O4i/2gG2agjAqP/OohTLjT/GVBxM6/FjsWJ5B58queEjJgXTndJ7reHINdSGUIykqzMTkhpHl5kZokR2"
    "viOXL/lU5aWG7fc2RBd3sNBTUIgozQwMjAPBgNVHRMBAf8EBTADAQH/MB8GA1UdEQQYMBaGFHNwaWZmZ"
    "TovL2V4YW1wbGUub3JnMAoGCCqGSM49BAMDA2gAMGUCMBgNefdAFzjuzaKvHlDJzMc6qaktqIiLZ2q4/"
    "+nYuXrAjaA4Swswbc04HRCEY3Er+QIxAKYZcMB1tGEpAhpd47KAaYmNkVYy8XURNVKE82z1OQhKq3cqQ"
    "ZqIjYxl5lLC4SfZOQ==\"]}, {\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"ieoOjBBiIS6P_Y_Fa_1I"
    "fcXQ31M1msDAPlTdjVbjSnM\", \"y\": \"_6sADjrm1UBvt-8AaUwxcR2Bh1eQUwcp9VjRBPqnucU\", \"u"
    "se\": \"jwt-svid\", \"kid\": \"py-ec\"}, {\"kty\": \"RSA\", \"n\": \"wOt3rQPkg9Yl0aafKKPkcgKqz"
    "vHPnJ4lnL3RPXt0GdlRXjr-wDI0-oNfwbdZklcVahdfeChbrnrG2aYX0QU_k-G30AIwoN2lfZ2fXxlTs"
    "98Mdx1TLQ75-1OBZrCRSfmXgOvI7gomm4KXkxVShg9ce3Eupnh-EBtY4Su4B7OKd1pOKOtQOq3EqEAKu"
    "PNdyTVRBF8dRbB81sJMMFyWEMIu84AHwJ9zzUxDzjVGwhxqmgRMsMRvrJb8bQ_K3xJrkZFfklOTWLK6J"
    "37QncZ_8PV4ajdMaK-ZdG1Aw6_gcYnWe93uLVBAGb6S84jn6h22L40cixF7FygnEKjkma9VYfKtcQ\", "
    "\"e\": \"AQAB\", \"use\": \"jwt-svid\", \"kid\": \"py-rsa\"}], \"spiffe_sequence\": 42, "
    "\"spiff"
    "e_refresh_hint\": 300}";

inline constexpr char kPythonEs256Token[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6InB5LWVjIiwidHlwIjoiSldUIn0.eyJzdWIiOiJzcGlmZmU6Ly9l"
    "eGFtcGxlLm9yZy9weXRob24iLCJhdWQiOlsic3BpbmVsIiwib3RoZXIiXSwiaWF0IjoxODAwMDAwMDAw"
    "LCJleHAiOjE4MDAwMDAzMDB9.JfaGb4r-zlmFQ3nNhLQZWlqyCe9re5lm6ONKBekcqc0DxTAfjpbreaM"
    "I2KOZAHrV2VJpbkw7hdLUNXmuVmwrWA";

inline constexpr char kPythonRs256Token[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InB5LXJzYSJ9.eyJzdWIiOiJzcGlmZmU6Ly9leGFtcGxlLm9yZy9"
    "weXRob24iLCJhdWQiOlsic3BpbmVsIiwib3RoZXIiXSwiaWF0IjoxODAwMDAwMDAwLCJleHAiOjE4MDA"
    "wMDAzMDB9.on1EcfvFLEi84_CQg0oxo6WkpXPo03b8dpuNNbyXr-uPW6Xz2aj68EI1NQUkewXlIIo_6d"
    "UAkMz7WPvKNm7fTEBTbh35oXt15h8EIaPMQjJCbabHz_zPrgarH0aPqXFqHXNZadFFOthujRmPIYqjrc"
    "6S0tjeDw6KCx0Kh-eclQydD50iexxdoSWjgYYJPDg_Q8i3fv5TaLG1uSwN-nehSkaGjd8zt9HVKh_-ys"
    "g1C4CQ_wg3rpe11kuJrggjjwoqqWh1VI65QBoK5bBKM3_4ijoeqz0WHR3Uhp18kEaY0oGk-1hjE0P0v0"
    "daYbdXAzNAoOmk1cGR3HiN43QS3pRDpQ";

}  // namespace spinel::testing
