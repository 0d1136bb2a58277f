#include "server/api/agent/node_attestation.h"

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "common/pop_signature.h"
#include "common/random.h"
#include "common/ssl_error.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"

namespace spinel::server {
namespace {

using common::StrCat;

std::string CommonName(const common::Certificate& cert) {
  X509_NAME* name = X509_get_subject_name(cert.x509());
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

// RFC 5280 path validation of a node certificate chain (not a SPIFFE SVID) at `now`.
absl::StatusOr<common::Certificate> VerifyNodeChain(const std::vector<common::Certificate>& chain,
                                                    const std::vector<common::Certificate>& roots,
                                                    common::TimePoint now) {
  common::SslPtr<X509_STORE> store(X509_STORE_new());
  for (const common::Certificate& root : roots) X509_STORE_add_cert(store.get(), root.x509());
  common::SslPtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].x509());
  common::SslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx ||
      X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].x509(), untrusted.get()) != 1) {
    return common::SslError("preparing node certificate verification");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(common::ToUnixSeconds(now)));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    common::ClearSslErrors();
    return absl::PermissionDeniedError(
        StrCat("node certificate not trusted: ", X509_verify_cert_error_string(err)));
  }
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  X509* root = sk_X509_value(built, sk_X509_num(built) - 1);
  X509_up_ref(root);
  return common::Certificate::Adopt(common::SslPtr<X509>(root));
}

}  // namespace

absl::StatusOr<common::SpiffeId> AgentId(const common::TrustDomain& control,
                                         std::string_view method, std::string_view id) {
  return common::SpiffeId::FromSegments(control, {"spinel", "agent", method, id});
}

common::SpiffeId ServerId(const common::TrustDomain& control) {
  return *common::SpiffeId::FromSegments(control, {"spinel", "server"});
}

absl::StatusOr<CreatedJoinToken> CreateJoinToken(AgentStore& agents,
                                                 const common::TrustDomain& control,
                                                 common::Duration ttl, common::TimePoint now) {
  if (ttl <= common::Duration::zero()) {
    return absl::InvalidArgumentError("join token TTL must be greater than zero");
  }
  SPINEL_ASSIGN_OR_RETURN(std::string token, common::RandomHex(32));
  SPINEL_ASSIGN_OR_RETURN(std::string uuid, common::RandomUuid());
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId agent_id, AgentId(control, "join_token", uuid));
  int64_t expires_at = common::ToUnixSeconds(now + ttl);
  SPINEL_RETURN_IF_ERROR(agents.CreateJoinToken(token, agent_id, expires_at).status());
  return CreatedJoinToken{token, agent_id, expires_at};
}

absl::StatusOr<NodeAttestation> AttestJoinToken(AgentStore& agents, std::string_view token) {
  if (token.empty()) return absl::InvalidArgumentError("join token is empty");
  absl::StatusOr<JoinToken> consumed = agents.ConsumeJoinToken(token);
  if (absl::IsNotFound(consumed.status())) {
    return absl::PermissionDeniedError("join token is not valid");
  }
  if (absl::IsFailedPrecondition(consumed.status())) {
    return absl::PermissionDeniedError(
        StrCat("join token refused: ", std::string(consumed.status().message())));
  }
  if (!consumed.ok()) return consumed.status();
  return NodeAttestation{consumed->agent_id, "join_token", {}};
}

absl::StatusOr<std::unique_ptr<X509PopAttestor>> X509PopAttestor::Create(
    std::string_view ca_bundle_pem, common::TrustDomain control) {
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> roots,
                          common::Certificate::ParsePemChain(ca_bundle_pem));
  return std::unique_ptr<X509PopAttestor>(
      new X509PopAttestor(std::move(roots), std::move(control)));
}

absl::StatusOr<X509PopAttestor::Challenge> X509PopAttestor::Begin(
    const std::vector<std::string>& chain_der, common::TimePoint now) const {
  if (chain_der.empty()) return absl::InvalidArgumentError("x509pop: no node certificate");
  std::vector<common::Certificate> chain;
  for (const std::string& der : chain_der) {
    absl::StatusOr<common::Certificate> cert = common::Certificate::FromDer(der);
    if (!cert.ok()) {
      return absl::InvalidArgumentError(
          StrCat("x509pop: bad node certificate: ", std::string(cert.status().message())));
    }
    chain.push_back(*cert);
  }
  SPINEL_ASSIGN_OR_RETURN(common::Certificate root, VerifyNodeChain(chain, roots_, now));
  const std::string fingerprint = Sha256Hex(chain[0].ToDer());
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId agent_id, AgentId(control_, "x509pop", fingerprint));
  common::SelectorSet selectors = {
      {"x509pop", "ca:fingerprint:" + Sha256Hex(root.ToDer())},
      {"x509pop", "serialnumber:" + chain[0].SerialHex()},
  };
  std::string cn = CommonName(chain[0]);
  if (!cn.empty()) selectors.push_back({"x509pop", "subject:cn:" + cn});
  common::Normalize(selectors);
  SPINEL_ASSIGN_OR_RETURN(std::string nonce, common::RandomBytes(32));
  return Challenge{nonce, NodeAttestation{agent_id, "x509pop", selectors}, chain[0]};
}

absl::Status X509PopAttestor::Finish(const Challenge& challenge, std::string_view signature) {
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey key, challenge.leaf.GetPublicKey());
  absl::Status verified = common::VerifyPossessionProof(key, challenge.nonce, signature);
  if (!verified.ok()) {
    return absl::PermissionDeniedError(StrCat("x509pop: ", std::string(verified.message())));
  }
  return absl::OkStatus();
}

}  // namespace spinel::server
