#include "bench/support/issuer_world.h"

#include "common/clock.h"
#include "common/status_macros.h"
#include "server/config.h"
#include "server/zones/zone_reload.h"

namespace spinel::bench {

absl::StatusOr<std::unique_ptr<IssuerWorld>> IssuerWorld::Create(const std::string& zones_dir) {
  std::unique_ptr<IssuerWorld> world(new IssuerWorld());
  SPINEL_ASSIGN_OR_RETURN(world->control_, common::TrustDomain::Parse("control.spinel.bench"));
  server::ServerConfig config;
  config.trust_domain = world->control_;
  config.data_dir = world->dir_.path();
  config.zones_dir = zones_dir.empty() ? SourceDir() + "/trust-zones/zones" : zones_dir;
  SPINEL_ASSIGN_OR_RETURN(server::ZoneGeneration generation,
                          server::ReadZoneGeneration(config.zones_dir));
  std::vector<server::TrustDomainCaConfig> cas = server::CaConfigs(config, generation.set);
  world->zones_ = std::make_unique<server::ZoneState>(std::move(generation));
  SPINEL_ASSIGN_OR_RETURN(world->cas_, server::CaManager::Open(cas, world->dir_.File("keys"),
                                                               common::SystemClock::Get()));
  world->issuer_ = std::make_unique<server::Issuer>(*world->cas_, *world->zones_, world->control_,
                                                    common::SystemClock::Get());
  return world;
}

}  // namespace spinel::bench
