// The token exchange command of spinel-agent (docs/cli.md):
//   token exchange --subject-token-file FILE --audience AUD [--ttl DUR]
//                  [--subject-token-type jwt|id_token|access_token] [--spiffe-id ID]
//                  [--socket PATH] [--output table|json]
//       Fetches a WIT-SVID and its key from the local Workload API (as `wpt create` does),
//       signs a WPT for the agent's TokenExchange (aud "urn:spinel:agent:token-exchange", ath =
//       the subject token read from FILE, surrounding whitespace removed) and calls
//       spinel.v1.TokenExchange/Exchange on the same socket. Prints the delegation token (the
//       command's output, as `api fetch jwt` prints a JWT), the user, its issuer, the actor
//       chain and the expiry; json: {"access_token","issued_token_type","token_type",
//       "expires_in","expires_at","user_issuer","user","actor_chain"}.
// Bad flags (unreadable or empty file, bad duration, empty audience): "error: <flag>:
// <problem> (nothing was sent)", exit 2. RPC failures: "error: CODE: message", exit 1.
#pragma once

#include <CLI/CLI.hpp>

namespace spinel::agent::cli {

// Adds the top-level `token` command.
void RegisterTokenCommands(CLI::App& app, int* exit_code);

}  // namespace spinel::agent::cli
