// What the four example workloads share: their common flags, the labelled output a person
// reads in the demo ("<role>  <label>  <text>", one line each, flushed at once), getting the
// identity from SPIFFE_ENDPOINT_SOCKET and keeping it live, the mTLS request/reply of a client
// and the accept loop of a server.
//
// Exit codes of every example: 0 done, 1 error (no identity, bad flags, I/O), 3 DENY,
// 4 APPROVAL_REQUIRED, 5 the mTLS handshake with the peer was refused, 6 the peer refused the
// request's proof (WIT-SVID + Workload Proof Token, e.g. a replayed or forged one: HTTP 400).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "examples/live_identity.h"
#include "examples/mtls.h"

namespace spinel::examples {

inline constexpr int kExitError = 1;
inline constexpr int kExitDeny = 3;
inline constexpr int kExitApprovalRequired = 4;
inline constexpr int kExitRefused = 5;
inline constexpr int kExitProofRefused = 6;

struct ExampleOptions {
  std::string zones_dir;        // zone files, to name the zone of a trust domain ("" = don't)
  std::string timeout = "30s";  // wait for the first SVID / for rotations
  bool watch = false;           // print every rotation as it arrives
  int rotations = 0;            // with --watch: exit after this many rotations (0 = run on)
};

void AddExampleOptions(CLI::App& app, ExampleOptions* options);

// Prints "<role>  <label>  <text>" (aligned) and flushes.
void Say(const std::string& role, const std::string& label, const std::string& text);

// Gets the first identity from SPIFFE_ENDPOINT_SOCKET (waiting up to --timeout), prints its
// SPIFFE ID, zone, expiry and the trust domains it trusts, and keeps it live (printing each
// rotation with --watch). Errors are printed; returns nullptr then.
std::unique_ptr<LiveIdentity> StartIdentity(const std::string& role, const ExampleOptions& options);

// --timeout as milliseconds (30s when it does not parse).
std::chrono::milliseconds TimeoutOf(const ExampleOptions& options);

// With --watch --rotations N, waits for N rotations (exit code 1 when they do not come in
// time); with --watch alone, runs until SIGTERM/SIGINT. Returns `exit_code` otherwise.
int FinishWatching(const std::string& role, const ExampleOptions& options,
                   const LiveIdentity& identity, int exit_code);

// A client call: mTLS to `address`, one request line, one reply line. Prints what happened
// under `label`; PermissionDenied when the handshake was refused.
absl::StatusOr<std::string> CallPeer(const std::string& role, const std::string& label,
                                     LiveIdentity& identity, const std::string& address,
                                     const std::string& request);

// A server: listens on 127.0.0.1:`port` (0 = free port), writes the port to `port_file` if
// given, and answers each mTLS connection's request lines with `handler` until SIGTERM or
// SIGINT. Refused handshakes are printed. Returns the exit code.
using Handler = std::function<std::string(const MtlsConnection& peer, const std::string& request)>;
int Serve(const std::string& role, LiveIdentity& identity, int port, const std::string& port_file,
          const Handler& handler);

// The flags of a serving example: the common ones plus --port and --port-file.
struct ServerOptions {
  ExampleOptions example;
  int port = 0;           // loopback port to listen on (0 = any free port)
  std::string port_file;  // write the port listened on here ("" = don't)
};
void AddServerOptions(CLI::App& app, ServerOptions* options);

// The body of a serving example's main() after its flags are parsed: installs the stop
// handlers, starts the identity (StartIdentity) and serves (Serve) with the handler that
// `make_handler` makes for that identity (e.g. one calling the agent's Authorization API over
// the identity's channel). Returns the exit code.
int RunServer(const std::string& role, const ServerOptions& options,
              const std::function<Handler(LiveIdentity& identity)>& make_handler);

// Installs SIGTERM/SIGINT handlers that make Serve/FinishWatching return.
void InstallStopHandlers();
bool StopRequested();

}  // namespace spinel::examples
