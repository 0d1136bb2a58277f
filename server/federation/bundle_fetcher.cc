#include "server/federation/bundle_fetcher.h"

#include <httplib.h>
#include <openssl/x509v3.h>

#include <charconv>

#include "common/ssl_error.h"
#include "common/ssl_ptr.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrCat;

// What the handshake's certificate check needs, and what it found wrong.
struct VerifyContext {
  const FederationRelationship* relationship = nullptr;
  const common::X509AuthoritySource* authorities = nullptr;
  common::TimePoint now;
  std::string error;  // "" unless the server was refused
};

// The peer's chain as the handshake received it: the leaf, then the certificates it sent.
std::vector<common::Certificate> PeerChain(X509_STORE_CTX* store_ctx) {
  std::vector<common::Certificate> chain;
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (leaf == nullptr) return chain;
  X509_up_ref(leaf);
  chain.push_back(common::Certificate::Adopt(common::SslPtr<X509>(leaf)));
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_ctx);
  for (int i = 0; sent != nullptr && i < sk_X509_num(sent); ++i) {
    X509* cert = sk_X509_value(sent, i);
    if (X509_cmp(cert, leaf) == 0) continue;
    X509_up_ref(cert);
    chain.push_back(common::Certificate::Adopt(common::SslPtr<X509>(cert)));
  }
  return chain;
}

std::string VerifySpiffe(X509_STORE_CTX* store_ctx, const VerifyContext& c) {
  absl::StatusOr<common::VerifiedX509Svid> svid =
      common::VerifyX509Svid(PeerChain(store_ctx), *c.authorities, c.now);
  if (!svid.ok()) {
    return StrCat("its X509-SVID does not verify: ", svid.status().message());
  }
  const common::SpiffeId& expected = *c.relationship->endpoint_spiffe_id;
  if (svid->id != expected) {
    return StrCat("it presented SPIFFE ID ", svid->id.ToString(), ", expected ",
                  expected.ToString());
  }
  return "";
}

std::string VerifyWeb(X509_STORE_CTX* store_ctx, const VerifyContext& c) {
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(store_ctx),
                             static_cast<time_t>(common::ToUnixSeconds(c.now)));
  if (X509_verify_cert(store_ctx) == 1) return "";
  const int error = X509_STORE_CTX_get_error(store_ctx);
  common::ClearSslErrors();
  return StrCat("its certificate does not verify: ", X509_verify_cert_error_string(error),
                " (depth ", X509_STORE_CTX_get_error_depth(store_ctx), ")");
}

// SSL_CTX_set_cert_verify_callback: replaces OpenSSL's chain check. 1 = accept.
int VerifyPeer(X509_STORE_CTX* store_ctx, void* arg) {
  auto* c = static_cast<VerifyContext*>(arg);
  c->error = c->relationship->profile == "https_spiffe" ? VerifySpiffe(store_ctx, *c)
                                                        : VerifyWeb(store_ctx, *c);
  if (c->error.empty()) return 1;
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

// Trust anchors and host name for https_web.
absl::Status ConfigureWeb(SSL_CTX* ctx, const FederationRelationship& r, const HttpsUrl& url) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (r.web_ca_pem.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return common::SslError("cannot load the system CA certificates");
    }
  } else {
    SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> cas,
                            common::Certificate::ParsePemChain(r.web_ca_pem));
    for (const common::Certificate& ca : cas) {
      if (X509_STORE_add_cert(store, ca.x509()) != 1) {
        return common::SslError("cannot use the relationship's web CA certificates");
      }
    }
  }
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str()) != 1) {
    common::ClearSslErrors();  // not an IP address: a DNS name
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size()) != 1) {
      return common::SslError("cannot set the host name to verify");
    }
  }
  return absl::OkStatus();
}

// What went wrong, in words, for a request that got no answer.
std::string Describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect (refused or unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "reading the answer failed or timed out";
    case httplib::Error::Write:
      return "sending the request failed";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    default:
      return StrCat("request failed: ", httplib::to_string(error));
  }
}

absl::Status CheckRelationship(const FederationRelationship& r) {
  if (r.profile == "https_spiffe") {
    if (!r.endpoint_spiffe_id.has_value() || r.endpoint_spiffe_id->empty()) {
      return absl::InvalidArgumentError("https_spiffe relationship without endpoint SPIFFE ID");
    }
    return absl::OkStatus();
  }
  if (r.profile == "https_web") return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("unknown bundle endpoint profile ", common::Quote(r.profile)));
}

