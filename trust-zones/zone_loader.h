// Loading zone files: one YAML file per zone, named <name>.yaml, in one directory. Loading is
// all-or-nothing: any problem in any file fails the whole load, so a caller reloading zones
// keeps its previous ZoneSet when the new files are invalid.
//
// Zone file fields (the shipped files in trust-zones/zones/ are the reference by example):
//   name           required; a-z, 0-9 and '-', starting with a letter, at most 63 bytes; must
//                  equal the file name without ".yaml" (so `zone show NAME` maps to one file)
//   trust_domain   required; a bare trust domain name ("training.ai.example.org")
//   description    optional text
//   x509_svid_ttl  required; {default: 1h, max: 4h}, or a bare duration meaning default = max
//   jwt_svid_ttl   required; same form
//   wit_svid_ttl   optional; same form; absent: kDefaultWitSvidTtl, each cut to ca_ttl / 2
//   ca_ttl         required; must be at least 2 x the largest of the max SVID TTLs, so a CA
//                  that is rotated at half its life can still sign full-length SVIDs that
//                  expire before it does
//   nodes          optional list of selectors an agent must all have to host the zone;
//                  empty or absent means any node
//   peers          optional list of zone names; peering is symmetric (zone.h); a zone cannot
//                  peer with itself, list a peer twice, or name a zone that has no file
//   federates_with optional list of foreign trust domains (bare names) whose federated bundles
//                  the zone's workloads get; not listed twice, not the zone's own trust
//                  domain nor any other zone's (ZoneSet::Create) nor the control plane's
//                  (checked by the server against its config)
//   resources      optional list of rules (rule.h); rule names must be unique in the zone
//   trusted_issuers optional list of user identity issuers; delegation optional token
//                  exchange settings (delegation_config.h)
//
// Every error is InvalidArgument "<file>:<line>:<column>: <key path>: <problem>". Only files
// ending in ".yaml" whose names do not start with '.' are read; other files are ignored. A
// directory without zone files is an error.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trust-zones/zone.h"

namespace spinel::zones {

// The WIT-SVID lifetime of a zone file without wit_svid_ttl (before the ca_ttl / 2 cut).
inline constexpr TtlLimit kDefaultWitSvidTtl{std::chrono::minutes(30), std::chrono::hours(1)};

struct ZoneSource {
  std::string file;  // path used in messages; its base name must be <name>.yaml
  std::string text;  // YAML
};

// Parses and checks one zone file on its own (everything except the cross-zone checks of
// ZoneSet::Create).
absl::StatusOr<Zone> ParseZone(const ZoneSource& source);

// Parses every source and builds the set. Fails on the first problem (sources are taken in
// file-name order, so the same files always give the same error).
absl::StatusOr<ZoneSet> BuildZoneSet(std::vector<ZoneSource> sources);

// Reads the zone files of `dir` (sorted by name). NotFound when the directory cannot be read.
absl::StatusOr<std::vector<ZoneSource>> ReadZoneDir(const std::string& dir);

// ReadZoneDir + BuildZoneSet.
absl::StatusOr<ZoneSet> LoadZoneDir(const std::string& dir);

}  // namespace spinel::zones
