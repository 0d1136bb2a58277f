// How spinel-agent trusts the server and presents itself on the agent API.
//
// ControlTrust holds the control plane's current X.509 authorities (bootstrapped from the
// bundle file in the agent config, then replaced by what the server pushes) and is the
// authority source for verifying the server's SVID. MakeAgentChannelCredentials builds gRPC
// TLS credentials that verify the server as an X509-SVID whose ID is exactly
// spiffe://<control-td>/spinel/server (no host-name check: the SPIFFE ID is the identity) and,
// when an agent SVID is given, present it as the client certificate.
// Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "common/certificate.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/secret_data.h"
#include "common/spiffe_id.h"
#include "common/x509_svid_validator.h"

namespace spinel::agent {

class ControlTrust final : public common::X509AuthoritySource {
 public:
  ControlTrust(common::TrustDomain control, std::vector<common::Certificate> authorities)
      : control_(std::move(control)), authorities_(std::move(authorities)) {}

  void Replace(std::vector<common::Certificate> authorities);
  std::vector<common::Certificate> Authorities() const;
  const common::TrustDomain& trust_domain() const { return control_; }

  std::optional<std::vector<common::Certificate>> X509AuthoritiesFor(
      const common::TrustDomain& td) const override;

 private:
  const common::TrustDomain control_;
  mutable common::Mutex mutex_;
  std::vector<common::Certificate> authorities_ ABSL_GUARDED_BY(mutex_);
};

// The agent's own identity on the agent API: its SVID chain (PEM) and private key (PKCS#8 PEM).
struct AgentIdentity {
  std::string chain_pem;
  common::SecretData key_pem;
};

std::shared_ptr<grpc::ChannelCredentials> MakeAgentChannelCredentials(
    std::shared_ptr<const ControlTrust> trust, const common::Clock& clock,
    const AgentIdentity* identity);

}  // namespace spinel::agent
