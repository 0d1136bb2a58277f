#include "server/api/agent/agent_auth.h"

#include <grpcpp/security/auth_context.h>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/x509_svid_validator.h"

namespace spinel::server {
namespace {

using common::StrCat;

std::string PropertyText(const grpc::AuthContext& auth, const char* name) {
  std::string out;
  for (const grpc::string_ref& value : auth.FindPropertyValues(name)) {
    out.append(value.data(), value.size());
  }
  return out;
}

}  // namespace

std::vector<common::Certificate> PeerCertificates(const grpc::AuthContext& auth) {
  // The leaf is "x509_pem_cert". On the server side "x509_pem_cert_chain" is what OpenSSL's
  // SSL_get_peer_cert_chain gives a server: the certificates the client sent after its leaf
  // (intermediates, and the root when its TLS stack adds it), without the leaf itself.
  absl::StatusOr<std::vector<common::Certificate>> leaf =
      common::Certificate::ParsePemChain(PropertyText(auth, "x509_pem_cert"));
  if (!leaf.ok() || leaf->empty()) return {};
  std::vector<common::Certificate> chain = {leaf->front()};
  absl::StatusOr<std::vector<common::Certificate>> rest =
      common::Certificate::ParsePemChain(PropertyText(auth, "x509_pem_cert_chain"));
  if (rest.ok()) {
    for (const common::Certificate& cert : *rest) {
      if (!cert.Equals(chain.front())) chain.push_back(cert);
    }
  }
  return chain;
}

absl::StatusOr<AttestedAgent> AuthenticateAgent(const AgentAuthDeps& deps,
                                                const grpc::AuthContext& auth) {
  std::vector<common::Certificate> chain = PeerCertificates(auth);
  if (chain.empty()) {
    return absl::UnauthenticatedError("no agent SVID presented (attest first)");
  }
  const common::TrustDomain& control = deps.control;
  // Every replica's control CAs (merged bundle): an agent SVID signed by any replica is good.
  std::shared_ptr<const common::Bundle> bundle = deps.own_bundles.Current(control);
  if (!bundle) return absl::UnavailableError("control plane authority not ready");
  common::X509AuthorityMap authorities;
  authorities.Set(control, bundle->x509_authorities);
  absl::StatusOr<common::VerifiedX509Svid> verified =
      common::VerifyX509Svid(chain, authorities, deps.clock.Now());
  if (!verified.ok()) {
    return absl::PermissionDeniedError(
        StrCat("agent SVID rejected: ", std::string(verified.status().message())));
  }
  const std::string id = verified->id.ToString();
  const std::string agent_prefix = StrCat(control.IdString(), "/spinel/agent/");
  if (id.rfind(agent_prefix, 0) != 0) {
    return absl::PermissionDeniedError(StrCat(id, " is not an agent ID"));
  }
  absl::StatusOr<AttestedAgent> agent = deps.agents.GetAttestedAgent(verified->id);
  if (absl::IsNotFound(agent.status())) {
    return absl::PermissionDeniedError(StrCat("agent ", id, " is not attested (evicted?)"));
  }
  if (!agent.ok()) return agent.status();
  if (agent->banned) return absl::PermissionDeniedError(StrCat("agent ", id, " is banned"));
  if (agent->serial_number != chain.front().SerialHex()) {
    return absl::PermissionDeniedError(
        StrCat("agent ", id, " presented an SVID that is no longer current"));
  }
  return agent;
}

}  // namespace spinel::server
