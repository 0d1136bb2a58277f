// Registration entries through the admin API (admin_service_impl.h).
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/api/proto_convert.h"

namespace spinel::server {
namespace {

using common::StrCat;
using common::ToGrpcStatus;

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

void LogEntry(std::string_view what, const RegistrationEntry& entry) {
  LOG_INFO(what, {{"entry_id", entry.id},
                  {"spiffe_id", entry.spiffe_id.ToString()},
                  {"parent_id", entry.parent_id.ToString()}});
}

}  // namespace

void AdminServiceImpl::CreateOne(const spinel::v1::Entry& proto, const std::string& field,
                                 spinel::v1::EntryResult* result) {
  absl::StatusOr<RegistrationEntry> created = [&]() -> absl::StatusOr<RegistrationEntry> {
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, ParseEntryField(field, proto));
    return deps_.registry.Create(std::move(entry));
  }();
  if (!created.ok()) {
    *result->mutable_entry() = proto;
    result->set_error_code(static_cast<int>(created.status().code()));
    result->set_error(std::string(created.status().message()));
    return;
  }
  *result->mutable_entry() = EntryToProto(*created);
  LogEntry("entry created", *created);
}

grpc::Status AdminServiceImpl::CreateEntries(grpc::ServerContext* /*context*/,
                                             const spinel::v1::CreateEntriesRequest* request,
                                             spinel::v1::CreateEntriesResponse* response) {
  if (request->entries_size() == 0) return InvalidArgument("entries: no entry given");
  if (request->entries_size() > kMaxEntriesPerBatch) {
    return InvalidArgument(StrCat("entries: at most ", kMaxEntriesPerBatch, " per request, got ",
                                  request->entries_size()));
  }
  // Each result is positionally bound to its request entry, so messages name fields only
  // ("spiffe_id: ...", not "entries[3].spiffe_id: ...").
  for (const spinel::v1::Entry& entry : request->entries()) {
    CreateOne(entry, "", response->add_results());
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::UpdateEntry(grpc::ServerContext* /*context*/,
                                           const spinel::v1::UpdateEntryRequest* request,
                                           spinel::v1::Entry* response) {
  if (request->entry().id().empty()) return InvalidArgument("entry.id: the entry id is required");
  absl::StatusOr<RegistrationEntry> updated = [&]() -> absl::StatusOr<RegistrationEntry> {
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry, ParseEntryField("entry", request->entry()));
    return deps_.registry.Update(std::move(entry));
  }();
  if (!updated.ok()) return ToGrpcStatus(updated.status());
  *response = EntryToProto(*updated);
  LogEntry("entry updated", *updated);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::DeleteEntry(grpc::ServerContext* /*context*/,
                                           const spinel::v1::EntryIdRequest* request,
                                           spinel::v1::Empty* /*response*/) {
  if (request->id().empty()) return InvalidArgument("id: the entry id is required");
  absl::StatusOr<RegistrationEntry> deleted = deps_.registry.Delete(request->id());
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  LogEntry("entry deleted", *deleted);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetEntry(grpc::ServerContext* /*context*/,
                                        const spinel::v1::EntryIdRequest* request,
                                        spinel::v1::Entry* response) {
  if (request->id().empty()) return InvalidArgument("id: the entry id is required");
  absl::StatusOr<RegistrationEntry> entry = deps_.entries.GetEntry(request->id());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  *response = EntryToProto(*entry);
  return grpc::Status::OK;
}

absl::StatusOr<EntryFilter> AdminServiceImpl::FilterFromRequest(
    const spinel::v1::ListEntriesRequest& request) {
  EntryFilter filter;
  if (!request.by_spiffe_id().empty()) {
    SPINEL_ASSIGN_OR_RETURN(filter.spiffe_id, ParseIdField("by_spiffe_id", request.by_spiffe_id()));
  }
  if (!request.by_parent_id().empty()) {
    SPINEL_ASSIGN_OR_RETURN(filter.parent_id, ParseIdField("by_parent_id", request.by_parent_id()));
  }
  if (!request.by_zone().empty()) {
    // A zone name ("inference") or a trust domain name (what entries store as their zone).
    const zones::Zone* zone = deps_.zones.Get()->Find(request.by_zone());
    if (zone != nullptr) {
      filter.zone = zone->trust_domain.name();
    } else {
      SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                              ParseTrustDomainField("by_zone", request.by_zone()));
      filter.zone = td.name();
    }
  }
  return filter;
}

grpc::Status AdminServiceImpl::ListEntries(grpc::ServerContext* /*context*/,
                                           const spinel::v1::ListEntriesRequest* request,
                                           spinel::v1::ListEntriesResponse* response) {
  absl::StatusOr<EntryFilter> filter = FilterFromRequest(*request);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<EntryPage> page = deps_.entries.ListEntries(*filter, PageRequest{});
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const RegistrationEntry& entry : page->entries) {
    *response->add_entries() = EntryToProto(entry);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::CountEntries(grpc::ServerContext* /*context*/,
                                            const spinel::v1::ListEntriesRequest* request,
                                            spinel::v1::CountResponse* response) {
  absl::StatusOr<EntryFilter> filter = FilterFromRequest(*request);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<int64_t> count = deps_.entries.CountEntries(*filter);
  if (!count.ok()) return ToGrpcStatus(count.status());
  response->set_count(*count);
  return grpc::Status::OK;
}

}  // namespace spinel::server
