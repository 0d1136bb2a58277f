// `spinel-server federation create|update|delete|list|show|refresh` with the real binary
// against a real server: the round trip as operators see it (tables and JSON), update changing
// only the flags given, refusals by the server (exit 1) and bad flags and files (exit 2 naming
// the flag or file, nothing changed).
#include <doctest/doctest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "common/bundle.h"
#include "common/clock.h"
#include "tests/fakes/test_ca.h"
#include "tests/integration/process_util.h"

using nlohmann::json;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;
using spinel::testing::TestCa;

namespace {

constexpr char kPartnerTd[] = "partner.example.com";
constexpr char kEndpointId[] = "spiffe://partner.example.com/spinel/bundle-endpoint";

json ParseJsonOutput(const CommandResult& result) {
  REQUIRE_MESSAGE(result.exit_code == 0, result.Describe());
  json parsed = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), result.Describe());
  return parsed;
}

// A SPIFFE bundle JSON of `td` with `ca`'s certificate and spiffe_sequence 5.
std::string BundleJson(const TestCa& ca) {
  spinel::common::Bundle bundle;
  bundle.trust_domain = ca.td();
  bundle.x509_authorities = {ca.cert()};
  bundle.sequence = 5;
  auto json = bundle.ToJson();
  REQUIRE(json.ok());
  return *json;
}

json Show(const ServerProcess& server) {
  return ParseJsonOutput(
      server.Cli(std::string("federation show --output json --trust-domain ") + kPartnerTd));
}

// Exit 2 before anything is sent, naming `what` on stderr.
void CheckUsageError(const ServerProcess& server, const std::string& args,
                     const std::string& what) {
  CAPTURE(args);
  CommandResult r = server.Cli(args);
  CHECK_MESSAGE(r.exit_code == 2, r.Describe());
  CHECK_MESSAGE(Contains(r.err, what), r.Describe());
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("federation CLI: create, list, show, update, refresh and delete on a real server") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  const auto now = spinel::common::FromUnixSeconds(std::time(nullptr));
  const TestCa partner_ca = TestCa::Root(kPartnerTd, now);
  const TestCa web_ca = TestCa::Root("webpki.test", now);
  const std::string bundle_file = dir.Write("partner-bundle.json", BundleJson(partner_ca));
  const std::string ca_file = dir.Write("web-ca.pem", web_ca.cert().ToPem());
  const std::string create =
      std::string("federation create --trust-domain ") + kPartnerTd +
      " --endpoint-url https://127.0.0.1:1/bundle --profile https_spiffe --endpoint-spiffe-id " +
      kEndpointId + " --bundle-file " + ShellQuote(bundle_file);

  CommandResult created = server.Cli(create);
  REQUIRE_MESSAGE(created.exit_code == 0, created.Describe());
  CHECK(Contains(created.out, "Created federation relationship"));
  CHECK(Contains(created.out, "sequence 5, 1 X.509 authority, 0 JWT keys"));

  CommandResult list = server.Cli("federation list");
  REQUIRE_MESSAGE(list.exit_code == 0, list.Describe());
  CHECK(Contains(list.out, "TRUST DOMAIN"));
  CHECK(Contains(list.out, "LAST ERROR"));
  CHECK(Contains(list.out, std::string(kPartnerTd) + "  https_spiffe  https://127.0.0.1:1/bundle"));
  json listed = ParseJsonOutput(server.Cli("federation list --output json"));
  REQUIRE(listed["relationships"].size() == 1);
  CHECK(listed["relationships"][0]["trust_domain"] == kPartnerTd);

  json shown = Show(server);
  CHECK(shown["profile"] == "https_spiffe");
  CHECK(shown["endpoint_spiffe_id"] == kEndpointId);
  CHECK(shown["bundle"]["sequence"] == 5);
  CHECK(shown["bundle"]["x509_authorities"] == 1);
  CHECK(shown["refresh"].contains("last_error"));
  CHECK(shown["refresh"].contains("consecutive_failures"));

  // Update changes only what is given.
  CommandResult moved = server.Cli(std::string("federation update --trust-domain ") + kPartnerTd +
                                   " --endpoint-url https://127.0.0.1:2/v2");
  REQUIRE_MESSAGE(moved.exit_code == 0, moved.Describe());
  shown = Show(server);
  CHECK(shown["bundle_endpoint_url"] == "https://127.0.0.1:2/v2");
  CHECK(shown["profile"] == "https_spiffe");
  CHECK(shown["endpoint_spiffe_id"] == kEndpointId);
  CHECK(shown["bundle"]["sequence"] == 5);
  // Switching to https_web drops the endpoint SPIFFE ID; the CA file is read.
  CommandResult web = server.Cli(std::string("federation update --trust-domain ") + kPartnerTd +
                                 " --profile https_web --web-ca-file " + ShellQuote(ca_file));
  REQUIRE_MESSAGE(web.exit_code == 0, web.Describe());
  CHECK(Contains(web.out, "1 certificate"));
  shown = Show(server);
  CHECK(shown["profile"] == "https_web");
  CHECK(shown["endpoint_spiffe_id"] == "");
  CHECK(shown["web_ca_pem"] == web_ca.cert().ToPem());

  // Refused by the server: exit 1 with the gRPC code.
  CommandResult again = server.Cli(create);
  CHECK(again.exit_code == 1);
  CHECK_MESSAGE(Contains(again.err, "ALREADY_EXISTS"), again.Describe());
  CommandResult own = server.Cli(
      "federation create --trust-domain inference.ai.example.org --endpoint-url "
      "https://127.0.0.1:1/ --profile https_web");
  CHECK(own.exit_code == 1);
  CHECK_MESSAGE(Contains(own.err, "INVALID_ARGUMENT: trust_domain: \"inference.ai.example.org\""),
                own.Describe());
  // Nothing listens at the endpoint: the attempt fails (or no refresher runs): exit 1.
  CommandResult refresh =
      server.Cli(std::string("federation refresh --trust-domain ") + kPartnerTd);
  CHECK_MESSAGE(refresh.exit_code == 1, refresh.Describe());
  CHECK(Contains(refresh.err, "error: "));
  CHECK(Show(server)["bundle"]["sequence"] == 5);  // the last good bundle stays

  CommandResult deleted = server.Cli(std::string("federation delete --trust-domain ") + kPartnerTd);
  REQUIRE_MESSAGE(deleted.exit_code == 0, deleted.Describe());
  CHECK(Contains(deleted.out, "Deleted the federation relationship with partner.example.com"));
  CommandResult gone = server.Cli(std::string("federation show --trust-domain ") + kPartnerTd);
  CHECK(gone.exit_code == 1);
  CHECK(Contains(gone.err, "NOT_FOUND"));
  CHECK(ParseJsonOutput(server.Cli("federation list --output json"))["relationships"].empty());
  CHECK(server.Cli(std::string("federation delete --trust-domain ") + kPartnerTd).exit_code == 1);
}

