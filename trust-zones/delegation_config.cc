#include "trust-zones/delegation_config.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "common/delegation_token.h"
#include "common/duration.h"
#include "common/jwks.h"
#include "common/strings.h"
#include "trust-zones/raw_yaml.h"
#include "trust-zones/ttl_yaml.h"

namespace spinel::zones {
namespace {

using common::Quote;
using common::StrCat;
using common::YamlMap;
using internal::RawChild;
using internal::RawItem;

constexpr std::array<std::string_view, 11> kReservedClaims = {
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf", "act", "may_act", "user"};

SourceLocation LocationOf(const YamlMap& map, const YAML::Node& node) {
  return SourceLocation::FromMark(map.errors()->file(),
                                  node.IsDefined() ? node.Mark() : YAML::Mark::null_mark());
}

bool IsClaimName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || c == '/';
  });
}

std::string IssuerProblem(std::string_view issuer) {
  if (!issuer.starts_with("https://") || issuer.size() == 8) {
    return "must be an https:// URL (OpenID Connect issuers are)";
  }
  if (issuer.find_first_of("?# \t") != std::string_view::npos) {
    return "must have no query, fragment or spaces";
  }
  return "";
}

// A list of distinct non-empty strings; `required` means at least one.
std::vector<std::string> DistinctList(YamlMap& map, const YAML::Node& raw, std::string_view key,
                                      bool required) {
  std::vector<std::string> values = map.StringList(key);
  if (!map.errors()->ok()) return {};
  if (required && values.empty()) map.Error(key, "must list at least one value");
  std::set<std::string, std::less<>> seen;
  const std::string path = StrCat(map.key_path(), ".", key);
  for (size_t i = 0; i < values.size() && map.errors()->ok(); ++i) {
    const YAML::Node item = RawItem(RawChild(raw, key), i);
    if (values[i].empty()) map.errors()->Add(item, path, "values must not be empty");
    if (!seen.insert(values[i]).second) {
      map.errors()->Add(item, path, StrCat(Quote(values[i]), " is listed twice"));
    }
  }
  return values;
}

void CheckClaims(YamlMap& map, const YAML::Node& raw, const std::vector<std::string>& claims) {
  const std::string path = StrCat(map.key_path(), ".claims");
  for (size_t i = 0; i < claims.size() && map.errors()->ok(); ++i) {
    const YAML::Node item = RawItem(RawChild(raw, "claims"), i);
    if (!IsClaimName(claims[i])) {
      map.errors()->Add(item, path, StrCat("claim name ", Quote(claims[i]), " is not valid"));
    } else if (std::find(kReservedClaims.begin(), kReservedClaims.end(), claims[i]) !=
               kReservedClaims.end()) {
      map.errors()->Add(item, path,
                        StrCat(Quote(claims[i]),
                               " is a registered token claim, not user "
                               "context; the user's subject is always carried"));
    }
  }
}

std::string ResolveJwksPath(const std::string& zone_file, const std::string& jwks_file) {
  const std::filesystem::path path(jwks_file);
  if (path.is_absolute()) return jwks_file;
  return (std::filesystem::path(zone_file).parent_path() / path).lexically_normal().string();
}

TrustedIssuerConfig ParseIssuer(YamlMap& entry, const YAML::Node& raw) {
  TrustedIssuerConfig out;
  out.location = LocationOf(entry, raw);
  out.issuer.issuer = entry.RequiredString("issuer");
  if (entry.errors()->ok()) {
    const std::string problem = IssuerProblem(out.issuer.issuer);
    if (!problem.empty()) entry.Error("issuer", problem);
  }
  const std::string jwks_file = entry.RequiredString("jwks_file");
  out.jwks_file_location = LocationOf(entry, RawChild(raw, "jwks_file"));
  if (entry.errors()->ok() && jwks_file.empty()) entry.Error("jwks_file", "must not be empty");
  out.jwks_file = ResolveJwksPath(entry.errors()->file(), jwks_file);
  out.issuer.audiences = DistinctList(entry, raw, "audiences", /*required=*/true);
  out.issuer.claims = DistinctList(entry, raw, "claims", /*required=*/false);
  CheckClaims(entry, raw, out.issuer.claims);
  entry.RejectUnknownKeys();
  return out;
}

}  // namespace

void ParseTrustedIssuers(YamlMap& map, const YAML::Node& root, Zone& zone) {
  std::vector<YamlMap> entries = map.MapList("trusted_issuers");
  const YAML::Node raw = RawChild(root, "trusted_issuers");
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < entries.size() && map.errors()->ok(); ++i) {
    TrustedIssuerConfig issuer = ParseIssuer(entries[i], RawItem(raw, i));
    if (map.errors()->ok() && !seen.insert(issuer.issuer.issuer).second) {
      entries[i].Error("issuer",
                       StrCat("issuer ", Quote(issuer.issuer.issuer), " is listed twice"));
    }
    zone.trusted_issuers.push_back(std::move(issuer));
  }
}

void ParseDelegation(YamlMap& map, const YAML::Node& root, Zone& zone) {
  const YAML::Node raw = RawChild(root, "delegation");
  YamlMap sub = map.Map("delegation");
  if (!map.errors()->ok()) return;
  if (!raw.IsDefined() || raw.IsNull()) {
    if (!zone.trusted_issuers.empty()) {
      map.Error("trusted_issuers",
                "needs a `delegation` section: trusted issuers are used only "
                "by token exchange, which is off without one");
    }
    return;
  }
  zone.delegation.enabled = true;
  zone.delegation.location = LocationOf(map, raw);
  std::optional<int64_t> max_chain =
      sub.Int("max_chain", 1, static_cast<int64_t>(common::kMaxDelegationChain));
  if (!max_chain && map.errors()->ok()) sub.Error("max_chain", "missing required key");
  zone.delegation.max_chain = static_cast<size_t>(max_chain.value_or(0));
  zone.delegation.token_ttl = internal::ParseTtl(sub, raw, "token_ttl");
  if (map.errors()->ok() && zone.delegation.token_ttl.max_ttl > kMaxDelegationTokenTtl) {
    sub.Error("token_ttl",
              StrCat("max ", common::FormatDuration(zone.delegation.token_ttl.max_ttl),
                     " is longer than ", common::FormatDuration(kMaxDelegationTokenTtl),
                     ": delegation tokens are short-lived"));
  }
  sub.RejectUnknownKeys();
}

absl::Status CheckTrustedIssuerKeys(const Zone& zone) {
  for (size_t i = 0; i < zone.trusted_issuers.size(); ++i) {
    const TrustedIssuerConfig& issuer = zone.trusted_issuers[i];
    absl::StatusOr<std::unique_ptr<common::JwksFile>> file =
        common::JwksFile::Open(issuer.jwks_file);
    if (!file.ok()) {
      return absl::Status(file.status().code(),
                          StrCat(issuer.jwks_file_location.ToString(), ": trusted_issuers[", i,
                                 "].jwks_file: ", file.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace spinel::zones