// The body as a bundle of the relationship's trust domain.
absl::StatusOr<common::Bundle> ParseBody(const FederationRelationship& r, const std::string& body) {
  SPINEL_ASSIGN_OR_RETURN(common::Bundle bundle, common::Bundle::Parse(r.trust_domain, body));
  for (const common::Certificate& authority : bundle.x509_authorities) {
    for (const std::string& uri : authority.UriSans()) {
      if (uri.rfind("spiffe://", 0) != 0) continue;
      absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(uri);
      if (!td.ok() || *td != r.trust_domain) {
        return absl::InvalidArgumentError(StrCat("an X.509 authority belongs to ",
                                                 common::Quote(uri), ", not to trust domain ",
                                                 r.trust_domain.name()));
      }
    }
  }
  return bundle;
}

}  // namespace

absl::StatusOr<HttpsUrl> ParseHttpsUrl(const std::string& url) {
  auto bad = [&url](std::string_view why) {
    return absl::InvalidArgumentError(
        StrCat("bundle endpoint URL ", common::Quote(url), ": ", why));
  };
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return bad("must start with https://");
  HttpsUrl out;
  const size_t path_at = url.find('/', kScheme.size());
  std::string authority = url.substr(kScheme.size(), path_at - kScheme.size());
  if (path_at != std::string::npos) out.path = url.substr(path_at);
  if (authority.find('@') != std::string::npos) return bad("must not hold user information");
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    const std::string port = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port < 1 ||
        out.port > 65535) {
      return bad("has no valid port (1-65535)");
    }
    authority.resize(colon);
  }
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']') {
    authority = authority.substr(1, authority.size() - 2);
  }
  if (authority.empty()) return bad("has no host");
  out.host = authority;
  return out;
}

absl::StatusOr<common::Bundle> BundleFetcher::Fetch(
    const FederationRelationship& relationship,
    const common::X509AuthoritySource& spiffe_authorities) const {
  const std::string& url_text = relationship.bundle_endpoint_url;
  auto refused = [&url_text](absl::StatusCode code, const std::string& why) {
    return absl::Status(code, StrCat("bundle endpoint ", url_text, ": ", why));
  };
  if (absl::Status ok = CheckRelationship(relationship); !ok.ok()) {
    return refused(absl::StatusCode::kInvalidArgument, std::string(ok.message()));
  }
  SPINEL_ASSIGN_OR_RETURN(HttpsUrl url, ParseHttpsUrl(url_text));
  httplib::SSLClient client(url.host, url.port);
  if (!client.is_valid()) return common::SslError("cannot set up the TLS client");
  client.enable_server_certificate_verification(false);  // VerifyPeer does it, per profile
  const auto timeout = static_cast<time_t>(options_.timeout.count());
  client.set_connection_timeout(timeout, 0);
  client.set_read_timeout(timeout, 0);
  client.set_write_timeout(timeout, 0);
  client.set_keep_alive(false);

  VerifyContext verify{&relationship, &spiffe_authorities, clock_.Now(), ""};
  SSL_CTX* ctx = client.ssl_context();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (relationship.profile == "https_web") {
    if (absl::Status ok = ConfigureWeb(ctx, relationship, url); !ok.ok()) {
      return refused(absl::StatusCode::kInvalidArgument, std::string(ok.message()));
    }
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, &VerifyPeer, &verify);

  int status = 0;
  bool too_large = false;
  std::string body;
  httplib::Result result = client.Get(
      url.path,
      [&status](const httplib::Response& response) {
        status = response.status;
        return status == 200;
      },
      [&](const char* data, size_t length) {
        if (body.size() + length > options_.max_body_bytes) {
          too_large = true;
          return false;
        }
        body.append(data, length);
        return true;
      });
  common::ClearSslErrors();
  if (!verify.error.empty()) {
    return refused(absl::StatusCode::kPermissionDenied, StrCat("server refused: ", verify.error));
  }
  if (too_large) {
    return refused(absl::StatusCode::kDataLoss,
                   StrCat("the answer is larger than ", options_.max_body_bytes, " bytes"));
  }
  if (status != 0 && status != 200) {
    return refused(absl::StatusCode::kDataLoss, StrCat("answered HTTP status ", status));
  }
  if (!result) {
    return refused(absl::StatusCode::kUnavailable, Describe(result.error()));
  }
  absl::StatusOr<common::Bundle> bundle = ParseBody(relationship, body);
  if (!bundle.ok()) {
    return refused(absl::StatusCode::kDataLoss,
                   StrCat("not a bundle of ", relationship.trust_domain.name(), ": ",
                          bundle.status().message()));
  }
  return bundle;
}

}  // namespace spinel::server