TEST_CASE("federation CLI: bad flags and unreadable files exit 2 naming them; nothing changes") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  const std::string garbage = dir.Write("garbage.json", "{\"keys\": [");
  const std::string not_pem = dir.Write("not.pem", "hello");
  const std::string base = std::string("federation create --trust-domain ") + kPartnerTd;
  const std::string web = base + " --endpoint-url https://p.example.com/ --profile https_web";
  const std::string spiffe = base +
                             " --endpoint-url https://p.example.com/ --profile "
                             "https_spiffe --endpoint-spiffe-id " +
                             kEndpointId;

  CheckUsageError(server, "federation create --endpoint-url https://a.b/ --profile https_web",
                  "--trust-domain: a trust domain is required");
  CheckUsageError(server, base + " --profile https_web", "--endpoint-url: is required");
  CheckUsageError(server, base + " --endpoint-url https://a.b/", "--profile: is required");
  CheckUsageError(server,
                  "federation create --trust-domain spiffe://partner.example.com "
                  "--endpoint-url https://a.b/ --profile https_web",
                  "--trust-domain: ");
  CheckUsageError(server, base + " --endpoint-url http://p.example.com/ --profile https_web",
                  "--endpoint-url: \"http://p.example.com/\": not an https:// URL");
  CheckUsageError(server, base + " --endpoint-url https://p.example.com:70000/ --profile https_web",
                  "--endpoint-url: ");
  CheckUsageError(server, base + " --endpoint-url https://p.example.com/ --profile https",
                  "--profile: \"https\" is not https_web or https_spiffe");
  CheckUsageError(server, base + " --endpoint-url https://p.example.com/ --profile https_spiffe",
                  "--endpoint-spiffe-id: required for profile https_spiffe");
  CheckUsageError(server, web + " --endpoint-spiffe-id " + kEndpointId,
                  "--endpoint-spiffe-id: only for profile https_spiffe");
  CheckUsageError(server, spiffe + " --web-ca-file " + ShellQuote(not_pem), "--web-ca-file");
  CheckUsageError(server, web + " --web-ca-file " + ShellQuote(not_pem),
                  "--web-ca-file " + not_pem);
  CheckUsageError(server, web + " --web-ca-file " + ShellQuote(dir.File("missing.pem")),
                  dir.File("missing.pem"));
  CheckUsageError(server, spiffe + " --bundle-file " + ShellQuote(dir.File("missing.json")),
                  "--bundle-file: ");
  CheckUsageError(server, spiffe + " --bundle-file " + ShellQuote(garbage),
                  "--bundle-file " + garbage + ": ");
  CheckUsageError(server, "federation list --output yaml", "--output");
  CheckUsageError(server, "federation show", "--trust-domain: a trust domain is required");
  CheckUsageError(server, "federation delete --trust-domain 'bad td'", "--trust-domain: ");
  CheckUsageError(server, "federation refresh --trust-domain spiffe://x.y/z", "--trust-domain: ");
  CheckUsageError(server, "federation create --bogus-flag", "--bogus-flag");
  CheckUsageError(server, std::string("federation update --trust-domain ") + kPartnerTd,
                  "nothing to update");
  CheckUsageError(server,
                  std::string("federation update --trust-domain ") + kPartnerTd +
                      " --bundle-file " + ShellQuote(garbage),
                  "--bundle-file: only with create");

  // A valid relationship, then an update whose result is invalid: refused locally (exit 2).
  REQUIRE(server.Cli(web).exit_code == 0);
  CheckUsageError(
      server,
      std::string("federation update --trust-domain ") + kPartnerTd + " --profile https_spiffe",
      "--endpoint-spiffe-id: required for profile https_spiffe");
  json listed = ParseJsonOutput(server.Cli("federation list --output json"));
  REQUIRE(listed["relationships"].size() == 1);
  CHECK(listed["relationships"][0]["profile"] == "https_web");
  CHECK(listed["relationships"][0]["bundle_endpoint_url"] == "https://p.example.com/");
}
