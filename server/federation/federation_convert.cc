// Federation relationship validation and conversion (federation_convert.h).
#include "server/federation/federation_convert.h"

#include <cctype>
#include <cstdint>
#include <limits>
#include <string>

#include "common/bundle.h"
#include "common/certificate.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

constexpr std::string_view kHttpsScheme = "https://";
constexpr size_t kMaxWebCaPemBytes = common::kMaxBundleJsonBytes;

absl::Status FieldError(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(field, ": ", problem));
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

bool IsDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A DNS name or IPv4 address: dot-separated labels of letters, digits and '-', none empty,
// none starting or ending with '-', each at most 63 bytes.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    start = end + 1;
  }
  return true;
}

bool IsIpv6Literal(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  }
  return true;
}

// "host[:port]" of an https URL; the problem, or "" when valid.
std::string AuthorityProblem(std::string_view authority) {
  if (authority.empty()) return "has no host";
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "has an unterminated [IPv6] host";
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return "has text after the [IPv6] host";
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    if (!IsIpv6Literal(host)) return "has an invalid [IPv6] host";
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return "has no host";
    if (!IsHostName(host)) return StrCat("has an invalid host ", Quote(host));
  }
  if (!has_port) return "";
  if (!IsDigits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
      std::stoi(std::string(port)) > 65535) {
    return StrCat("has an invalid port ", Quote(port), " (1-65535)");
  }
  return "";
}

absl::StatusOr<common::TrustDomain> ParseTrustDomain(const std::string& value) {
  if (value.empty()) return FieldError("trust_domain", "a trust domain is required");
  if (value.find(":/") != std::string::npos) {
    return FieldError("trust_domain",
                      StrCat(Quote(value), ": give a trust domain name, not a SPIFFE ID"));
  }
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(value);
  if (!td.ok())
    return FieldError("trust_domain", StrCat(Quote(value), ": ", td.status().message()));
  return td;
}

absl::Status CheckProfileFields(const spinel::v1::FederationRelationship& proto) {
  const std::string& profile = proto.profile();
  if (profile.empty()) {
    return FieldError("profile",
                      StrCat("required: ", kProfileHttpsWeb, " or ", kProfileHttpsSpiffe));
  }
  if (profile == kProfileHttpsSpiffe) {
    if (proto.endpoint_spiffe_id().empty()) {
      return FieldError("endpoint_spiffe_id",
                        "required for profile https_spiffe (the SPIFFE ID of the endpoint's "
                        "X509-SVID)");
    }
    if (!proto.web_ca_pem().empty()) {
      return FieldError("web_ca_pem",
                        "only for profile https_web (an https_spiffe endpoint is verified with "
                        "the bundle of endpoint_spiffe_id's trust domain)");
    }
    return absl::OkStatus();
  }
  if (profile != kProfileHttpsWeb) {
    return FieldError("profile", StrCat(Quote(profile), " is not ", kProfileHttpsWeb, " or ",
                                        kProfileHttpsSpiffe));
  }
  if (!proto.endpoint_spiffe_id().empty()) {
    return FieldError("endpoint_spiffe_id", "only for profile https_spiffe");
  }
  return absl::OkStatus();
}

absl::Status CheckWebCaPem(const std::string& pem) {
  if (pem.empty()) return absl::OkStatus();
  if (pem.size() > kMaxWebCaPemBytes) {
    return FieldError("web_ca_pem", StrCat("at most ", kMaxWebCaPemBytes, " bytes"));
  }
  absl::StatusOr<std::vector<common::Certificate>> certs = common::Certificate::ParsePemChain(pem);
  if (!certs.ok()) return FieldError("web_ca_pem", std::string(certs.status().message()));
  return absl::OkStatus();
}

// InvalidArgument when an X.509 authority of `bundle` names a trust domain other than its own.
absl::Status CheckAuthoritiesOf(const common::Bundle& bundle) {
  for (size_t i = 0; i < bundle.x509_authorities.size(); ++i) {
    for (const std::string& uri : bundle.x509_authorities[i].UriSans()) {
      if (!StartsWithNoCase(uri, "spiffe://")) continue;
      absl::StatusOr<common::TrustDomain> named = common::TrustDomain::Parse(uri);
      if (named.ok() && *named == bundle.trust_domain) continue;
      return FieldError("initial_bundle",
                        StrCat("X.509 authority #", i + 1, " names ", Quote(uri),
                               ", which is not of trust domain ", bundle.trust_domain.name(),
                               " (is this another trust domain's bundle?)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckBundleEndpointUrl(std::string_view url) {
  if (url.empty())
    return absl::InvalidArgumentError("a URL is required (https://host[:port]/path)");
  if (url.size() > kMaxBundleEndpointUrlBytes) {
    return absl::InvalidArgumentError(StrCat("at most ", kMaxBundleEndpointUrlBytes, " bytes"));
  }
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return absl::InvalidArgumentError(
          StrCat(Quote(url), ": must not contain spaces, control or non-ASCII characters"));
    }
  }
  if (!StartsWithNoCase(url, kHttpsScheme)) {
    return absl::InvalidArgumentError(
        StrCat(Quote(url), ": not an https:// URL (bundle endpoints are served over HTTPS)"));
  }
  std::string_view rest = url.substr(kHttpsScheme.size());
  if (rest.find('#') != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(Quote(url), ": must not have a #fragment"));
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(Quote(url), ": must not contain user info (user@)"));
  }
  if (std::string problem = AuthorityProblem(authority); !problem.empty()) {
    return absl::InvalidArgumentError(StrCat(Quote(url), ": ", problem));
  }
  return absl::OkStatus();
}

