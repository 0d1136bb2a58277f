// BundleFetcher: fetches and verifies a foreign trust domain's SPIFFE bundle from its bundle
// endpoint (SPIFFE Trust Domain and Bundle §5, issue 9), as a FederationRelationship says.
//
// One HTTPS GET of relationship.bundle_endpoint_url (cpp-httplib; connect/read/write timeouts
// of BundleFetcherOptions::timeout each), answered 200 with at most max_body_bytes of body,
// which must decode as a SPIFFE bundle (common::Bundle::Parse) of relationship.trust_domain:
// an X.509 authority naming another trust domain in a SPIFFE URI SAN is refused.
//
// Server authentication, by profile:
//   https_web     the chain is verified (X509_verify_cert, at the clock's now) against the
//                 PEM CAs of web_ca_pem, or the system roots when it is empty, and the
//                 certificate must match the URL's host (DNS name or IP address).
//   https_spiffe  the presented chain is verified as an X509-SVID (common::VerifyX509Svid)
//                 against the X.509 authorities of endpoint_spiffe_id's trust domain that the
//                 caller passes, and the leaf's SPIFFE ID must equal endpoint_spiffe_id; no host
//                 name check. The verification runs inside the handshake, which fails when it
//                 does (no request is sent to an unverified server).
//
// Every refusal names the URL and the reason: InvalidArgument for a bad relationship (URL,
// profile), PermissionDenied for a server that does not verify, Unavailable for a connection
// or I/O failure (unreachable, timeout), DataLoss for a bad answer (status, size, bundle).
// Thread-safe (every Fetch uses its own client).
#pragma once

#include <chrono>
#include <cstddef>

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "common/clock.h"
#include "common/x509_svid_validator.h"
#include "server/datastore/types.h"

namespace spinel::server {

struct BundleFetcherOptions {
  std::chrono::seconds timeout{10};
  size_t max_body_bytes = common::kMaxBundleJsonBytes;  // 1 MiB
};

class BundleFetcher {
 public:
  explicit BundleFetcher(const common::Clock& clock, BundleFetcherOptions options = {})
      : clock_(clock), options_(options) {}

  // `spiffe_authorities` is used only for https_spiffe (see above).
  absl::StatusOr<common::Bundle> Fetch(const FederationRelationship& relationship,
                                       const common::X509AuthoritySource& spiffe_authorities) const;

 private:
  const common::Clock& clock_;
  const BundleFetcherOptions options_;
};

// The parts of an https:// URL: host (brackets of an IPv6 literal removed), port (443 when
// absent) and path ("/" when absent). InvalidArgument naming the URL otherwise.
struct HttpsUrl {
  std::string host;
  int port = 443;
  std::string path = "/";
};
absl::StatusOr<HttpsUrl> ParseHttpsUrl(const std::string& url);

}  // namespace spinel::server
