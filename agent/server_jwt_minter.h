// ServerJwtMinter: the production JwtMinter; asks the server's agent API to mint.
#pragma once

#include "agent/jwt_minter.h"
#include "agent/server_client.h"

namespace spinel::agent {

class ServerJwtMinter final : public JwtMinter {
 public:
  explicit ServerJwtMinter(ServerClient& client, const common::Clock& clock)
      : client_(client), clock_(clock) {}

  absl::StatusOr<MintedJwtSvid> Mint(const CachedEntry& entry,
                                     const std::vector<std::string>& audience) override {
    const common::TimePoint now = clock_.Now();
    absl::StatusOr<spinel::v1::MintJwtSvidResponse> minted =
        client_.MintJwtSvid(entry.id, audience);
    if (!minted.ok()) return minted.status();
    return MintedJwtSvid{minted->token(), now, common::FromUnixSeconds(minted->expires_at())};
  }

 private:
  ServerClient& client_;
  const common::Clock& clock_;
};

}  // namespace spinel::agent
