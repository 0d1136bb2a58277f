// `spinel-agent api ...` and `spinel-agent healthcheck`: a Workload API client for operators
// and scripts, speaking the standard SPIFFE Workload API on the agent socket (--socket, default
// from SPIFFE_ENDPOINT_SOCKET or /run/spinel/agent/workload.sock).
//   api fetch x509 [--write DIR]    X509-SVIDs (writes svid.pem, svid.key, bundle.pem)
//   api fetch jwt --audience A      JWT-SVIDs
//   api fetch wit                   WIT-SVIDs and WIT bundles (wit_commands.h)
//   api fetch bundle                X.509 bundles
//   api validate jwt --audience A --svid TOKEN
//   api watch                       prints every X509-SVID update as it arrives
//   healthcheck                     exit 0 when the agent answers
// Every command takes --output json. Exit codes: 0 ok, 1 the agent refused (the gRPC status is
// printed), 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace spinel::agent::cli {

void RegisterApiCommands(CLI::App& app, int* exit_code);

}  // namespace spinel::agent::cli
