// The examples' Workload API client: what an AI workload needs from the SPIFFE Workload API
// socket named by SPIFFE_ENDPOINT_SOCKET (the standard API, via the generated stubs of
// common/proto/workload.proto), as go-spiffe's X509Source does it.
//
//   WorkloadIdentity  one X509SVIDResponse, parsed: the default SVID with its key and the
//                     X.509 authorities of every trust domain the workload was given (its own
//                     bundle plus the federated bundles of peered zones), and nothing else.
//   WorkloadApiClient FetchX509 waits (retrying while the agent has no identity for the
//                     caller yet) for the first response; WatchX509 streams every update.
//
// Thread-safety: WorkloadApiClient is safe to use from several threads; Cancel() ends a
// running WatchX509 from another thread. WorkloadIdentity is immutable once built and shared
// as std::shared_ptr<const WorkloadIdentity>.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "common/x509_svid_validator.h"
#include "workload.grpc.pb.h"

namespace spinel::examples {

struct WorkloadIdentity {
  common::X509Svid svid;                   // default (first) SVID: id, chain, key
  common::X509AuthorityMap authorities;    // trust domain -> X.509 authorities
  std::vector<std::string> trust_domains;  // names of the bundles held, own first
};

// Parses one Workload API response (checklist B18 for the SVID and key). InvalidArgument when
// it carries no SVID or an unusable one; errors never contain key bytes.
absl::StatusOr<std::shared_ptr<const WorkloadIdentity>> ParseX509Response(
    const ::X509SVIDResponse& response);

// The socket path from SPIFFE_ENDPOINT_SOCKET ("unix:///path" or "unix:path"); InvalidArgument
// naming the variable when it is unset or not a unix: address.
absl::StatusOr<std::string> SocketFromEnvironment();

class WorkloadApiClient {
 public:
  explicit WorkloadApiClient(const std::string& socket_path);

  // The first X.509 identity. PERMISSION_DENIED ("no identity issued") and UNAVAILABLE are
  // retried until `timeout`; then DeadlineExceeded carrying the last error.
  absl::StatusOr<std::shared_ptr<const WorkloadIdentity>> FetchX509(
      std::chrono::milliseconds timeout);

  // Streams X.509 updates, calling `on_update` for each (the first one included), until
  // Cancel() (returns OK) or the stream fails (returns the error).
  absl::Status WatchX509(
      const std::function<void(std::shared_ptr<const WorkloadIdentity>)>& on_update);
  void Cancel();

  // A JWT-SVID of the default identity for `audience`; the token is a secret (never print it).
  absl::StatusOr<std::string> FetchJwt(const std::string& audience);

  // A context with the `workload.spiffe.io: true` header every Workload API call must carry.
  static std::unique_ptr<grpc::ClientContext> NewContext(std::chrono::milliseconds deadline);
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::SpiffeWorkloadAPI::Stub> stub_;
  common::Mutex mu_;
  grpc::ClientContext* watching_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// "PERMISSION_DENIED: no identity issued"-style text for a gRPC status.
std::string DescribeRpcStatus(const grpc::Status& status);

}  // namespace spinel::examples
