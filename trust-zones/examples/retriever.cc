// spinel-example-retriever: a retrieval-zone workload. Gets its X509-SVID from the Workload API
// (SPIFFE_ENDPOINT_SOCKET) and serves retrieval queries over mTLS on loopback, trusting exactly
// the bundles the Workload API gave it (retrieval's own and those of its peer zones). Protocol:
// "query <text>" -> one line of (made-up) passages.
#include <CLI/CLI.hpp>

#include "common/strings.h"
#include "trust-zones/examples/example_app.h"

namespace ex = spinel::examples;

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-retriever: a retrieval service serving over SPIFFE mTLS"};
  ex::ExampleOptions options;
  int port = 0;
  std::string port_file;
  ex::AddExampleOptions(app, &options);
  app.add_option("--port", port, "Loopback port to listen on (0 = any free port)");
  app.add_option("--port-file", port_file, "Write the port listened on to this file");
  CLI11_PARSE(app, argc, argv);
  ex::InstallStopHandlers();
  const std::string role = "retriever";
  auto identity = ex::StartIdentity(role, options);
  if (!identity) return ex::kExitError;
  return ex::Serve(role, *identity, port, port_file,
                   [&](const ex::MtlsConnection& peer, const std::string& request) {
                     if (request.rfind("query ", 0) != 0) return std::string("error: expected query <text>");
                     std::string text = request.substr(6);
                     ex::Say(role, "query", spinel::common::StrCat(spinel::common::Quote(text),
                                                                   " from ", peer.peer_id()));
                     return spinel::common::StrCat("3 passages about ", spinel::common::Quote(text),
                                                   " from dataset:docs/handbook");
                   });
}
