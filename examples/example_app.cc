#include "examples/example_app.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "common/duration.h"
#include "common/file_util.h"
#include "common/rfc3339.h"
#include "common/strings.h"
#include "trust-zones/zone_loader.h"

namespace spinel::examples {
namespace {

using common::StrCat;

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

std::string SerialOf(const WorkloadIdentity& identity) {
  return identity.svid.chain.front().SerialHex().substr(0, 12);
}

// "2026-11-26T10:40:00Z (in 20s)"
std::string ExpiresIn(const WorkloadIdentity& identity) {
  common::TimePoint not_after = identity.svid.chain.front().NotAfter();
  auto left = std::chrono::duration_cast<std::chrono::seconds>(not_after -
                                                               common::SystemClock::Get().Now());
  return StrCat(common::FormatRfc3339(not_after), " (in ", left.count(), "s)");
}

// "inference (inference.ai.example.org)" when the zone files name it.
std::string ZoneText(const common::TrustDomain& td, const std::string& zones_dir) {
  if (zones_dir.empty()) return td.name();
  auto zones = zones::LoadZoneDir(zones_dir);
  const zones::Zone* zone = zones.ok() ? zones->FindByTrustDomain(td) : nullptr;
  return zone == nullptr ? td.name() : StrCat(zone->name, " (", td.name(), ")");
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) common::StrAppend(&out, out.empty() ? "" : ", ", part);
  return out;
}

}  // namespace

void AddExampleOptions(CLI::App& app, ExampleOptions* options) {
  app.add_option("--zones", options->zones_dir, "Zone files directory (to print zone names)");
  app.add_option("--timeout", options->timeout, "How long to wait for an SVID or rotations");
  app.add_flag("--watch", options->watch, "Print every SVID rotation as it arrives");
  app.add_option("--rotations", options->rotations,
                 "With --watch: exit after this many rotations (0 = until stopped)");
}

void AddServerOptions(CLI::App& app, ServerOptions* options) {
  AddExampleOptions(app, &options->example);
  app.add_option("--port", options->port, "Loopback port to listen on (0 = any free port)");
  app.add_option("--port-file", options->port_file, "Write the port listened on to this file");
}

int RunServer(const std::string& role, const ServerOptions& options,
              const std::function<Handler(LiveIdentity& identity)>& make_handler) {
  InstallStopHandlers();
  std::unique_ptr<LiveIdentity> identity = StartIdentity(role, options.example);
  if (!identity) return kExitError;
  return Serve(role, *identity, options.port, options.port_file, make_handler(*identity));
}

void Say(const std::string& role, const std::string& label, const std::string& text) {
  std::printf("%-13s %-11s %s\n", role.c_str(), label.c_str(), text.c_str());
  std::fflush(stdout);
}

std::chrono::milliseconds TimeoutOf(const ExampleOptions& options) {
  auto parsed = common::ParseDuration(options.timeout);
  return parsed.ok() ? *parsed : std::chrono::milliseconds(30000);
}

std::unique_ptr<LiveIdentity> StartIdentity(const std::string& role,
                                            const ExampleOptions& options) {
  auto socket = SocketFromEnvironment();
  if (!socket.ok()) {
    Say(role, "error", std::string(socket.status().message()));
    return nullptr;
  }
  bool watch = options.watch;
  auto on_rotate = [role, watch](const WorkloadIdentity& before, const WorkloadIdentity& after) {
    if (!watch) return;
    Say(role, "rotated",
        StrCat("new SVID: serial ", SerialOf(before), " -> ", SerialOf(after), ", expires ",
               ExpiresIn(after)));
  };
  auto live = LiveIdentity::Start(*socket, TimeoutOf(options), on_rotate);
  if (!live.ok()) {
    Say(role, "error", StrCat("no identity: ", live.status().ToString()));
    return nullptr;
  }
  auto identity = (*live)->Current();
  Say(role, "SPIFFE ID", identity->svid.id.ToString());
  Say(role, "zone", ZoneText(identity->svid.id.trust_domain(), options.zones_dir));
  Say(role, "expires", StrCat(ExpiresIn(*identity), ", serial ", SerialOf(*identity)));
  Say(role, "trusts", Join(identity->trust_domains));
  return std::move(*live);
}

int FinishWatching(const std::string& role, const ExampleOptions& options,
                   const LiveIdentity& identity, int exit_code) {
  if (!options.watch) return exit_code;
  if (options.rotations <= 0) {
    while (!StopRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return exit_code;
  }
  if (!identity.WaitForRotations(options.rotations, TimeoutOf(options))) {
    Say(role, "error",
        StrCat("saw ", identity.rotations(), " of ", options.rotations, " rotations within ",
               options.timeout));
    return kExitError;
  }
  return exit_code;
}

absl::StatusOr<std::string> CallPeer(const std::string& role, const std::string& label,
                                     LiveIdentity& identity, const std::string& address,
                                     const std::string& request) {
  auto connection = DialMtls(address, identity.Current(), std::chrono::seconds(10));
  if (!connection.ok()) {
    Say(role, label, StrCat("REFUSED ", address, ": ", connection.status().message()));
    return connection.status();
  }
  absl::Status sent = (*connection)->WriteLine(request);
  absl::StatusOr<std::string> reply =
      sent.ok() ? (*connection)->ReadLine() : absl::StatusOr<std::string>(sent);
  if (!reply.ok()) {
    // Under TLS 1.3 a server that rejects our SVID says so only after our handshake ended.
    Say(role, label, StrCat("REFUSED ", address, ": ", reply.status().message()));
    return absl::PermissionDeniedError(reply.status().message());
  }
  Say(role, label, StrCat("mTLS ok with ", (*connection)->peer_id()));
  return reply;
}

int Serve(const std::string& role, LiveIdentity& identity, int port, const std::string& port_file,
          const Handler& handler) {
  int bound = 0;
  auto listener = ListenLoopback(port, &bound);
  if (!listener.ok()) {
    Say(role, "error", std::string(listener.status().message()));
    return kExitError;
  }
  if (!port_file.empty()) {
    absl::Status written = common::WriteFileAtomic(port_file, StrCat(bound, "\n"), 0644);
    if (!written.ok()) {
      Say(role, "error", std::string(written.message()));
      return kExitError;
    }
  }
  Say(role, "listening", StrCat("127.0.0.1:", bound, " (mTLS)"));
  while (!StopRequested()) {
    pollfd pfd{*listener, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    int fd = ::accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    auto connection = AcceptMtls(fd, identity.Current(), std::chrono::seconds(10));
    if (!connection.ok()) {
      Say(role, "refused", std::string(connection.status().message()));
      continue;
    }
    for (auto request = (*connection)->ReadLine(); request.ok();
         request = (*connection)->ReadLine()) {
      if (!(*connection)->WriteLine(handler(**connection, *request)).ok()) break;
    }
  }
  ::close(*listener);
  return 0;
}

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return g_stop.load(); }

}  // namespace spinel::examples
