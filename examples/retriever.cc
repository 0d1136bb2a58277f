// spinel-example-retriever: a retrieval-zone workload. Gets its X509-SVID from the Workload API
// (SPIFFE_ENDPOINT_SOCKET) and serves retrieval queries over mTLS on loopback, trusting exactly
// the bundles the Workload API gave it (retrieval's own and those of its peer zones). Protocol:
// "query <text>" -> one line of (made-up) passages.
#include <CLI/CLI.hpp>

#include "common/strings.h"
#include "examples/example_app.h"

namespace ex = spinel::examples;

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-retriever: a retrieval service serving over SPIFFE mTLS"};
  ex::ServerOptions options;
  ex::AddServerOptions(app, &options);
  CLI11_PARSE(app, argc, argv);
  const std::string role = "retriever";
  return ex::RunServer(role, options, [&](ex::LiveIdentity&) -> ex::Handler {
    return [&](const ex::MtlsConnection& peer, const std::string& request) {
      if (request.rfind("query ", 0) != 0) return std::string("error: expected query <text>");
      std::string text = request.substr(6);
      ex::Say(role, "query",
              spinel::common::StrCat(spinel::common::Quote(text), " from ", peer.peer_id()));
      return spinel::common::StrCat("3 passages about ", spinel::common::Quote(text),
                                    " from dataset:docs/handbook");
    };
  });
}
