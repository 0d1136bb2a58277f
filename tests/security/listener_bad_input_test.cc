// Garbage bytes, truncated frames and oversized messages (issue 7, "Bad input") on every
// listener of the real binaries: spinel-server's agent API (gRPC over TLS), its HTTPS endpoint
// (health, metrics, bundles) and its admin Unix socket; spinel-agent's Workload API socket,
// which also serves the Authorization API. After each kind of abuse, on each listener: the
// process is still up and healthy, well-formed clients are still served, and nothing was
// written (entries, agents and issued SVIDs unchanged; a refused attestation is audited).
//
// Malformed bytes are sent on raw sockets (tests/security/bad_input_wire.h); oversized and invalid
// messages through the real generated gRPC stubs, so the server's own limits answer them.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "admin.grpc.pb.h"
#include "agent.grpc.pb.h"
#include "agent/server_trust.h"
#include "authorization.grpc.pb.h"
#include "common/certificate.h"
#include "common/csr.h"
#include "tests/integration/agent_process_util.h"
#include "tests/integration/process_util.h"
#include "tests/security/bad_input_wire.h"
#include "workload.grpc.pb.h"

using spinel::testing::AgentApiAddress;
using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::NewJoinToken;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ReadWholeFile;
using spinel::testing::Register;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;
using spinel::testing::TrimLine;
namespace wire = spinel::testing::wire;

