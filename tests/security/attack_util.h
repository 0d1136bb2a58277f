// Helpers for the attack tests (tests/security/*attack*_test.cc), which play the attacker
// against the real spinel-server and spinel-agent binaries (tests/integration/process_util.h,
// agent_process_util.h):
//   - AuditEvents(): the server's audit events of one kind, through `audit list --output json`;
//   - ZoneKeys(): a zone's active X.509 CA (certificate and key) and JWT signing key (kid and
//     key), read from the server's data directory as an attacker who stole them, or a CA that
//     mis-issues, would hold them (authorities/<td>/state.json and its key files);
//   - AgentWorld: a server and an agent attested to it, with this process's uid registered as
//     tools' runner, training's trainer and inference's model server, all served (extra config
//     lines appended first);
//   - AttackerAgentApi: a hand-built agent API client (generated gRPC stubs over TLS, the server
//     verified against the control bundle) that presents whatever agent SVID it is given.
// Failures abort the current doctest case (REQUIRE). Not thread-safe; one test thread.
#pragma once

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <unistd.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent.grpc.pb.h"
#include "common/certificate.h"
#include "common/csr.h"
#include "common/keys.h"
#include "tests/integration/agent_process_util.h"

namespace spinel::testing {

inline common::PrivateKey NewAttackKey() {
  auto key = common::PrivateKey::Generate();
  REQUIRE(key.ok());
  return *std::move(key);
}

// The server's audit events of `kind` (oldest first), as `audit list` prints them.
inline nlohmann::json AuditEvents(const ServerProcess& server, const std::string& kind) {
  return ParseJsonOutput(
      server.Cli("audit list --kind " + ShellQuote(kind) + " --output json"))["events"];
}

// The event of `events` whose reason contains `part`, or null.
inline nlohmann::json EventWithReason(const nlohmann::json& events, const std::string& part) {
  for (const nlohmann::json& event : events) {
    if (Contains(event["reason"].get<std::string>(), part)) return event;
  }
  return nullptr;
}

struct ZoneKeys {
  common::Certificate ca;  // the active X.509 CA (a root: the server runs without upstream)
  common::PrivateKey ca_key;
  std::string jwt_kid;  // the active JWT signing key
  common::PrivateKey jwt_key;
};

inline ZoneKeys ReadZoneKeys(const ServerProcess& server, const std::string& trust_domain) {
  const std::string dir = server.data_dir() + "/authorities/" + trust_domain;
  nlohmann::json state = nlohmann::json::parse(ReadWholeFile(dir + "/state.json"), nullptr, false);
  REQUIRE_MESSAGE(!state.is_discarded(), dir);
  auto active = [&](const char* kind, const char* id_field) {
    for (const nlohmann::json& slot : state[kind]) {
      if (slot["state"] == "active") return slot[id_field].get<std::string>();
    }
    FAIL("no active " << kind << " authority in " << dir);
    return std::string();
  };
  auto key = [](const std::string& path) {
    auto parsed = common::PrivateKey::FromPem(ReadWholeFile(path));
    REQUIRE_MESSAGE(parsed.ok(), path);
    return *std::move(parsed);
  };
  const std::string x509_id = active("x509", "id");
  auto ca = common::Certificate::ParsePemChain(ReadWholeFile(dir + "/x509-" + x509_id + ".pem"));
  REQUIRE(ca.ok());
  REQUIRE(!ca->empty());
  const std::string kid = active("jwt", "kid");
  return ZoneKeys{ca->front(), key(dir + "/x509-" + x509_id + ".key"), kid,
                  key(dir + "/jwt-" + kid + ".key")};
}

inline std::unique_ptr<grpc::ClientContext> AttackContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

inline std::string CsrFor(const common::PrivateKey& key, const std::string& id) {
  auto parsed = common::SpiffeId::Parse(id);
  REQUIRE(parsed.ok());
  auto der = common::CreateCsrDer(key, *parsed);
  REQUIRE(der.ok());
  return *der;
}

// An agent SVID and its key, as a (possibly former) agent holds them.
struct AgentCredentials {
  std::string id;
  common::PrivateKey key;
  std::vector<common::Certificate> chain;
};

class AttackerAgentApi {
 public:
  explicit AttackerAgentApi(const ServerProcess& server)
      : address_(AgentApiAddress(server)), control_pem_(ParsedBundle(server, kTestControlTd)) {}

  static std::string ParsedBundle(const ServerProcess& server, const std::string& td) {
    CommandResult shown = server.Cli("bundle show --trust-domain " + td);
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.Describe());
    return shown.out;
  }

