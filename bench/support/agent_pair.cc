#include "bench/support/agent_pair.h"

#include <unistd.h>

#include "bench/support/workload_client.h"
#include "common/status_macros.h"

namespace spinel::bench {

absl::StatusOr<std::unique_ptr<AgentPair>> AgentPair::Start(
    const std::vector<std::string>& spiffe_ids, const std::string& entry_flags,
    ServerOptions server_options) {
  if (spiffe_ids.empty()) return absl::InvalidArgumentError("no SPIFFE ID to register");
  std::unique_ptr<AgentPair> pair(new AgentPair(std::move(server_options)));
  SPINEL_RETURN_IF_ERROR(pair->server_.Start());
  SPINEL_ASSIGN_OR_RETURN(JoinToken token, pair->server_.NewJoinToken());
  pair->agent_id_ = token.agent_id;
  for (const std::string& id : spiffe_ids) {
    SPINEL_ASSIGN_OR_RETURN(
        std::string entry_id,
        pair->server_.Register(id, token.agent_id, static_cast<int>(getuid()), entry_flags));
    pair->entry_ids_.push_back(std::move(entry_id));
  }
  SPINEL_RETURN_IF_ERROR(pair->agent_.Start(token.token));
  SPINEL_RETURN_IF_ERROR(WaitForX509Svid(pair->agent_.target(), spiffe_ids.front()));
  return pair;
}

}  // namespace spinel::bench
