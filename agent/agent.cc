#include "agent/agent.h"

#include <algorithm>

#include "agent/attestor/container_attestor.h"
#include "agent/attestor/unix_attestor.h"
#include "agent/attestor/workload_attestor.h"
#include "agent/authz/audit_forwarder.h"
#include "agent/authz/authorization_service.h"
#include "agent/authz/authorizer.h"
#include "agent/authz/delegation_exchanger.h"
#include "agent/authz/token_exchange_service.h"
#include "agent/authz/workload_proof_verifier.h"
#include "agent/identity_cache.h"
#include "agent/node_session.h"
#include "agent/server_client.h"
#include "agent/server_jwt_minter.h"
#include "agent/svid_rotator.h"
#include "agent/sync_loop.h"
#include "agent/wit_rotator.h"
#include "agent/workload_api/workload_api_server.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace spinel::agent {

struct Agent::Impl {
  AgentConfig config;
  const common::Clock& clock;
  std::shared_ptr<ControlTrust> trust;
  std::unique_ptr<ServerClient> client;
  std::unique_ptr<NodeSession> session;
  IdentityCache cache;
  std::unique_ptr<SvidRotator> rotator;
  std::unique_ptr<WitRotator> wit_rotator;
  std::unique_ptr<SyncLoop> sync;
  std::unique_ptr<ServerJwtMinter> minter;
  std::unique_ptr<CompositeAttestor> attestor;
  std::unique_ptr<AuditForwarder> audit;
  common::WptReplayCache wpt_replay_cache;  // agent-wide: Authorize, VerifyWorkloadProof, Exchange
  std::unique_ptr<Authorizer> authorizer;
  std::unique_ptr<WorkloadProofVerifier> proof_verifier;
  std::unique_ptr<AuthorizationService> authorization;
  std::unique_ptr<DelegationExchanger> exchanger;
  std::unique_ptr<TokenExchangeService> token_exchange;
  std::unique_ptr<WorkloadApiServer> workload_api;

  Impl(AgentConfig c, const common::Clock& k) : config(std::move(c)), clock(k) {}
};

namespace {

std::unique_ptr<CompositeAttestor> MakeAttestor() {
  std::vector<std::unique_ptr<WorkloadAttestor>> attestors;
  attestors.push_back(std::make_unique<UnixAttestor>(ProcFs()));
  attestors.push_back(std::make_unique<ContainerAttestor>(ProcFs()));
  return std::make_unique<CompositeAttestor>(ProcFs(), std::move(attestors));
}

CallerAttestor AttestCaller(CompositeAttestor& attestor) {
  return [&attestor](const ProcessInfo& peer) { return attestor.Attest(peer); };
}

// The Authorization and TokenExchange services (served once the Workload API starts).
void StartAuthorization(Agent::Impl& impl) {
  impl.authorizer = std::make_unique<Authorizer>(impl.cache, *impl.client, *impl.audit, impl.clock,
                                                 &impl.wpt_replay_cache);
  impl.proof_verifier = std::make_unique<WorkloadProofVerifier>(impl.cache, impl.wpt_replay_cache,
                                                                *impl.audit, impl.clock);
  impl.authorization =
      std::make_unique<AuthorizationService>(*impl.authorizer, *impl.proof_verifier);
  impl.exchanger = std::make_unique<DelegationExchanger>(impl.cache, impl.wpt_replay_cache,
                                                         *impl.client, impl.clock);
  impl.token_exchange = std::make_unique<TokenExchangeService>(*impl.exchanger);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(AgentConfig config,
                                                    const common::Clock& clock) {
  common::SetLogLevel(config.log_level);
  common::SetLogFormat(config.log_format);
  auto impl = std::make_unique<Impl>(std::move(config), clock);
  const AgentConfig& c = impl->config;
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(c.data_dir, 0700));
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> authorities,
                          NodeSession::LoadControlAuthorities(c));
  impl->trust = std::make_shared<ControlTrust>(c.trust_domain, std::move(authorities));
  impl->client = std::make_unique<ServerClient>(c.servers, impl->trust, clock, c.reconnect_max);
  impl->session = std::make_unique<NodeSession>(c, *impl->client, impl->trust, clock);
  SPINEL_RETURN_IF_ERROR(impl->session->Establish());
  impl->rotator =
      std::make_unique<SvidRotator>(impl->cache, *impl->client, clock, c.sign_batch_size);
  impl->wit_rotator =
      std::make_unique<WitRotator>(impl->cache, *impl->client, clock, c.sign_batch_size);
  impl->sync = std::make_unique<SyncLoop>(c, *impl->client, *impl->session, impl->cache, clock);
  impl->minter = std::make_unique<ServerJwtMinter>(*impl->client, clock);
  impl->attestor = MakeAttestor();
  AuditForwarderOptions audit_options;
  audit_options.capacity = static_cast<size_t>(std::max(c.audit_buffer_size, 1));
  impl->audit = std::make_unique<AuditForwarder>(*impl->client, clock, audit_options);
  StartAuthorization(*impl);
  WorkloadApiServerOptions options;
  options.socket.path = c.socket_path;
  options.additional_services.push_back(impl->authorization.get());
  options.additional_services.push_back(impl->token_exchange.get());
  options.service.wit_minter = impl->client.get();
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(c.socket_path.substr(0, c.socket_path.rfind('/')), 0755));
  SPINEL_ASSIGN_OR_RETURN(impl->workload_api,
                          WorkloadApiServer::Start(options, impl->cache, *impl->minter,
                                                   AttestCaller(*impl->attestor), clock));
  impl->sync->Start();
  impl->rotator->Start();
  impl->wit_rotator->Start();
  impl->audit->Start();
  LOG_INFO("spinel-agent started", {{"agent_id", impl->session->agent_id().ToString()},
                                    {"SPIFFE_ENDPOINT_SOCKET", impl->workload_api->endpoint()}});
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Agent::~Agent() { Stop(); }

void Agent::Stop() {
  if (!impl_) return;
  if (impl_->workload_api) impl_->workload_api->Stop();
  impl_->authorization.reset();   // after gRPC is down: finishes queued Authorize calls
  impl_->token_exchange.reset();  // likewise for queued Exchange calls
  if (impl_->audit) impl_->audit->Stop();
  if (impl_->rotator) impl_->rotator->Stop();
  if (impl_->wit_rotator) impl_->wit_rotator->Stop();
  if (impl_->sync) impl_->sync->Stop();
  LOG_INFO("spinel-agent stopped");
  impl_.reset();
}

}  // namespace spinel::agent
