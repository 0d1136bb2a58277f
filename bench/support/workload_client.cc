#include "bench/support/workload_client.h"

#include <atomic>
#include <thread>
#include <vector>

#include "bench/support/process.h"
#include "bench/support/timing.h"
#include "common/mutex.h"
#include "common/strings.h"

namespace spinel::bench {

using common::StrCat;

std::shared_ptr<grpc::Channel> FreshChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> WorkloadContext(std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("workload.spiffe.io", "true");
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      std::string(status.error_message()));
}

absl::StatusOr<X509SVIDResponse> FirstX509Message(SpiffeWorkloadAPI::Stub& stub) {
  std::unique_ptr<grpc::ClientContext> context = WorkloadContext();
  std::unique_ptr<grpc::ClientReader<X509SVIDResponse>> reader =
      stub.FetchX509SVID(context.get(), X509SVIDRequest());
  X509SVIDResponse first;
  if (reader->Read(&first)) {
    context->TryCancel();
    reader->Finish().IgnoreError();
    return first;
  }
  grpc::Status status = reader->Finish();
  if (status.ok()) return absl::InternalError("FetchX509SVID ended without a message");
  return FromGrpc(status);
}

absl::StatusOr<WITSVID> FirstWitSvid(SpiffeWorkloadAPI::Stub& stub) {
  std::unique_ptr<grpc::ClientContext> context = WorkloadContext();
  std::unique_ptr<grpc::ClientReader<WITSVIDResponse>> reader =
      stub.FetchWITSVID(context.get(), WITSVIDRequest());
  WITSVIDResponse first;
  if (reader->Read(&first)) {
    context->TryCancel();
    reader->Finish().IgnoreError();
    if (first.svids_size() == 0) return absl::InternalError("FetchWITSVID answered no SVID");
    return first.svids(0);
  }
  grpc::Status status = reader->Finish();
  if (status.ok()) return absl::InternalError("FetchWITSVID ended without a message");
  return FromGrpc(status);
}

absl::StatusOr<std::string> FetchJwt(SpiffeWorkloadAPI::Stub& stub, const std::string& audience) {
  std::unique_ptr<grpc::ClientContext> context = WorkloadContext();
  JWTSVIDRequest request;
  request.add_audience(audience);
  JWTSVIDResponse response;
  grpc::Status status = stub.FetchJWTSVID(context.get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  if (response.svids_size() == 0) return absl::InternalError("FetchJWTSVID answered no SVID");
  return response.svids(0).svid();
}

absl::StatusOr<std::string> ValidateJwt(SpiffeWorkloadAPI::Stub& stub, const std::string& token,
                                        const std::string& audience) {
  std::unique_ptr<grpc::ClientContext> context = WorkloadContext();
  ValidateJWTSVIDRequest request;
  request.set_audience(audience);
  request.set_svid(token);
  ValidateJWTSVIDResponse response;
  grpc::Status status = stub.ValidateJWTSVID(context.get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.spiffe_id();
}

absl::Status WaitForX509Svid(const std::string& target, const std::string& spiffe_id,
                             std::chrono::milliseconds timeout) {
  absl::Status last = absl::DeadlineExceededError("not polled");
  const bool served = WaitFor(
      [&] {
        auto stub = SpiffeWorkloadAPI::NewStub(FreshChannel(target));
        absl::StatusOr<X509SVIDResponse> first = FirstX509Message(*stub);
        if (!first.ok()) {
          last = first.status();
          return false;
        }
        for (const X509SVID& svid : first->svids()) {
          if (svid.spiffe_id() == spiffe_id) return true;
        }
        last =
            absl::NotFoundError(StrCat("served ", first->svids_size(), " SVIDs, not ", spiffe_id));
        return false;
      },
      timeout, std::chrono::milliseconds(100));
  if (served) return absl::OkStatus();
  return absl::DeadlineExceededError(
      StrCat("no X509-SVID for ", spiffe_id, " on ", target, ": ", last.ToString()));
}

absl::StatusOr<ConcurrentCalls> RunConcurrently(int threads, double seconds,
                                                const std::function<absl::Status(size_t)>& call) {
  std::atomic<size_t> done{0};
  spinel::common::Mutex error_mutex;
  absl::Status error;
  const double start = WallSeconds();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = 0; WallSeconds() - start < seconds; ++i) {
        if (absl::Status status = call(i); !status.ok()) {
          spinel::common::MutexLock lock(error_mutex);
          error = status;
          return;
        }
        ++done;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  if (!error.ok()) return error;
  return ConcurrentCalls{done.load(), WallSeconds() - start};
}

}  // namespace spinel::bench
