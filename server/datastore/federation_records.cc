#include "server/datastore/federation_records.h"

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

absl::Status InvalidRelationship(const FederationRelationship& r, std::string_view problem) {
  return absl::InvalidArgumentError(
      StrCat("federation relationship with ", Quote(r.trust_domain.name()), ": ", problem));
}

bool IsJsonObject(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !parsed.is_discarded() && parsed.is_object();
}

// https://host[:port][/path]: a non-empty host without spaces, userinfo or fragment.
bool IsHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  std::string_view rest = url.substr(kScheme.size());
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority.front() == ':') return false;
  for (char c : url) {
    if (c <= ' ' || c == '#' || c == '\x7f') return false;
  }
  return authority.find('@') == std::string_view::npos;
}

absl::StatusOr<common::TrustDomain> ReadTrustDomain(const std::string& name,
                                                    std::string_view what) {
  auto td = common::TrustDomain::Parse(name);
  if (!td.ok()) {
    return absl::DataLossError(
        StrCat("stored ", what, " has an invalid trust domain ", Quote(name)));
  }
  return *td;
}

}  // namespace

absl::Status ValidateFederationRelationship(const FederationRelationship& r) {
  if (r.trust_domain.empty()) {
    return absl::InvalidArgumentError("federation relationship: trust_domain is required");
  }
  if (!IsHttpsUrl(r.bundle_endpoint_url)) {
    return InvalidRelationship(r, StrCat("bundle endpoint URL ", Quote(r.bundle_endpoint_url),
                                         " is not https://host[:port][/path]"));
  }
  if (r.profile == kProfileHttpsSpiffe) {
    if (!r.endpoint_spiffe_id.has_value() || r.endpoint_spiffe_id->empty()) {
      return InvalidRelationship(r, "profile https_spiffe needs the endpoint SPIFFE ID");
    }
  } else if (r.profile == kProfileHttpsWeb) {
    if (r.endpoint_spiffe_id.has_value()) {
      return InvalidRelationship(r, "profile https_web takes no endpoint SPIFFE ID");
    }
  } else {
    return InvalidRelationship(
        r, StrCat("unknown profile ", Quote(r.profile), " (https_web or https_spiffe)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateInitialBundle(const FederationRelationship& r, const BundleRecord& bundle) {
  if (bundle.trust_domain != r.trust_domain) {
    return InvalidRelationship(r, StrCat("the initial bundle is of another trust domain, ",
                                         Quote(bundle.trust_domain.name())));
  }
  return ValidateBundle(bundle);
}

absl::Status ValidateServerBundle(const ServerBundleRecord& record) {
  if (record.server_id.empty()) {
    return absl::InvalidArgumentError("server bundle: server_id is required");
  }
  const std::string owner = StrCat("bundle of ", Quote(record.trust_domain.name()),
                                   " published by server ", Quote(record.server_id));
  if (record.trust_domain.empty()) {
    return absl::InvalidArgumentError(StrCat(owner, ": trust_domain is required"));
  }
  if (record.sequence < 0) {
    return absl::InvalidArgumentError(StrCat(owner, ": sequence cannot be negative"));
  }
  if (!IsJsonObject(record.bundle_json)) {
    return absl::InvalidArgumentError(StrCat(owner, ": bundle_json is not a JSON object"));
  }
  return absl::OkStatus();
}

absl::StatusOr<FederationRelationship> ReadFederationRelationship(const SqlRow& row) {
  FederationRelationship r;
  SPINEL_ASSIGN_OR_RETURN(r.trust_domain, ReadTrustDomain(row.Text(0), "federation relationship"));
  r.bundle_endpoint_url = row.Text(1);
  r.profile = row.Text(2);
  const std::string endpoint_id = row.Text(3);
  if (!endpoint_id.empty()) {
    auto id = common::SpiffeId::Parse(endpoint_id);
    if (!id.ok()) {
      return absl::DataLossError(StrCat("stored federation relationship with ",
                                        Quote(r.trust_domain.name()),
                                        " has an invalid endpoint SPIFFE ID ", Quote(endpoint_id)));
    }
    r.endpoint_spiffe_id = *id;
  }
  r.web_ca_pem = row.Text(4);
  r.created_at = row.Int(5);
  r.updated_at = row.Int(6);
  r.refresh = FederationRefreshState{row.Int(7), row.Int(8), row.Int(9), row.Text(10), row.Int(11)};
  return r;
}

absl::StatusOr<ServerBundleRecord> ReadServerBundle(const SqlRow& row) {
  ServerBundleRecord r;
  r.server_id = row.Text(0);
  SPINEL_ASSIGN_OR_RETURN(r.trust_domain, ReadTrustDomain(row.Text(1), "server bundle"));
  r.bundle_json = row.Text(2);
  r.sequence = row.Int(3);
  r.updated_at = row.Int(4);
  return r;
}

absl::Status FederationNotFound(const common::TrustDomain& td) {
  return absl::NotFoundError(
      StrCat("federation relationship with ", Quote(td.name()), " not found"));
}

absl::Status CheckServerBundleSequence(const ServerBundleRecord& stored,
                                       const ServerBundleRecord& next) {
  if (stored.sequence <= next.sequence) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat(
      "bundle of ", Quote(next.trust_domain.name()), " published by server ", Quote(next.server_id),
      " is at sequence ", stored.sequence, ", newer than ", next.sequence, ": not replaced"));
}

}  // namespace spinel::server
