// `spinel-agent authorize`: asks the agent's Authorization API (spinel.v1.Authorization, on the
// Workload API socket) whether a subject, proved by its SVID, may act on a resource.
//
//   spinel-agent authorize (--svid TOKEN | --x509-svid PEMFILE) --resource R --action A
//       [--context k=v ...] [--approval-id ID] [--audience A] [--socket S] [--output json]
//
// --x509-svid reads a PEM file holding the subject's chain, leaf first (e.g. the svid.pem
// written by `api fetch x509 --write`). --socket defaults as for `api` (SPIFFE_ENDPOINT_SOCKET,
// else /run/spinel/agent/workload.sock).
//
// Prints the decision (verdict, subject, zone, rule, reason, and for APPROVAL_REQUIRED the
// approval id, its expiry and the operator command that approves it); --output json prints
//   {"verdict","subject","zone","rule","reason","approval_id","approval_expires_at"}
// (approval_expires_at as RFC 3339 UTC, "" when there is none).
// Exit codes (scripts rely on them): 0 ALLOW, 3 DENY, 4 APPROVAL_REQUIRED, 1 any error (the
// subject was not accepted, the agent refused or could not be reached; the gRPC status is
// printed on stderr), 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace spinel::agent::cli {

inline constexpr int kExitAllow = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDeny = 3;
inline constexpr int kExitApprovalRequired = 4;

void RegisterAuthorizeCommand(CLI::App& app, int* exit_code);

}  // namespace spinel::agent::cli
