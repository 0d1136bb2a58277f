// AdminHarness: the admin service over a full set of real components (ServerFixture, wired
// by AdminDepsOf as the composition root wires them), served
// by StartAdminServer on a Unix socket in the fixture's temp directory, with a client stub on
// a real gRPC channel, and the server's zone reload (a ZoneReloader over the fixture's zones
// directory) as its reload hook. For the admin service tests.
#pragma once

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "admin.grpc.pb.h"
#include "server/api/admin/admin_service.h"
#include "server/zones/zone_reload.h"
#include "tests/server/server_fixture.h"
#include "tests/server/service_deps.h"

namespace spinel::server::testing {

inline constexpr char kControlTd[] = "spinel.ai.example.org";
inline constexpr char kAgentId[] = "spiffe://spinel.ai.example.org/spinel/agent/join_token/node-1";
inline constexpr char kInferenceId[] = "spiffe://inference.ai.example.org/model-server";
inline constexpr char kToolsId[] = "spiffe://tools.ai.example.org/runner";

class AdminHarness {
 public:
  // `datastore_override` replaces the fixture's datastore in every store the service uses.
  explicit AdminHarness(Datastore* datastore_override = nullptr,
                        const ServerFixtureOptions& options = {})
      : fixture(options),
        deps(AdminDepsOf(fixture, datastore_override)),
        socket_path(fixture.dir + "/admin.sock"),
        reloader(fixture.config, StoreOf(fixture, datastore_override), *fixture.zones, *fixture.cas,
                 *fixture.feed) {
    AdminHooks hooks{.reload_zones = [this] { return reloader.Reload(); }};
    auto server = StartAdminServer(deps, std::move(hooks), socket_path, &service_);
    REQUIRE_MESSAGE(server.ok(), server.status().ToString());
    server_ = std::move(*server);
    stub = spinel::v1::AdminService::NewStub(
        grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials()));
  }
  ~AdminHarness() { server_->Shutdown(); }

  // One unary call on the stub with a fresh context.
  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (spinel::v1::AdminService::Stub::*method)(grpc::ClientContext*,
                                                                           const Request&,
                                                                           Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return (stub.get()->*method)(&context, request, response);
  }

  // An entry under kAgentId with one selector.
  static spinel::v1::Entry MakeEntry(const std::string& spiffe_id,
                                     const std::string& selector_value = "1000") {
    spinel::v1::Entry entry;
    entry.set_spiffe_id(spiffe_id);
    entry.set_parent_id(kAgentId);
    spinel::v1::Selector* selector = entry.add_selectors();
    selector->set_type("unix");
    selector->set_value("uid:" + selector_value);
    return entry;
  }

  // Creates `entry` and REQUIREs success; returns the stored entry.
  spinel::v1::Entry Create(const spinel::v1::Entry& entry) {
    spinel::v1::CreateEntriesRequest request;
    *request.add_entries() = entry;
    spinel::v1::CreateEntriesResponse response;
    grpc::Status status = Call(&spinel::v1::AdminService::Stub::CreateEntries, request, &response);
    REQUIRE(status.ok());
    REQUIRE(response.results_size() == 1);
    REQUIRE_MESSAGE(response.results(0).error_code() == 0, response.results(0).error());
    return response.results(0).entry();
  }

  int64_t Count() {
    spinel::v1::CountResponse response;
    REQUIRE(Call(&spinel::v1::AdminService::Stub::CountEntries, spinel::v1::ListEntriesRequest(),
                 &response)
                .ok());
    return response.count();
  }

  ServerFixture fixture;  // first: everything below refers to it
  AdminDeps deps;
  std::string socket_path;
  ZoneReloader reloader;
  std::unique_ptr<spinel::v1::AdminService::Stub> stub;

 private:
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace spinel::server::testing