namespace {

constexpr char kWorkloadId[] = "spiffe://inference.ai.example.org/bad-input/listener";
constexpr size_t kOversized = 6 << 20;  // above the server's 4 MiB and the agent's 256 KiB

// The malformed byte streams every listener gets (plain; TLS listeners also get them inside
// an established TLS session).
std::vector<std::pair<std::string, std::string>> Garbage() {
  std::mt19937 random(7);  // fixed: the same bytes every run
  auto bytes = [&](size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(random() & 0xff);
    return out;
  };
  return {
      {"one random byte", bytes(1)},
      {"random bytes", bytes(4096)},
      {"64 KiB of random bytes", bytes(64 << 10)},
      {"HTTP/1.1 request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"HTTP/2 preface then a cut SETTINGS frame", wire::Http2Preface() + wire::CutSettingsFrame()},
      {"HTTP/2 preface then HEADERS of garbage HPACK",
       wire::Http2Preface() + wire::SettingsFrame() + wire::GarbageHeadersFrame(bytes(200))},
      {"HTTP/2 DATA frame claiming a 2 GiB gRPC message",
       wire::Http2Preface() + wire::SettingsFrame() + wire::HugeGrpcDataFrame()},
      {"HTTP/2 frame header claiming 16 MiB", wire::Http2Preface() + wire::OversizedFrameHeader()},
      {"preface cut in half", wire::Http2Preface().substr(0, 12)},
  };
}

struct Snapshot {
  std::string entries, agents, issued;
  bool operator==(const Snapshot&) const = default;
};

Snapshot Take(const ServerProcess& server) {
  auto out = [&](const std::string& args) {
    CommandResult r = server.Cli(args);
    REQUIRE_MESSAGE(r.exit_code == 0, args << "\n" << r.Describe());
    return r.out;
  };
  return {out("entry show --output json"), out("agent list --output json"),
          out("audit list --kind x509_svid.issued --output json") +
              out("audit list --kind jwt_svid.issued --output json")};
}

class Fixture {
 public:
  Fixture() : server_(dir_) {
    server_.Start();
    auto [token, agent_id] = NewJoinToken(server_);
    agent_ = std::make_unique<AgentProcess>(dir_, server_);
    agent_->Start(token);
    Register(server_, kWorkloadId, agent_id, 0);
    REQUIRE(spinel::testing::WaitFor([&] { return FetchOwnSvid(); }));
    before_ = Take(server_);
    https_address_ = TrimLine(ReadWholeFile(server_.data_dir() + "/https.addr"));
  }

  // The server and the agent are up, healthy and serve well-formed clients; nothing changed.
  void CheckUnharmed(const std::string& after) {
    CAPTURE(after);
    REQUIRE_MESSAGE(agent_->Running(), "spinel-agent exited:\n" << agent_->Log());
    CommandResult health = server_.Cli("healthcheck");
    REQUIRE_MESSAGE(health.exit_code == 0, health.Describe() << "\n" << server_.Log());
    CHECK(agent_->Api("healthcheck").exit_code == 0);
    std::string https = wire::HttpsGet(https_address_, "/healthz");
    CHECK_MESSAGE(https.rfind("HTTP/1.1 200", 0) == 0, https);
    CHECK(FetchOwnSvid());
    CHECK(Take(server_) == before_);
  }

  bool FetchOwnSvid() {
    CommandResult r = agent_->Api("api fetch x509 --output json");
    return r.exit_code == 0 && r.out.find(kWorkloadId) != std::string::npos;
  }

  ServerProcess& server() { return server_; }
  AgentProcess& agent() { return *agent_; }
  std::string agent_api() const { return AgentApiAddress(server_); }
  const std::string& https() const { return https_address_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  ServerProcess server_;
  std::unique_ptr<AgentProcess> agent_;
  Snapshot before_;
  std::string https_address_;
};

std::unique_ptr<spinel::v1::AgentService::Stub> AgentApiStub(const Fixture& f) {
  auto authorities =
      spinel::common::Certificate::ParsePemChain(ReadWholeFile(f.dir().File("bootstrap.pem")));
  REQUIRE(authorities.ok());
  auto trust = std::make_shared<spinel::agent::ControlTrust>(
      *spinel::common::TrustDomain::Parse(spinel::testing::kTestControlTd), *authorities);
  return spinel::v1::AgentService::NewStub(
      grpc::CreateChannel(f.agent_api(), spinel::agent::MakeAgentChannelCredentials(
                                             trust, spinel::common::SystemClock::Get(), nullptr)));
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

// A real CSR for an agent key (what a genuine agent sends with its token).
std::string AgentCsr() {
  auto key = spinel::common::PrivateKey::Generate();
  REQUIRE(key.ok());
  auto id = spinel::common::SpiffeId::Parse("spiffe://control.spinel.test/spinel/agent/x");
  REQUIRE(id.ok());
  auto csr = spinel::common::CreateCsrDer(*key, *id);
  REQUIRE(csr.ok());
  return *csr;
}

// An Attest stream with join token `token` and `csr`: the status the server ends it with.
grpc::Status Attest(spinel::v1::AgentService::Stub& stub, const std::string& token,
                    const std::string& csr = "not a CSR") {
  grpc::ClientContext context;
  SetDeadline(context);
  auto stream = stub.Attest(&context);
  spinel::v1::AttestRequest request;
  request.mutable_params()->mutable_join_token()->set_token(token);
  request.mutable_params()->set_csr(csr);
  stream->Write(request);
  stream->WritesDone();
  spinel::v1::AttestResponse response;
  while (stream->Read(&response)) {
  }
  return stream->Finish();
}

std::string Describe(const grpc::Status& status) {
  return std::to_string(status.error_code()) + ": " + status.error_message();
}

}  // namespace

TEST_CASE("garbage, truncated frames and oversized messages on every listener") {
  Fixture f;
  const auto garbage = Garbage();

  SUBCASE("server agent API (TLS)") {
    CHECK(wire::SendRaw(wire::ConnectTcp(f.agent_api()), wire::HalfClientHello("h2")));
    f.CheckUnharmed("half a TLS ClientHello");
    for (const auto& [name, bytes] : garbage) {
      CHECK(wire::SendRaw(wire::ConnectTcp(f.agent_api()), bytes));
      CHECK(wire::SendInTls(f.agent_api(), "h2", bytes));
    }
    f.CheckUnharmed("garbage, plain and inside TLS");
    auto stub = AgentApiStub(f);
    grpc::Status oversized = Attest(*stub, std::string(kOversized, 'j'));
    CHECK_MESSAGE(oversized.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED,
                  Describe(oversized));
    grpc::Status bad_csr = Attest(*stub, "not-a-join-token");
    CHECK_MESSAGE(bad_csr.error_code() == grpc::StatusCode::INVALID_ARGUMENT, Describe(bad_csr));
    grpc::Status junk = Attest(*stub, "not-a-join-token", AgentCsr());
    CHECK_MESSAGE((junk.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                   junk.error_code() == grpc::StatusCode::UNAUTHENTICATED),
                  Describe(junk));
    // A string field that is not UTF-8 does not even parse as the request.
    grpc::Status not_utf8 = Attest(*stub, "\xff\xfe");
    CHECK_MESSAGE(!not_utf8.ok(), Describe(not_utf8));
    CHECK(!junk.error_message().empty());
    // The refusal is audited (an attack), but nothing else is written.
    CommandResult refused =
        f.server().Cli("audit list --kind agent.attestation_refused --output json");
    CHECK_MESSAGE(refused.out.find("refused") != std::string::npos, refused.Describe());
    f.CheckUnharmed("oversized and junk Attest");
  }

  SUBCASE("server HTTPS endpoint") {
    CHECK(wire::SendRaw(wire::ConnectTcp(f.https()), wire::HalfClientHello("http/1.1")));
    for (const auto& [name, bytes] : garbage) {
      CHECK(wire::SendRaw(wire::ConnectTcp(f.https()), bytes));
      CHECK(wire::SendInTls(f.https(), "http/1.1", bytes));
    }
    CHECK(wire::SendInTls(
        f.https(), "http/1.1",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(kOversized, 'a') + "\r\n\r\n"));
    CHECK(wire::SendInTls(f.https(), "http/1.1",
                          "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n"
                          "abc"));
    std::string unknown = wire::HttpsGet(f.https(), "/%ff%00/../../etc/passwd");
    CHECK_MESSAGE(unknown.rfind("HTTP/1.1 4", 0) == 0, unknown);
    f.CheckUnharmed("HTTPS abuse");
  }

  SUBCASE("server admin socket") {
    const std::string socket = f.server().socket_path();
    for (const auto& [name, bytes] : garbage)
      CHECK(wire::SendRaw(wire::ConnectUnix(socket), bytes));
    f.CheckUnharmed("garbage on the admin socket");
    auto stub = spinel::v1::AdminService::NewStub(
        grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
    spinel::v1::CreateEntriesRequest request;
    spinel::v1::Entry* entry = request.add_entries();
    entry->set_spiffe_id(std::string(kOversized, 'x'));
    spinel::v1::CreateEntriesResponse response;
    grpc::ClientContext oversized_context;
    SetDeadline(oversized_context);
    grpc::Status oversized = stub->CreateEntries(&oversized_context, request, &response);
    CHECK_MESSAGE(oversized.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED,
                  Describe(oversized));
    // Under the size limit but invalid: refused per entry, with the reason.
    entry->set_spiffe_id("spiffe://inference.ai.example.org/" + std::string(3 << 20, 'x'));
    entry->set_parent_id("spiffe://control.spinel.test/../x");
    grpc::ClientContext invalid_context;
    SetDeadline(invalid_context);
    grpc::Status invalid = stub->CreateEntries(&invalid_context, request, &response);
    if (invalid.ok()) {
      REQUIRE(response.results_size() == 1);
      CHECK(response.results(0).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    } else {
      CHECK_MESSAGE(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT, Describe(invalid));
    }
    f.CheckUnharmed("oversized and invalid CreateEntries");
  }

  SUBCASE("agent Workload API and Authorization API socket") {
    const std::string socket = f.agent().socket_path();
    for (const auto& [name, bytes] : garbage)
      CHECK(wire::SendRaw(wire::ConnectUnix(socket), bytes));
    f.CheckUnharmed("garbage on the Workload API socket");
    auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
    auto workload = SpiffeWorkloadAPI::NewStub(channel);
    auto call = [&](const std::string& svid, bool header) {
      grpc::ClientContext context;
      SetDeadline(context);
      if (header) context.AddMetadata("workload.spiffe.io", "true");
      ValidateJWTSVIDRequest request;
      request.set_audience("a");
      request.set_svid(svid);
      ValidateJWTSVIDResponse response;
      return workload->ValidateJWTSVID(&context, request, &response);
    };
    grpc::Status oversized = call(std::string(kOversized, 'e'), true);
    CHECK_MESSAGE(oversized.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED,
                  Describe(oversized));
    grpc::Status big = call(std::string(100 << 10, 'e'), true);  // under the limit, not a JWT
    CHECK_MESSAGE(big.error_code() == grpc::StatusCode::INVALID_ARGUMENT, Describe(big));
    grpc::Status no_header = call("x.y.z", false);
    CHECK_MESSAGE(no_header.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
                  Describe(no_header));

    auto authz = spinel::v1::Authorization::NewStub(channel);
    auto authorize = [&](const std::string& jwt, const std::string& resource) {
      grpc::ClientContext context;
      SetDeadline(context);
      spinel::v1::AuthorizeRequest request;
      request.set_jwt_svid(jwt);
      request.set_resource(resource);
      request.set_action("invoke");
      spinel::v1::AuthorizeResponse response;
      return authz->Authorize(&context, request, &response);
    };
    grpc::Status authz_oversized = authorize(std::string(kOversized, 'a'), "tool:x");
    CHECK_MESSAGE(authz_oversized.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED,
                  Describe(authz_oversized));
    grpc::Status bad_resource = authorize("x.y.z", "");
    CHECK_MESSAGE(bad_resource.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
                  Describe(bad_resource));
    grpc::Status bad_token = authorize("e30.e30.AAAA", "tool:x");
    CHECK_MESSAGE(bad_token.error_code() == grpc::StatusCode::UNAUTHENTICATED, Describe(bad_token));
    grpc::Status not_utf8 = authorize("\xff.\xfe", "tool:x");
    CHECK_MESSAGE(!not_utf8.ok(), Describe(not_utf8));
    f.CheckUnharmed("oversized and invalid Workload API and Authorize calls");
  }
}
