// The WIT-SVID commands of spinel-agent (docs/cli.md):
//   api fetch wit [--spiffe-id ID] [--write DIR] [--output table|json] [--socket PATH]
//       FetchWITSVID (first message) and FetchWITBundles. Prints each identity, its expiry,
//       kid and cnf algorithm (json: also the WIT-SVID itself, never the private key) and the
//       trust domains of the WIT bundles. --write DIR writes, for the default (first) identity,
//       wit_svid.jwt (0644), wit_svid_key.jwk (0600: the only place the private key goes) and
//       wit_bundles.json ({"spiffe://td": JWK Set}, 0644).
//   wpt create --aud URL [--ath TOKEN] [--spiffe-id ID] [--lifetime SECONDS] [--socket PATH]
//       Fetches a WIT-SVID and its key as above and prints the two request headers, one per
//       line: "Workload-Identity-Token: <WIT>" and "Workload-Proof-Token: <WPT>" (the WPT binds
//       --aud, and --ath's access token as "ath"). This is the one command whose output is a
//       token on purpose: it is meant for `curl -H`. A WPT is good for one request.
// Bad flags: "error: <flag>: <problem> (nothing was sent)", exit 2. RPC failures: exit 1.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <string>

#include "workload.grpc.pb.h"

namespace spinel::agent::cli {

// The first FetchWITSVID message (`spiffe_id` empty: every identity; the stream is then
// cancelled), with the private JWKs: the caller wipes them. A gRPC error otherwise.
grpc::Status FetchWitSvids(const std::string& socket, const std::string& spiffe_id,
                           ::WITSVIDResponse* response);

// Adds `wit` under `api fetch`.
void RegisterFetchWitCommand(CLI::App* fetch, int* exit_code);
// Adds the top-level `wpt` command.
void RegisterWptCommands(CLI::App& app, int* exit_code);

}  // namespace spinel::agent::cli
