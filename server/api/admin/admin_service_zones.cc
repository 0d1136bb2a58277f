// Trust zones through the admin API (admin_service_impl.h): ListZones, GetZone and ReloadZones.
// A zone is described from one zone generation (the one in force when the call began), with
// its CA state (as GetLocalAuthorities) and the number of registration entries in its trust
// domain. ReloadZones runs the server's one reload path (AdminHooks::reload_zones, that is
// ZoneReloader::Reload) and answers with what changed and the zones now in force.
#include <chrono>

#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using common::ToGrpcStatus;

int64_t Seconds(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::seconds>(duration).count();
}

void AddRules(const zones::Zone& zone, spinel::v1::ZoneInfo* info) {
  for (const zones::Rule& rule : zone.rules) {
    spinel::v1::ZoneRule* out = info->add_rules();
    out->set_id(rule.id);
    out->set_text(rule.ToString());
    out->set_effect(rule.effect == zones::Effect::kDeny ? "deny" : "allow");
    out->set_approval_required(rule.approval_required);
  }
}

}  // namespace

absl::Status AdminServiceImpl::DescribeZone(const zones::ZoneSet& set, const zones::Zone& zone,
                                            spinel::v1::ZoneInfo* info) const {
  info->set_name(zone.name);
  info->set_trust_domain(zone.trust_domain.name());
  info->set_description(zone.description);
  info->set_x509_svid_ttl_default_seconds(Seconds(zone.x509_svid_ttl.default_ttl));
  info->set_x509_svid_ttl_max_seconds(Seconds(zone.x509_svid_ttl.max_ttl));
  info->set_jwt_svid_ttl_default_seconds(Seconds(zone.jwt_svid_ttl.default_ttl));
  info->set_jwt_svid_ttl_max_seconds(Seconds(zone.jwt_svid_ttl.max_ttl));
  info->set_wit_svid_ttl_default_seconds(Seconds(zone.wit_svid_ttl.default_ttl));
  info->set_wit_svid_ttl_max_seconds(Seconds(zone.wit_svid_ttl.max_ttl));
  info->set_ca_ttl_seconds(Seconds(zone.ca_ttl));
  for (const common::Selector& selector : zone.nodes) {
    spinel::v1::Selector* out = info->add_nodes();
    out->set_type(selector.type);
    out->set_value(selector.value);
  }
  for (const std::string& peer : set.PeersOf(zone.name)) info->add_peers(peer);
  AddRules(zone, info);
  absl::Status authorities = DescribeAuthorities(zone.trust_domain, info->mutable_authorities());
  if (absl::IsNotFound(authorities)) {
    // Not expected (a reload creates the CAs before the zone is in force); shown as "none".
    info->mutable_authorities()->set_trust_domain(zone.trust_domain.name());
  } else if (!authorities.ok()) {
    return authorities;
  }
  SPINEL_ASSIGN_OR_RETURN(
      int64_t entries, deps_.entries.CountEntries(EntryFilter{.zone = zone.trust_domain.name()}));
  info->set_entries(entries);
  return absl::OkStatus();
}

grpc::Status AdminServiceImpl::ListZones(grpc::ServerContext* /*context*/,
                                         const spinel::v1::Empty* /*request*/,
                                         spinel::v1::ListZonesResponse* response) {
  std::shared_ptr<const zones::ZoneSet> set = deps_.zones.Get();
  for (const zones::Zone& zone : set->zones()) {
    absl::Status described = DescribeZone(*set, zone, response->add_zones());
    if (!described.ok()) return ToGrpcStatus(described);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetZone(grpc::ServerContext* /*context*/,
                                       const spinel::v1::ZoneNameRequest* request,
                                       spinel::v1::ZoneInfo* response) {
  if (request->name().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("name: a zone name is required"));
  }
  std::shared_ptr<const zones::ZoneSet> set = deps_.zones.Get();
  const zones::Zone* zone = set->Find(request->name());
  if (zone == nullptr) {
    std::string known;
    for (const zones::Zone& z : set->zones()) known += (known.empty() ? "" : ", ") + z.name;
    return ToGrpcStatus(absl::NotFoundError(
        StrCat("name: no zone named ", Quote(request->name()), " (zones: ", known, ")")));
  }
  return ToGrpcStatus(DescribeZone(*set, *zone, response));
}

grpc::Status AdminServiceImpl::ReloadZones(grpc::ServerContext* /*context*/,
                                           const spinel::v1::Empty* /*request*/,
                                           spinel::v1::ReloadZonesResponse* response) {
  if (!hooks_.reload_zones) {
    return ToGrpcStatus(absl::UnimplementedError("this server cannot reload its zones"));
  }
  absl::StatusOr<ZoneChanges> changes = hooks_.reload_zones();
  if (!changes.ok()) {
    LOG_WARN("zone reload (admin API) refused; the old zones stay in force",
             {{"error", std::string(changes.status().message())}});
    return ToGrpcStatus(changes.status());
  }
  for (const std::string& name : changes->added) response->add_added(name);
  for (const std::string& name : changes->removed) response->add_removed(name);
  for (const std::string& name : changes->changed) response->add_changed(name);
  std::shared_ptr<const zones::ZoneSet> set = deps_.zones.Get();
  for (const zones::Zone& zone : set->zones()) {
    absl::Status described = DescribeZone(*set, zone, response->add_zones());
    if (!described.ok()) return ToGrpcStatus(described);
  }
  return grpc::Status::OK;
}

}  // namespace spinel::server
