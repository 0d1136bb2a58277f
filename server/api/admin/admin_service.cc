// StartAdminServer and the request parsing shared by the admin service's methods
// (admin_service_impl.h).
#include "server/api/admin/admin_service.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/selector.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/api/proto_convert.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

absl::Status FieldError(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(field, ": ", problem));
}

absl::Status CheckTtlField(std::string_view field, int64_t seconds) {
  if (seconds < 0) return FieldError(field, "must not be negative");
  return absl::OkStatus();
}

// True when a process accepts connections on the Unix socket `path`.
bool SocketIsServed(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  bool served = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return served;
}

// Removes a socket file left behind by a server that is gone. Refuses to touch anything that
// is not a socket, or a socket another server still answers on.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::UnavailableError(StrCat("admin socket ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("admin socket path ", path, " exists and is not a socket; not replacing it"));
  }
  if (SocketIsServed(path)) {
    return absl::FailedPreconditionError(
        StrCat("another server is already serving the admin socket ", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(
        StrCat("cannot remove stale admin socket ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<common::SpiffeId> ParseIdField(std::string_view field, const std::string& value) {
  if (value.empty()) return FieldError(field, "a SPIFFE ID is required");
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(value);
  if (!id.ok()) return FieldError(field, StrCat(Quote(value), ": ", id.status().message()));
  return id;
}

absl::StatusOr<common::TrustDomain> ParseTrustDomainField(std::string_view field,
                                                          const std::string& value) {
  if (value.empty()) return FieldError(field, "a trust domain is required");
  if (value.find(":/") != std::string::npos) {
    return FieldError(field, StrCat(Quote(value), ": give a trust domain name, not a SPIFFE ID"));
  }
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(value);
  if (!td.ok()) return FieldError(field, StrCat(Quote(value), ": ", td.status().message()));
  return td;
}

absl::StatusOr<RegistrationEntry> ParseEntryField(std::string_view field,
                                                  const spinel::v1::Entry& proto) {
  const std::string prefix = field.empty() ? "" : StrCat(field, ".");
  RegistrationEntry entry;
  entry.id = proto.id();
  SPINEL_ASSIGN_OR_RETURN(entry.spiffe_id, ParseIdField(prefix + "spiffe_id", proto.spiffe_id()));
  SPINEL_ASSIGN_OR_RETURN(entry.parent_id, ParseIdField(prefix + "parent_id", proto.parent_id()));
  for (int i = 0; i < proto.selectors_size(); ++i) {
    const spinel::v1::Selector& s = proto.selectors(i);
    absl::StatusOr<common::Selector> selector =
        common::Selector::Parse(StrCat(s.type(), ":", s.value()));
    if (!selector.ok()) {
      return FieldError(StrCat(prefix, "selectors[", i, "]"),
                        std::string(selector.status().message()));
    }
    entry.selectors.push_back(*std::move(selector));
  }
  SPINEL_RETURN_IF_ERROR(
      CheckTtlField(prefix + "x509_svid_ttl_seconds", proto.x509_svid_ttl_seconds()));
  SPINEL_RETURN_IF_ERROR(
      CheckTtlField(prefix + "jwt_svid_ttl_seconds", proto.jwt_svid_ttl_seconds()));
  if (proto.expires_at() < 0) return FieldError(prefix + "expires_at", "must not be negative");
  entry.x509_svid_ttl = proto.x509_svid_ttl_seconds();
  entry.jwt_svid_ttl = proto.jwt_svid_ttl_seconds();
  entry.dns_names.assign(proto.dns_names().begin(), proto.dns_names().end());
  entry.hint = proto.hint();
  entry.admin = proto.admin();
  if (proto.expires_at() != 0) entry.expires_at = proto.expires_at();
  entry.revision_number = proto.revision_number();
  return entry;
}

AdminSettings AdminSettings::FromConfig(const ServerConfig& config) {
  return AdminSettings{.control = config.trust_domain,
                       .default_join_token_ttl = config.default_join_token_ttl};
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const AdminDeps& deps, AdminHooks hooks, const std::string& socket_path,
    std::unique_ptr<grpc::Service>* service_out) {
  if (socket_path.empty() || socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(StrCat("admin socket path ", Quote(socket_path),
                                             " must be 1 to ", sizeof(sockaddr_un::sun_path) - 1,
                                             " bytes long"));
  }
  SPINEL_RETURN_IF_ERROR(RemoveStaleSocket(socket_path));
  auto service = std::make_unique<AdminServiceImpl>(deps, std::move(hooks));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::UnavailableError(StrCat("cannot listen on unix:", socket_path));
  // The umask (077) already created it private; make the mode explicit whatever the umask.
  if (::chmod(socket_path.c_str(), 0600) != 0) {
    std::string error = std::strerror(errno);
    server->Shutdown();
    return absl::UnavailableError(StrCat("cannot chmod admin socket ", socket_path, ": ", error));
  }
  *service_out = std::move(service);
  LOG_INFO("admin API listening", {{"socket", socket_path}});
  return server;
}

}  // namespace spinel::server
