#include "bench/support/load_workload.h"

#include <openssl/asn1.h>
#include <time.h>

#include <functional>

#include "common/der_reader.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::bench {
namespace {

// "YYMMDDHHMMSSZ" (UTCTime) or "YYYYMMDDHHMMSSZ" (GeneralizedTime) to unix seconds.
absl::StatusOr<int64_t> ParseDerTime(const common::DerElement& element) {
  std::string text(element.content);
  if (!text.empty() && text.back() == 'Z') text.pop_back();
  if (element.tag == V_ASN1_UTCTIME && text.size() == 12) {
    text = (text.substr(0, 2) < "50" ? "20" : "19") + text;
  } else if (element.tag != V_ASN1_GENERALIZEDTIME || text.size() != 14) {
    return absl::InvalidArgumentError("certificate time is neither UTCTime nor GeneralizedTime");
  }
  for (char c : text) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("bad certificate time");
  }
  auto number = [&](size_t at, size_t n) { return std::stoi(text.substr(at, n)); };
  struct tm parts = {};
  parts.tm_year = number(0, 4) - 1900;
  parts.tm_mon = number(4, 2) - 1;
  parts.tm_mday = number(6, 2);
  parts.tm_hour = number(8, 2);
  parts.tm_min = number(10, 2);
  parts.tm_sec = number(12, 2);
  return static_cast<int64_t>(::timegm(&parts));
}

}  // namespace

absl::StatusOr<int64_t> LeafNotAfter(std::string_view chain_der) {
  common::DerReader chain(chain_der);
  SPINEL_ASSIGN_OR_RETURN(common::DerElement leaf, chain.Expect(V_ASN1_SEQUENCE, "certificate"));
  common::DerReader cert(leaf.content);
  SPINEL_ASSIGN_OR_RETURN(common::DerElement tbs, cert.Expect(V_ASN1_SEQUENCE, "tbsCertificate"));
  common::DerReader fields(tbs.content);
  SPINEL_ASSIGN_OR_RETURN(common::DerElement first, fields.Next("version or serial"));
  if (first.tag_class == V_ASN1_CONTEXT_SPECIFIC) {  // [0] version: the serial follows
    SPINEL_RETURN_IF_ERROR(fields.Expect(V_ASN1_INTEGER, "serialNumber").status());
  }
  SPINEL_RETURN_IF_ERROR(fields.Expect(V_ASN1_SEQUENCE, "signature").status());
  SPINEL_RETURN_IF_ERROR(fields.Expect(V_ASN1_SEQUENCE, "issuer").status());
  SPINEL_ASSIGN_OR_RETURN(common::DerElement validity, fields.Expect(V_ASN1_SEQUENCE, "validity"));
  common::DerReader times(validity.content);
  SPINEL_RETURN_IF_ERROR(times.Next("notBefore").status());
  SPINEL_ASSIGN_OR_RETURN(common::DerElement not_after, times.Next("notAfter"));
  return ParseDerTime(not_after);
}

void X509Watcher::Start() {
  context_ = std::make_unique<grpc::ClientContext>();
  context_->AddMetadata("workload.spiffe.io", "true");
  reader_ = std::thread([this] { Read(); });
}

void X509Watcher::Stop() {
  if (!reader_.joinable()) return;
  context_->TryCancel();
  reader_.join();
}

void X509Watcher::Read() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel =
      grpc::CreateCustomChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials(), args);
  auto stub = ::SpiffeWorkloadAPI::NewStub(channel);
  ::X509SVIDRequest request;
  auto stream = stub->FetchX509SVID(context_.get(), request);
  ::X509SVIDResponse response;
  while (stream->Read(&response)) Check(response);
  grpc::Status status = stream->Finish();
  spinel::common::MutexLock lock(mutex_);
  ended_ = true;
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    stats_.error =
        common::StrCat(static_cast<int>(status.error_code()), ": ", status.error_message());
  }
  changed_.NotifyAll();
}

void X509Watcher::Check(const ::X509SVIDResponse& response) {
  const auto steady_now = std::chrono::steady_clock::now();
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  spinel::common::MutexLock lock(mutex_);
  ++stats_.messages;
  stats_.ids = static_cast<size_t>(response.svids_size());
  for (const ::X509SVID& svid : response.svids()) {
    ++stats_.svids_checked;
    absl::StatusOr<int64_t> not_after = LeafNotAfter(svid.x509_svid());
    if (!not_after.ok() || *not_after <= now) {
      ++stats_.served_expired;  // an unreadable certificate counts against the agent too
    } else if (stats_.min_remaining_s < 0 || *not_after - now < stats_.min_remaining_s) {
      stats_.min_remaining_s = *not_after - now;
    }
    seen_.emplace(svid.spiffe_id(), steady_now);
    const size_t hash = std::hash<std::string>{}(svid.x509_svid());
    auto [at, inserted] = leaf_.emplace(svid.spiffe_id(), hash);
    if (!inserted && at->second != hash) {
      ++stats_.rotations;
      at->second = hash;
    }
  }
  changed_.NotifyAll();
}

WatchStats X509Watcher::Stats() const {
  spinel::common::MutexLock lock(mutex_);
  return stats_;
}

std::optional<std::chrono::steady_clock::time_point> X509Watcher::FirstSeen(
    const std::string& id) const {
  spinel::common::MutexLock lock(mutex_);
  auto found = seen_.find(id);
  if (found == seen_.end()) return std::nullopt;
  return found->second;
}

std::optional<std::chrono::steady_clock::time_point> X509Watcher::WaitFor(
    const std::string& id, std::chrono::milliseconds timeout) const {
  spinel::common::MutexLock lock(mutex_);
  changed_.WaitFor(mutex_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return ended_ || seen_.count(id) > 0;
  });
  auto found = seen_.find(id);
  if (found == seen_.end()) return std::nullopt;
  return found->second;
}

bool X509Watcher::WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
  spinel::common::MutexLock lock(mutex_);
  return changed_.WaitFor(mutex_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return ended_ || stats_.ids >= n;
  }) && stats_.ids >= n;
}

bool X509Watcher::ended() const {
  spinel::common::MutexLock lock(mutex_);
  return ended_;
}

absl::StatusOr<std::unique_ptr<X509Watcher>> WatchWhenServed(const std::string& socket_path,
                                                             size_t min_svids,
                                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error = "nothing served";
  while (std::chrono::steady_clock::now() < deadline) {
    auto watcher = std::make_unique<X509Watcher>(socket_path);
    watcher->Start();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (watcher->WaitForCount(min_svids, std::max(left, std::chrono::milliseconds(1)))) {
      return watcher;
    }
    if (!watcher->Stats().error.empty()) last_error = watcher->Stats().error;
    watcher->Stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // retry pacing only
  }
  return absl::DeadlineExceededError(common::StrCat(
      "Workload API on ", socket_path, " did not serve ", min_svids, " SVIDs: ", last_error));
}

}  // namespace spinel::bench
