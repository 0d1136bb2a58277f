#include "agent/node_session.h"

#include <random>

#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrCat;

std::string SvidPath(const AgentConfig& c) { return c.data_dir + "/agent-svid.pem"; }
std::string KeyPath(const AgentConfig& c) { return c.data_dir + "/agent-svid.key"; }
std::string BundlePath(const AgentConfig& c) { return c.data_dir + "/control-bundle.pem"; }

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

common::TimePoint RenewalTime(common::TimePoint not_before, common::TimePoint not_after) {
  thread_local std::mt19937_64 random(std::random_device{}());
  const auto half = (not_after - not_before) / 2;
  std::uniform_real_distribution<double> jitter(-0.1, 0.1);
  const auto offset = std::chrono::duration_cast<common::Duration>(half * jitter(random));
  return not_before + half + offset;
}

absl::StatusOr<std::vector<common::Certificate>> NodeSession::LoadControlAuthorities(
    const AgentConfig& config) {
  std::string path =
      common::FileExists(BundlePath(config)) ? BundlePath(config) : config.trust_bundle_path;
  absl::StatusOr<std::string> pem = common::ReadFile(path);
  if (!pem.ok()) {
    return absl::FailedPreconditionError(
        StrCat("cannot read the control trust bundle: ", pem.status().message()));
  }
  absl::StatusOr<std::vector<common::Certificate>> certs = common::Certificate::ParsePemChain(*pem);
  if (!certs.ok()) {
    return absl::InvalidArgumentError(StrCat(path, ": ", certs.status().message()));
  }
  return certs;
}

absl::Status NodeSession::UpdateControlAuthorities(std::vector<common::Certificate> authorities) {
  if (authorities.empty()) return absl::InvalidArgumentError("empty control bundle");
  SPINEL_RETURN_IF_ERROR(
      common::WriteFileAtomic(BundlePath(config_), common::ConcatPem(authorities), 0644));
  trust_->Replace(std::move(authorities));
  return absl::OkStatus();
}

absl::Status NodeSession::Install(const AgentSvid& svid, const common::PrivateKey& key) {
  SPINEL_ASSIGN_OR_RETURN(common::SecretData key_pem, key.ToPkcs8Pem());
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(config_.data_dir, 0700));
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(KeyPath(config_), key_pem.view(), 0600));
  const std::string chain_pem = common::ConcatPem(svid.chain);
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(SvidPath(config_), chain_pem, 0600));
  SPINEL_RETURN_IF_ERROR(UpdateControlAuthorities(svid.control_bundle.x509_authorities));
  client_.SetIdentity(AgentIdentity{chain_pem, std::move(key_pem)});
  common::MutexLock lock(mutex_);
  agent_id_ = svid.id;
  not_before_ = svid.chain.front().NotBefore();
  expires_at_ = svid.chain.front().NotAfter();
  renew_at_ = RenewalTime(not_before_, expires_at_);
  return absl::OkStatus();
}

absl::StatusOr<bool> NodeSession::LoadPersisted() {
  if (!common::FileExists(SvidPath(config_)) || !common::FileExists(KeyPath(config_))) {
    return false;
  }
  SPINEL_ASSIGN_OR_RETURN(std::string chain_pem, common::ReadFile(SvidPath(config_)));
  SPINEL_ASSIGN_OR_RETURN(common::SecretData key_pem, common::ReadSecretFile(KeyPath(config_)));
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> chain,
                          common::Certificate::ParsePemChain(chain_pem));
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id, common::CheckX509SvidLeaf(chain.front()));
  if (chain.front().NotAfter() <= clock_.Now()) {
    LOG_WARN("persisted agent SVID has expired", {{"agent_id", id.ToString()}});
    return false;
  }
  client_.SetIdentity(AgentIdentity{chain_pem, std::move(key_pem)});
  common::MutexLock lock(mutex_);
  agent_id_ = id;
  not_before_ = chain.front().NotBefore();
  expires_at_ = chain.front().NotAfter();
  renew_at_ = RenewalTime(not_before_, expires_at_);
  return true;
}

absl::StatusOr<std::string> NodeSession::JoinToken() const {
  if (!config_.join_token.empty()) return config_.join_token;
  if (!config_.join_token_file.empty()) {
    SPINEL_ASSIGN_OR_RETURN(std::string token, common::ReadFile(config_.join_token_file));
    return Trim(std::move(token));
  }
  return absl::FailedPreconditionError(
      "no valid agent SVID and no attestation method: give a join token (--join-token, "
      "attestation.join_token or join_token_file) or configure x509pop");
}

absl::Status NodeSession::Attest() {
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  absl::StatusOr<AgentSvid> svid;
  if (!config_.x509pop_cert_path.empty()) {
    SPINEL_ASSIGN_OR_RETURN(std::string cert_pem, common::ReadFile(config_.x509pop_cert_path));
    SPINEL_ASSIGN_OR_RETURN(const common::SecretData node_key_pem,
                            common::ReadSecretFile(config_.x509pop_key_path));
    SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> chain,
                            common::Certificate::ParsePemChain(cert_pem));
    SPINEL_ASSIGN_OR_RETURN(common::PrivateKey node_key,
                            common::PrivateKey::FromPem(node_key_pem.view()));
    std::vector<std::string> chain_der;
    for (const common::Certificate& cert : chain) chain_der.push_back(cert.ToDer());
    svid = client_.AttestX509Pop(chain_der, node_key, key);
  } else {
    SPINEL_ASSIGN_OR_RETURN(std::string token, JoinToken());
    svid = client_.AttestJoinToken(token, key);
  }
  if (!svid.ok()) {
    return absl::Status(svid.status().code(),
                        StrCat("node attestation failed: ", svid.status().message()));
  }
  SPINEL_RETURN_IF_ERROR(Install(*svid, key));
  LOG_INFO("node attested", {{"agent_id", svid->id.ToString()}});
  return absl::OkStatus();
}

absl::Status NodeSession::Establish() {
  SPINEL_ASSIGN_OR_RETURN(bool loaded, LoadPersisted());
  if (loaded) {
    LOG_INFO("reusing persisted agent SVID", {{"agent_id", agent_id().ToString()}});
    return absl::OkStatus();
  }
  return Attest();
}

absl::Status NodeSession::Reattest() {
  if (config_.x509pop_cert_path.empty()) {
    return absl::FailedPreconditionError(
        "the server no longer accepts this agent's SVID; join_token agents need a new token");
  }
  return Attest();
}

absl::StatusOr<bool> NodeSession::RenewIfDue() {
  const common::TimePoint now = clock_.Now();
  if (now < renew_at()) return false;
  if (now >= expires_at()) {
    SPINEL_RETURN_IF_ERROR(Reattest());
    return true;
  }
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  SPINEL_ASSIGN_OR_RETURN(AgentSvid svid, client_.RenewAgentSvid(key));
  SPINEL_RETURN_IF_ERROR(Install(svid, key));
  LOG_INFO("agent SVID renewed", {{"agent_id", svid.id.ToString()}});
  return true;
}

common::SpiffeId NodeSession::agent_id() const {
  common::MutexLock lock(mutex_);
  return agent_id_;
}

common::TimePoint NodeSession::renew_at() const {
  common::MutexLock lock(mutex_);
  return renew_at_;
}

common::TimePoint NodeSession::expires_at() const {
  common::MutexLock lock(mutex_);
  return expires_at_;
}

}  // namespace spinel::agent
