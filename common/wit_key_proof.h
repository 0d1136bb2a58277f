// WIT key proofs: how a workload that keeps its own private key proves, to Spinel's agent, that
// it holds the private half of the public JWK it wants a WIT-SVID bound to (the spinel.v1
// WitSvids.MintWitSvidForKey RPC on the Workload API socket; docs/workload-api.md). Without
// it, a caller could get its own identity bound to a key someone else holds (e.g. the cnf.jwk
// copied from another workload's WIT-SVID), so proofs made with that key would pass as it.
//
// A proof is a compact JWS signed with the workload key itself:
//   header  {"alg": <the JWK's "alg">, "typ": "wit-key-proof+jwt"}   (exactly; no "kid"/"jwk")
//   claims  {"aud": "spinel:wit-svid-for-key",   fixed: a proof for nothing else
//            "jkt": RFC 7638 thumbprint of the public JWK,   binds the proof to that key
//            "sub": the SPIFFE ID requested, or "" for the caller's default identity,
//            "iat": now, "exp": at most kMaxWitKeyProofLifetime after iat,
//            "jti": 16..256 characters, unique (b64u of 16 random bytes)}
// Verification, in this order (each failure InvalidArgument "key proof rejected: <why>"; never
// the proof or key in messages): at most 8 KiB, three base64url segments with JSON objects;
// typ exact; alg equals the JWK's alg (the WIT-SVID list; never none/HS*/EdDSA); the signature
// verifies with the JWK's key; aud exact; jkt equals the thumbprint; sub equals the request's
// spiffe_id; iat and exp present, exp > iat, exp - iat <= kMaxWitKeyProofLifetime, iat <= now +
// leeway and now < exp + leeway; jti not seen before for this key (replay cache keyed by
// (jkt, jti), kept until exp + leeway; a full cache refuses: ResourceExhausted). A proof is
// thus good once, for one key, one requested identity and about a minute. The caller's identity
// comes from the socket's attestation, not from the proof.
//
// Thread-safety: both functions may be called from any thread; the replay cache is thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/replay_cache.h"
#include "common/wit_svid.h"

namespace spinel::common {

inline constexpr std::string_view kWitKeyProofTyp = "wit-key-proof+jwt";
inline constexpr std::string_view kWitKeyProofAudience = "spinel:wit-svid-for-key";
inline constexpr Duration kMaxWitKeyProofLifetime = std::chrono::seconds(60);
inline constexpr Duration kWitKeyProofLeeway = std::chrono::seconds(5);

// A proof for `key` (its JWK with algorithm `key_alg`) asking for `spiffe_id` ("" = default),
// valid `lifetime` (1 s .. kMaxWitKeyProofLifetime) from `now`.
absl::StatusOr<std::string> CreateWitKeyProof(const PrivateKey& key, JwsAlgorithm key_alg,
                                              std::string_view spiffe_id, TimePoint now,
                                              Duration lifetime = std::chrono::seconds(30));

// Checks `proof` for `key` and the requested `spiffe_id` as described above.
absl::Status VerifyWitKeyProof(std::string_view proof, const ConfirmationKey& key,
                               std::string_view spiffe_id, TimePoint now, WptReplayCache& replay);

}  // namespace spinel::common
