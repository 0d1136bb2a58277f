#include "agent/server_trust.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "common/strings.h"

namespace spinel::agent {
namespace {

// Verifies the server's certificate chain as the control plane's server X509-SVID.
class ServerSvidVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  ServerSvidVerifier(std::shared_ptr<const ControlTrust> trust, const common::Clock& clock)
      : trust_(std::move(trust)), clock_(clock) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    *sync_status = Check(request);
    return true;  // synchronous
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  grpc::Status Check(grpc::experimental::TlsCustomVerificationCheckRequest* request) const {
    grpc::string_ref pem = request->peer_cert_full_chain();
    if (pem.empty()) pem = request->peer_cert();
    auto chain = common::Certificate::ParsePemChain(std::string_view(pem.data(), pem.size()));
    if (!chain.ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "server sent no usable certificate");
    }
    auto verified = common::VerifyX509Svid(*chain, *trust_, clock_.Now());
    if (!verified.ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          common::StrCat("server SVID rejected: ", verified.status().message()));
    }
    const std::string expected =
        common::StrCat(trust_->trust_domain().IdString(), "/spinel/server");
    if (verified->id.ToString() != expected) {
      return grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          common::StrCat("server presented ", verified->id.ToString(), ", expected ", expected));
    }
    return grpc::Status::OK;
  }

  std::shared_ptr<const ControlTrust> trust_;
  const common::Clock& clock_;
};

}  // namespace

void ControlTrust::Replace(std::vector<common::Certificate> authorities) {
  common::MutexLock lock(mutex_);
  authorities_ = std::move(authorities);
}

std::vector<common::Certificate> ControlTrust::Authorities() const {
  common::MutexLock lock(mutex_);
  return authorities_;
}

std::optional<std::vector<common::Certificate>> ControlTrust::X509AuthoritiesFor(
    const common::TrustDomain& td) const {
  if (td != control_) return std::nullopt;
  return Authorities();
}

std::shared_ptr<grpc::ChannelCredentials> MakeAgentChannelCredentials(
    std::shared_ptr<const ControlTrust> trust, const common::Clock& clock,
    const AgentIdentity* identity) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (identity != nullptr) {
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs = {
        {std::string(identity->key_pem.view()), identity->chain_pem}};
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(pairs));
    for (auto& pair : pairs) common::WipeSecret(pair.private_key);  // the provider has a copy
    options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(false);  // the SPIFFE verifier below replaces it
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<ServerSvidVerifier>(std::move(trust),
                                                                                  clock));
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace spinel::agent
