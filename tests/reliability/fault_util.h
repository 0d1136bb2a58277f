// Helpers for the fault tests (tests/reliability/), on top of tests/integration/ process helpers:
//   - RunShellCommand() (tests/support/command.h) is RunCommand without doctest assertions,
//     safe from several threads at once (the concurrent writers of the crash tests);
//   - UnixSeconds()/ParseRfc3339(): the times `api watch` and the CLI print, as Unix seconds;
//   - WatchMessages()/WatchedSvids(): what a running `spinel-agent api watch --output json`
//     child has printed (one JSON document a line) and every SVID in it;
//   - FetchOneUnexpired(): a workload's one SVID on a new connection, checked unexpired;
//   - IssuedSerials(): the serials of every `x509_svid.issued` audit event of a server;
//   - SetLimit(): prlimit(2) on a running child (RLIMIT_FSIZE, RLIMIT_NOFILE): soft limit only,
//     so that it can be lifted again without CAP_SYS_RESOURCE;
//   - WorkloadChannel()/WorkloadContext(): a raw Workload API client on the agent's socket
//     (the generated SpiffeWorkloadAPI stub, `workload.spiffe.io: true` metadata);
//   - LeafOf(): serial, SPIFFE ID and notAfter of the leaf of an X509SVID's DER chain.
// Assertion-free functions say so; the others abort the current doctest case (REQUIRE).
#pragma once

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/certificate.h"
#include "tests/integration/agent_process_util.h"
#include "workload.grpc.pb.h"

namespace spinel::testing {

// `spinel-server <args>` on `server`'s admin socket; assertion-free (any thread).
inline CommandResult ServerCliQuiet(const ServerProcess& server, const std::string& args) {
  return RunShellCommand("SPINEL_ADMIN_SOCKET=" + ShellQuote(server.socket_path()) + " " +
                         ShellQuote(server.binary()) + " " + args);
}

inline int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline int64_t NowUnix() { return UnixSeconds(std::chrono::system_clock::now()); }

// "2026-11-26T13:22:10Z" (what `api watch` prints) as Unix seconds; -1 when malformed.
inline int64_t ParseRfc3339(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return -1;
  return static_cast<int64_t>(::timegm(&tm));
}

// The messages `api watch --output json` has printed so far.
inline std::vector<nlohmann::json> WatchMessages(const std::string& log_path) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(ReadWholeFile(log_path));
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded() && parsed.contains("svids")) out.push_back(parsed);
  }
  return out;
}

// One SVID as a workload received it.
struct WatchedSvid {
  std::string serial;
  std::string spiffe_id;
  int64_t expires_at = 0;   // Unix seconds (the leaf's notAfter)
  int64_t received_at = 0;  // Unix seconds (when the watch printed it)
};

inline std::vector<WatchedSvid> WatchedSvids(const std::vector<nlohmann::json>& messages) {
  std::vector<WatchedSvid> out;
  for (const nlohmann::json& message : messages) {
    const int64_t received = ParseRfc3339(message.value("received_at", ""));
    for (const nlohmann::json& svid : message["svids"]) {
      out.push_back({svid.value("serial", ""), svid.value("spiffe_id", ""),
                     ParseRfc3339(svid.value("expires_at", "")), received});
    }
  }
  return out;
}

// `spinel-agent api fetch x509` as `uid` on a new connection: it must serve exactly one SVID,
// of `spiffe_id` and unexpired now; returns that SVID as printed (spiffe_id, serial, ...).
inline nlohmann::json FetchOneUnexpired(const AgentProcess& agent, int uid,
                                        const std::string& spiffe_id) {
  CommandResult fetched = agent.Api("api fetch x509 --output json", uid);
  const int64_t now = NowUnix();
  INFO("uid " << uid << " " << fetched.Describe());
  REQUIRE(fetched.exit_code == 0);
  const nlohmann::json output = ParseJsonOutput(fetched);
  REQUIRE(output["svids"].size() == 1);
  const nlohmann::json svid = output["svids"][0];
  CHECK(svid["spiffe_id"] == spiffe_id);
  CHECK(ParseRfc3339(svid["expires_at"]) > now);  // never an expired one
  return svid;
}

// Every audit event of `kind` (details parsed from its JSON text), oldest first.
inline std::vector<nlohmann::json> AuditEvents(const ServerProcess& server,
                                               const std::string& kind = "") {
  const std::string filter = kind.empty() ? "" : " --kind " + kind;
  CommandResult listed = server.Cli("audit list --output json" + filter);
  nlohmann::json parsed = ParseJsonOutput(listed);
  std::vector<nlohmann::json> out;
  for (nlohmann::json event : parsed["events"]) {
    if (event["details"].is_string()) {
      event["details"] = nlohmann::json::parse(event["details"].get<std::string>(), nullptr,
                                               /*allow_exceptions=*/false);
    }
    out.push_back(std::move(event));
  }
  return out;
}

// serial -> subject of every x509_svid.issued event; REQUIREs that no serial appears twice.
inline std::map<std::string, std::string> IssuedSerials(const ServerProcess& server,
                                                        size_t* events = nullptr) {
  std::map<std::string, std::string> serials;
  const std::vector<nlohmann::json> issued = AuditEvents(server, "x509_svid.issued");
  for (const nlohmann::json& event : issued) {
    const std::string serial = event["details"].value("serial", "");
    REQUIRE_MESSAGE(!serial.empty(), event.dump());
    const bool fresh = serials.emplace(serial, event.value("subject", "")).second;
    REQUIRE_MESSAGE(fresh, "serial issued twice: " << serial);
  }
  if (events != nullptr) *events = issued.size();
  return serials;
}

// Sets the soft `resource` limit of process `pid` (the hard limit is kept, so the soft one
// can be raised again). Assertion-free: returns false on failure.
inline bool SetLimit(pid_t pid, __rlimit_resource resource, rlim_t soft) {
  struct rlimit old_limit {};
  if (::prlimit(pid, resource, nullptr, &old_limit) != 0) {
    return false;
  }
  struct rlimit new_limit {
    soft, old_limit.rlim_max
  };
  return ::prlimit(pid, resource, &new_limit, nullptr) == 0;
}

// How many descriptors process `pid` has open.
inline int OpenDescriptors(pid_t pid) {
  CommandResult listed = RunShellCommand("ls /proc/" + std::to_string(pid) + "/fd | wc -l");
  return listed.exit_code == 0 ? std::atoi(listed.out.c_str()) : -1;
}

// A channel to the Workload API on `socket_path`. With `own_connection`, the channel does not
// share its connection with other channels of the same target (one connection per workload).
inline std::shared_ptr<grpc::Channel> WorkloadChannel(const std::string& socket_path,
                                                      bool own_connection = true) {
  grpc::ChannelArguments args;
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

inline void AddWorkloadHeader(grpc::ClientContext& context) {
  context.AddMetadata("workload.spiffe.io", "true");
}

// The leaf of an X509SVID (`x509_svid` is the DER chain, leaf first). Assertion-free: an
// unparsable chain gives an empty serial.
struct LeafFacts {
  std::string serial;
  std::string spiffe_id;  // the URI SAN
  std::chrono::system_clock::time_point not_after;
};
inline LeafFacts LeafOf(const std::string& chain_der) {
  auto chain = common::Certificate::ParseDerChain(chain_der);
  if (!chain.ok() || chain->empty()) return {};
  const common::Certificate& leaf = chain->front();
  const std::vector<std::string> uris = leaf.UriSans();
  return {leaf.SerialHex(), uris.size() == 1 ? uris.front() : "", leaf.NotAfter()};
}

}  // namespace spinel::testing
