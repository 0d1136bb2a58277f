// Workload API client calls for the benchmarks, over a real Unix socket:
//   - FreshChannel(): a channel with its own subchannel pool, so it opens its own connection
//     (gRPC otherwise shares one connection among channels to the same target);
//   - every call carries the `workload.spiffe.io: true` security header and a deadline;
//   - FirstX509Message(): opens FetchX509SVID and returns the first message (then cancels);
//   - WaitForX509Svid(): polls until the agent serves `spiffe_id` to this process;
//   - RunConcurrently(): the throughput loop, one call after another on several threads.
// Thread-safe (gRPC stubs are).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "workload.grpc.pb.h"

namespace spinel::bench {

// `target` is "unix:///path/to/socket".
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& target);

// A context with the security header and a deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> WorkloadContext(
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

absl::Status FromGrpc(const grpc::Status& status);

absl::StatusOr<X509SVIDResponse> FirstX509Message(SpiffeWorkloadAPI::Stub& stub);
// One FetchJWTSVID for `audience`; the first SVID's token.
// The first WIT-SVID (with its private key as a JWK) of the first FetchWITSVID message.
absl::StatusOr<WITSVID> FirstWitSvid(SpiffeWorkloadAPI::Stub& stub);
absl::StatusOr<std::string> FetchJwt(SpiffeWorkloadAPI::Stub& stub, const std::string& audience);
// ValidateJWTSVID; the SPIFFE ID it answered.
absl::StatusOr<std::string> ValidateJwt(SpiffeWorkloadAPI::Stub& stub, const std::string& token,
                                        const std::string& audience);

// Polls (fresh connection each time) until the first FetchX509SVID message holds an SVID for
// `spiffe_id`; DeadlineExceeded after `timeout`.
absl::Status WaitForX509Svid(const std::string& target, const std::string& spiffe_id,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));

// What RunConcurrently did: successful calls and the wall seconds from start to last join.
struct ConcurrentCalls {
  size_t calls = 0;
  double seconds = 0;
  double PerSecond() const { return static_cast<double>(calls) / seconds; }
};

// Calls `call(i)` (i = 0, 1, ... on each thread) on `threads` threads, each until `seconds`
// have passed since the start. A thread stops at its first failed call; the run then returns
// a failure (the last one recorded) once every thread has stopped.
absl::StatusOr<ConcurrentCalls> RunConcurrently(int threads, double seconds,
                                                const std::function<absl::Status(size_t)>& call);

}  // namespace spinel::bench
