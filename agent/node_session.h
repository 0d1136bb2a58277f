// NodeSession: the agent's own identity towards the server (its agent SVID).
//
// Establish() reuses the agent SVID and key persisted in the data directory (agent-svid.pem,
// agent-svid.key, mode 0600) while they are valid, so a restart needs no new join token;
// otherwise it attests: x509pop when configured, else the join token (flag, config or file).
// The control bundle the agent trusts is persisted too (control-bundle.pem) and replaced when
// the server pushes a new one.
//
// RenewIfDue() renews the SVID once about half its lifetime has passed (+-10% jitter, so a
// fleet does not renew at once), and re-attests with x509pop when the SVID has expired or the
// server no longer accepts it; with join_token a new token is then needed (the error says so).
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "agent/server_client.h"
#include "common/mutex.h"

namespace spinel::agent {

class NodeSession {
 public:
  NodeSession(const AgentConfig& config, ServerClient& client, std::shared_ptr<ControlTrust> trust,
              const common::Clock& clock)
      : config_(config), client_(client), trust_(std::move(trust)), clock_(clock) {}

  // Loads the control bundle file the agent is bootstrapped with (persisted copy first).
  static absl::StatusOr<std::vector<common::Certificate>> LoadControlAuthorities(
      const AgentConfig& config);

  absl::Status Establish();
  // Returns true when it renewed (or re-attested).
  absl::StatusOr<bool> RenewIfDue();
  // Attests again (after the server refused the current SVID). FailedPrecondition when only a
  // used join token is available.
  absl::Status Reattest();
  // Persists and trusts a control bundle the server pushed.
  absl::Status UpdateControlAuthorities(std::vector<common::Certificate> authorities);

  common::SpiffeId agent_id() const;
  common::TimePoint renew_at() const;
  common::TimePoint expires_at() const;

 private:
  absl::Status Attest();
  absl::StatusOr<std::string> JoinToken() const;
  absl::Status Install(const AgentSvid& svid, const common::PrivateKey& key);
  absl::StatusOr<bool> LoadPersisted();

  const AgentConfig& config_;
  ServerClient& client_;
  std::shared_ptr<ControlTrust> trust_;
  const common::Clock& clock_;
  mutable common::Mutex mutex_;
  common::SpiffeId agent_id_ ABSL_GUARDED_BY(mutex_);
  common::TimePoint not_before_ ABSL_GUARDED_BY(mutex_);
  common::TimePoint expires_at_ ABSL_GUARDED_BY(mutex_);
  common::TimePoint renew_at_ ABSL_GUARDED_BY(mutex_);
};

// not_before + half the lifetime, moved by a random +-10% of that half.
common::TimePoint RenewalTime(common::TimePoint not_before, common::TimePoint not_after);

}  // namespace spinel::agent
