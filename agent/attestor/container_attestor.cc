#include "agent/attestor/container_attestor.h"

#include <algorithm>
#include <optional>

#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::Quote;
using common::Selector;
using common::SelectorSet;
using common::StrCat;

constexpr size_t kContainerIdLength = 64;
constexpr size_t kMaxPodUidLength = 64;

bool IsContainerId(std::string_view s) {
  return s.size() == kContainerIdLength && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsPodUid(std::string_view s) {
  return !s.empty() && s.size() <= kMaxPodUidLength && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
  });
}

bool IsKubepods(std::string_view segment) {
  return segment.starts_with("kubepods") || segment.starts_with("kubelet-kubepods");
}

// The subtree systemd delegates to each user's service manager.
bool IsUserManager(std::string_view segment) {
  return segment.starts_with("user@") && segment.ends_with(".service");
}

// The pod uid named by a pod segment ("pod<uid>" or "kubepods-...-pod<uid_underscored>.slice"),
// or "".
std::string PodUid(std::string_view segment) {
  std::string uid;
  if (IsKubepods(segment) && segment.ends_with(".slice")) {
    std::string_view name = segment.substr(0, segment.size() - std::string_view(".slice").size());
    size_t pos = name.rfind("-pod");
    if (pos == std::string_view::npos) return "";
    uid = std::string(name.substr(pos + 4));
    std::replace(uid.begin(), uid.end(), '_', '-');
  } else if (segment.starts_with("pod")) {
    uid = std::string(segment.substr(3));
  }
  return IsPodUid(uid) ? uid : "";
}

// A container runtime's scope segment: "<prefix><id><suffix>".
struct ScopeShape {
  std::string_view prefix;
  std::string_view suffix;
  bool suffix_optional;
  bool docker;
};

constexpr ScopeShape kScopeShapes[] = {
    {"docker-", ".scope", false, true},
    {"cri-containerd-", ".scope", false, false},
    {"crio-", ".scope", true, false},
    {"libpod-", ".scope", false, false},
};

// The container id of a runtime scope segment, with whether the runtime is Docker.
std::optional<std::pair<std::string, bool>> MatchScope(std::string_view segment) {
  for (const ScopeShape& shape : kScopeShapes) {
    if (!segment.starts_with(shape.prefix)) continue;
    std::string_view id = segment.substr(shape.prefix.size());
    if (id.ends_with(shape.suffix)) {
      id.remove_suffix(shape.suffix.size());
    } else if (!shape.suffix_optional) {
      continue;
    }
    if (IsContainerId(id)) return std::make_pair(std::string(id), shape.docker);
  }
  return std::nullopt;
}

// What one cgroup path says; see the header for the shapes.
ContainerInfo ParsePath(std::string_view path) {
  ContainerInfo info;
  bool in_kubepods = false;
  bool previous_is_pod = false;
  std::string_view previous;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (segment.empty()) continue;
    if (IsUserManager(segment)) return ContainerInfo();  // user-controlled names below
    std::string pod = in_kubepods ? PodUid(segment) : "";
    std::optional<std::pair<std::string, bool>> scope = MatchScope(segment);
    if (!pod.empty()) {
      info.pod_uid = pod;
    } else if (scope.has_value()) {
      std::tie(info.container_id, info.docker) = *scope;
    } else if (IsContainerId(segment) && (previous == "docker" || previous_is_pod)) {
      info.container_id = std::string(segment);
      info.docker = previous == "docker";
    }
    previous_is_pod = !pod.empty();
    in_kubepods = in_kubepods || IsKubepods(segment);
    previous = segment;
  }
  return info;
}

absl::Status Conflict(std::string_view what, std::string_view a, std::string_view b) {
  return absl::FailedPreconditionError(
      StrCat("cgroup lines name different ", what, "s: ", Quote(a), " and ", Quote(b)));
}

}  // namespace

absl::StatusOr<ContainerInfo> ParseContainerCgroups(std::string_view cgroup_file) {
  ContainerInfo result;
  while (!cgroup_file.empty()) {
    size_t eol = cgroup_file.find('\n');
    std::string_view line = cgroup_file.substr(0, eol);
    cgroup_file = eol == std::string_view::npos ? std::string_view() : cgroup_file.substr(eol + 1);
    if (line.empty()) continue;
    // "hierarchy-id:controller-list:path"; the path itself may contain ':'.
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      return absl::InvalidArgumentError(StrCat("malformed cgroup line ", Quote(line)));
    }
    ContainerInfo info = ParsePath(line.substr(second + 1));
    if (!info.container_id.empty()) {
      if (!result.container_id.empty() && result.container_id != info.container_id) {
        return Conflict("container", result.container_id, info.container_id);
      }
      result.container_id = info.container_id;
      result.docker = result.docker || info.docker;
    }
    if (!info.pod_uid.empty()) {
      if (!result.pod_uid.empty() && result.pod_uid != info.pod_uid) {
        return Conflict("pod", result.pod_uid, info.pod_uid);
      }
      result.pod_uid = info.pod_uid;
    }
  }
  return result;
}

absl::StatusOr<SelectorSet> ContainerAttestor::Attest(const ProcessInfo& process) const {
  absl::StatusOr<std::string> cgroup = proc_.ReadCgroup(process.pid);
  if (!cgroup.ok()) return cgroup.status();
  absl::StatusOr<ContainerInfo> info = ParseContainerCgroups(*cgroup);
  if (!info.ok()) return info.status();
  // Values are validated hex ids and pod uids, so they are valid selector values.
  SelectorSet out;
  if (!info->container_id.empty()) {
    out.push_back(Selector{"container", StrCat("id:", info->container_id)});
    if (info->docker) out.push_back(Selector{"docker", StrCat("id:", info->container_id)});
  }
  if (!info->pod_uid.empty()) out.push_back(Selector{"k8s", StrCat("pod-uid:", info->pod_uid)});
  return out;
}

}  // namespace spinel::agent
