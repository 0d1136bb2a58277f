// ServerSvid: the server's own X509-SVID (spiffe://<control-td>/spinel/server), presented on
// the agent API. It is written to <data_dir>/server-svid.pem (chain) and server-svid.key
// (mode 0600), where gRPC's file-watching certificate provider picks it up, and renewed once
// half its lifetime has passed (or as soon as the control CA that signed it is no longer
// active). Thread-safe.
//
// The same class issues other SVIDs the server presents itself, e.g. a zone's bundle endpoint
// SVID (server/federation/bundle_endpoint.h): `file_stem` names the files
// (<data_dir>/<file_stem>.pem and .key).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "server/issuance/issuer.h"

namespace spinel::server {

class ServerSvid {
 public:
  ServerSvid(Issuer& issuer, common::SpiffeId id, common::Duration ttl, std::string data_dir,
             const common::Clock& clock, std::string file_stem = "server-svid")
      : issuer_(issuer),
        id_(std::move(id)),
        ttl_(ttl),
        data_dir_(std::move(data_dir)),
        clock_(clock),
        file_stem_(std::move(file_stem)) {}

  // Issues and writes a fresh SVID.
  absl::Status Renew();
  // Renews when half the lifetime has passed; returns whether it did.
  absl::StatusOr<bool> RenewIfDue();

  std::string cert_path() const { return data_dir_ + "/" + file_stem_ + ".pem"; }
  std::string key_path() const { return data_dir_ + "/" + file_stem_ + ".key"; }

 private:
  Issuer& issuer_;
  const common::SpiffeId id_;
  const common::Duration ttl_;
  const std::string data_dir_;
  const common::Clock& clock_;
  const std::string file_stem_;
  common::Mutex mutex_;
  common::TimePoint issued_at_ ABSL_GUARDED_BY(mutex_);
  common::TimePoint expires_at_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