absl::StatusOr<FederationRelationship> FederationRelationshipFromProto(
    const spinel::v1::FederationRelationship& proto) {
  FederationRelationship relationship;
  SPINEL_ASSIGN_OR_RETURN(relationship.trust_domain, ParseTrustDomain(proto.trust_domain()));
  if (absl::Status url = CheckBundleEndpointUrl(proto.bundle_endpoint_url()); !url.ok()) {
    return FieldError("bundle_endpoint_url", std::string(url.message()));
  }
  SPINEL_RETURN_IF_ERROR(CheckProfileFields(proto));
  if (!proto.endpoint_spiffe_id().empty()) {
    absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(proto.endpoint_spiffe_id());
    if (!id.ok()) {
      return FieldError("endpoint_spiffe_id",
                        StrCat(Quote(proto.endpoint_spiffe_id()), ": ", id.status().message()));
    }
    relationship.endpoint_spiffe_id = *std::move(id);
  }
  SPINEL_RETURN_IF_ERROR(CheckWebCaPem(proto.web_ca_pem()));
  relationship.bundle_endpoint_url = proto.bundle_endpoint_url();
  relationship.profile = proto.profile();
  relationship.web_ca_pem = proto.web_ca_pem();
  return relationship;
}

absl::StatusOr<BundleRecord> InitialBundleRecord(const common::TrustDomain& td,
                                                 std::string_view bundle_json) {
  absl::StatusOr<common::Bundle> bundle = common::Bundle::Parse(td, bundle_json);
  if (!bundle.ok()) return FieldError("initial_bundle", std::string(bundle.status().message()));
  if (bundle->x509_authorities.empty() && bundle->jwt_authorities.empty() &&
      bundle->wit_authorities.empty()) {
    return FieldError("initial_bundle", "has no X.509, JWT or WIT authority (nothing to trust)");
  }
  SPINEL_RETURN_IF_ERROR(CheckAuthoritiesOf(*bundle));
  const uint64_t sequence = bundle->sequence.value_or(0);
  if (sequence > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return FieldError("initial_bundle", "spiffe_sequence is too large (at most 2^63-1)");
  }
  return BundleRecord{.trust_domain = td,
                      .bundle_json = std::string(bundle_json),
                      .sequence = static_cast<int64_t>(sequence)};
}

spinel::v1::FederationRelationship FederationRelationshipToProto(
    const FederationRelationship& relationship, const std::optional<BundleRecord>& bundle) {
  spinel::v1::FederationRelationship proto;
  proto.set_trust_domain(relationship.trust_domain.name());
  proto.set_bundle_endpoint_url(relationship.bundle_endpoint_url);
  proto.set_profile(relationship.profile);
  if (relationship.endpoint_spiffe_id) {
    proto.set_endpoint_spiffe_id(relationship.endpoint_spiffe_id->ToString());
  }
  proto.set_web_ca_pem(relationship.web_ca_pem);
  proto.set_created_at(relationship.created_at);
  proto.set_updated_at(relationship.updated_at);
  spinel::v1::FederationRefreshState* refresh = proto.mutable_refresh();
  refresh->set_last_attempt_at(relationship.refresh.last_attempt_at);
  refresh->set_last_success_at(relationship.refresh.last_success_at);
  refresh->set_next_refresh_at(relationship.refresh.next_refresh_at);
  refresh->set_last_error(relationship.refresh.last_error);
  refresh->set_consecutive_failures(relationship.refresh.consecutive_failures);
  if (bundle) {
    spinel::v1::Bundle* out = proto.mutable_bundle();
    out->set_trust_domain(bundle->trust_domain.name());
    out->set_jwks(bundle->bundle_json);
    out->set_sequence(static_cast<uint64_t>(bundle->sequence));
  }
  return proto;
}

}  // namespace spinel::server
