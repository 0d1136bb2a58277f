// The delegation keys of a zone file (zone_loader.h), parsed into Zone::trusted_issuers and
// Zone::delegation:
//
//   trusted_issuers:                      # optional; user identity issuers (OIDC providers)
//     - issuer: https://idp.example.org   # required; the exact "iss"; https://, no query or
//                                         # fragment; not listed twice in the zone
//       jwks_file: idp.jwks.json          # required; the issuer's JWK Set, relative to the
//                                         # zone file's directory (or absolute); re-read when
//                                         # it changes (common/jwks.h)
//       audiences: [spinel-agents]        # required, non-empty; accepted "aud" values
//       claims: [email, groups]           # optional; user claims carried into the decision
//                                         # context (strings or arrays of strings); not a
//                                         # registered or structural claim (iss, sub, aud,
//                                         # exp, nbf, iat, jti, cnf, act, may_act, user)
//   delegation:                           # optional; token exchange is off without it
//     max_chain: 3                        # required; 1..16 workloads in a chain
//     token_ttl: {default: 5m, max: 15m}  # required; like x509_svid_ttl; max at most 1h
//
// A zone with trusted_issuers must have a delegation section (the issuers are used only by
// token exchange). Every error names "<file>:<line>:<column>: <key path>: <problem>".
//
// Loading a zone never reads JWKS files (agents build zones from text the server sends);
// CheckTrustedIssuerKeys does, for the server and operators' checks.
#pragma once

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "common/yaml_reader.h"
#include "trust-zones/zone.h"

namespace spinel::zones {

inline constexpr std::chrono::milliseconds kMaxDelegationTokenTtl = std::chrono::hours(1);

// Read the `trusted_issuers` / `delegation` keys of the zone file `root` into `zone`; problems
// are recorded in map.errors().
void ParseTrustedIssuers(common::YamlMap& map, const YAML::Node& root, Zone& zone);
void ParseDelegation(common::YamlMap& map, const YAML::Node& root, Zone& zone);

// Loads every trusted issuer's JWKS file of `zone`. InvalidArgument (NotFound for a missing
// file) "<zone file>:<line>:<column>: trusted_issuers[<i>].jwks_file: <problem>".
absl::Status CheckTrustedIssuerKeys(const Zone& zone);

}  // namespace spinel::zones