  // A stub that verifies the server and presents `agent`'s SVID when given.
  std::unique_ptr<v1::AgentService::Stub> Connect(const AgentCredentials* agent = nullptr) const {
    grpc::experimental::TlsChannelCredentialsOptions options;
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (agent != nullptr) {
      pairs.push_back(
          {std::string(agent->key.ToPkcs8Pem()->view()), common::ConcatPem(agent->chain)});
    }
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(control_pem_, pairs));
    options.watch_root_certs();
    if (agent != nullptr) options.watch_identity_key_cert_pairs();
    options.set_verify_server_certs(true);
    options.set_check_call_host(false);  // the server's identity is a URI SAN
    options.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    return v1::AgentService::NewStub(
        grpc::CreateChannel(address_, grpc::experimental::TlsCredentials(options)));
  }

  // Join-token attestation with a fresh key; the status, and `agent` set when OK.
  grpc::Status Attest(const std::string& token,
                      std::optional<AgentCredentials>* agent = nullptr) const {
    common::PrivateKey key = NewAttackKey();
    auto stub = Connect();
    auto context = AttackContext();
    auto stream = stub->Attest(context.get());
    v1::AttestRequest request;
    request.mutable_params()->mutable_join_token()->set_token(token);
    request.mutable_params()->set_csr(
        CsrFor(key, std::string("spiffe://") + kTestControlTd + "/x"));
    stream->Write(request);
    stream->WritesDone();
    v1::AttestResponse response;
    v1::AgentSvid svid;
    while (stream->Read(&response)) {
      if (response.has_result()) svid = response.result();
    }
    grpc::Status status = stream->Finish();
    if (status.ok() && agent != nullptr) {
      std::vector<common::Certificate> chain;
      for (const std::string& der : svid.certificate_chain()) {
        auto cert = common::Certificate::FromDer(der);
        REQUIRE(cert.ok());
        chain.push_back(*cert);
      }
      agent->emplace(AgentCredentials{svid.spiffe_id(), std::move(key), std::move(chain)});
    }
    return status;
  }

  // SignX509Svids of one CSR (a fresh key, URI SAN `csr_id`) for `entry_id` as `agent`: the
  // call's status, and the per-CSR result in `signed_svid`.
  grpc::Status Sign(const AgentCredentials& agent, const std::string& entry_id,
                    const std::string& csr_id, v1::SignedSvid* signed_svid) const {
    v1::SignX509SvidsRequest request;
    request.add_csrs()->set_entry_id(entry_id);
    request.mutable_csrs(0)->set_csr(CsrFor(NewAttackKey(), csr_id));
    v1::SignX509SvidsResponse response;
    grpc::Status status = Connect(&agent)->SignX509Svids(AttackContext().get(), request, &response);
    if (status.ok()) {
      REQUIRE(response.svids_size() == 1);
      *signed_svid = response.svids(0);
    }
    return status;
  }

 private:
  std::string address_;
  std::string control_pem_;
};

inline constexpr char kAttackRunner[] = "spiffe://tools.ai.example.org/runner";
inline constexpr char kAttackTrainer[] = "spiffe://training.ai.example.org/trainer";
inline constexpr char kAttackModel[] = "spiffe://inference.ai.example.org/model-server";

class AgentWorld {
 public:
  explicit AgentWorld(const std::string& server_config = "", const std::string& agent_config = "")
      : server(dir) {
    AppendTo(dir.File("server.yaml"), server_config);
    server.Start();
    auto [join_token, id] = NewJoinToken(server);
    token = join_token;
    agent_id = id;
    for (const char* workload : {kAttackRunner, kAttackTrainer, kAttackModel}) {
      Register(server, workload, agent_id, static_cast<int>(::getuid()));
    }
    agent = std::make_unique<AgentProcess>(dir, server);
    AppendTo(dir.File("agent.yaml"), agent_config);
    agent->Start(token);
    for (const char* workload : {kAttackRunner, kAttackTrainer, kAttackModel}) {
      CommandResult fetched;
      bool served = WaitFor([&] {
        fetched = agent->Api(std::string("api fetch jwt --audience ready --spiffe-id ") + workload);
        return fetched.exit_code == 0;
      });
      REQUIRE_MESSAGE(served, fetched.Describe() << agent->Log());
    }
  }

  // `spinel-agent <args> --socket S` as this process's uid.
  CommandResult Agent(const std::string& args) const { return agent->Api(args); }

  TempDir dir;
  ServerProcess server;
  std::unique_ptr<AgentProcess> agent;  // after `server`: stopped first
  std::string token;
  std::string agent_id;

 private:
  static void AppendTo(const std::string& path, const std::string& text) {
    if (text.empty()) return;
    std::ofstream out(path, std::ios::app);
    out << text;
    REQUIRE(out.good());
  }
};

}  // namespace spinel::testing
