// WIT-SVID signing keys of a zone authority (server/ca/zone_authority.h): their own key pairs,
// kids unique across the bundle, rotated in phases with the other keys, persisted.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/bundle.h"
#include "common/file_util.h"
#include "common/wit_svid.h"
#include "server/ca/zone_authority.h"
#include "tests/fakes/fake_clock.h"

using namespace std::chrono_literals;
using spinel::common::PrivateKey;
using spinel::common::SpiffeId;
using spinel::common::TrustDomain;
using spinel::server::AuthoritySnapshot;
using spinel::server::SlotState;
using spinel::server::ZoneAuthority;
using spinel::server::ZoneAuthorityOptions;
using spinel::testing::FakeClock;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/spinel-ca-wit-XXXXXX";
  return mkdtemp(tmpl);
}

ZoneAuthorityOptions Options() {
  ZoneAuthorityOptions options;
  options.trust_domain = *TrustDomain::Parse("inference.ai.example.org");
  options.ca_ttl = 24h;
  return options;
}

std::vector<SlotState> WitStates(const AuthoritySnapshot& s) {
  std::vector<SlotState> out;
  for (const auto& a : s.wit) out.push_back(a.state);
  return out;
}

// Every kid of the snapshot (JWT and WIT) is distinct.
bool KidsUnique(const AuthoritySnapshot& s) {
  std::set<std::string> kids;
  size_t count = 0;
  for (const auto& a : s.jwt) {
    kids.insert(a.kid);
    ++count;
  }
  for (const auto& a : s.wit) {
    kids.insert(a.kid);
    ++count;
  }
  return kids.size() == count;
}

using V = std::vector<SlotState>;
constexpr SlotState P = SlotState::kPrepared, A = SlotState::kActive, O = SlotState::kOld;

}  // namespace

TEST_CASE("a zone has a WIT key of its own, published as use wit-svid, that mints valid WITs") {
  FakeClock clock;
  std::string dir = TempDir();
  auto authority = *ZoneAuthority::Open(Options(), dir, clock);
  auto snap = authority->Snapshot();
  CHECK(WitStates(*snap) == V{A});
  REQUIRE(snap->active_wit != nullptr);
  REQUIRE(snap->wit_signer != nullptr);
  REQUIRE(snap->active_jwt != nullptr);
  CHECK(snap->active_wit->kid != snap->active_jwt->kid);
  CHECK_FALSE(snap->active_wit->public_key->Equals(*snap->active_jwt->public_key));
  CHECK(snap->wit_signer->kid() == snap->active_wit->kid);

  spinel::common::Bundle bundle = snap->ToBundle();
  REQUIRE(bundle.wit_authorities.size() == 1);
  CHECK(bundle.wit_authorities.count(snap->active_wit->kid) == 1);
  CHECK(bundle.jwt_authorities.count(snap->active_wit->kid) == 0);
  nlohmann::json jwks = *bundle.ToJwks();
  int wit_keys = 0;
  for (const auto& key : jwks["keys"]) {
    if (key.value("use", "") == "wit-svid") {
      ++wit_keys;
      CHECK(key["kid"] == snap->active_wit->kid);
    }
  }
  CHECK(wit_keys == 1);

  auto workload = *PrivateKey::Generate();
  spinel::common::ConfirmationKey cnf{*workload.Public(), spinel::common::JwsAlgorithm::kEs256};
  const auto now = spinel::common::FromUnixSeconds(spinel::common::ToUnixSeconds(clock.Now()));
  const SpiffeId id = *SpiffeId::Parse("spiffe://inference.ai.example.org/w");
  auto token = snap->wit_signer->Mint({id, now, now + 30min}, cnf);
  REQUIRE(token.ok());
  spinel::common::BundleSet set;
  REQUIRE(set.Put(bundle).ok());
  auto validated = spinel::common::ValidateWitSvid(*token, set, now);
  REQUIRE(validated.ok());
  CHECK(validated->subject == id);
  CHECK(validated->kid == snap->active_wit->kid);
  std::filesystem::remove_all(dir);
}

TEST_CASE("WIT keys rotate prepared -> active -> old -> pruned with the zone's other keys") {
  FakeClock clock;
  std::string dir = TempDir();
  auto authority = *ZoneAuthority::Open(Options(), dir, clock);
  const std::string first = authority->Snapshot()->active_wit->kid;
  clock.Advance(13h);  // past half of 24h: a prepared WIT key is published
  CHECK(*authority->Rotate());
  auto snap = authority->Snapshot();
  CHECK(WitStates(*snap) == V{A, P});
  CHECK(snap->active_wit->kid == first);
  CHECK(snap->ToBundle().wit_authorities.size() == 2);
  CHECK(KidsUnique(*snap));
  clock.Advance(8h);  // 21h: the prepared key signs from now on
  CHECK(*authority->Rotate());
  snap = authority->Snapshot();
  CHECK(WitStates(*snap) == V{O, A});
  CHECK(snap->active_wit->kid != first);
  CHECK(snap->wit_signer->kid() == snap->active_wit->kid);
  clock.Advance(3h + 30min);  // the old key has expired: it leaves the bundle
  CHECK(*authority->Rotate());
  snap = authority->Snapshot();
  CHECK(WitStates(*snap) == V{A});
  CHECK(snap->ToBundle().wit_authorities.count(first) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("operator prepare/activate moves the WIT key too, and a restart keeps it") {
  FakeClock clock;
  std::string dir = TempDir();
  std::string active_kid;
  std::string active_spki;
  {
    auto authority = *ZoneAuthority::Open(Options(), dir, clock);
    REQUIRE(authority->Prepare().ok());
    CHECK(WitStates(*authority->Snapshot()) == V{A, P});
    REQUIRE(authority->Activate().ok());
    auto snap = authority->Snapshot();
    CHECK(WitStates(*snap) == V{O, A});
    CHECK(KidsUnique(*snap));
    active_kid = snap->active_wit->kid;
    active_spki = *snap->active_wit->public_key->ToSpkiDer();
  }
  const std::string key_file = dir + "/wit-" + active_kid + ".key";
  REQUIRE(spinel::common::FileExists(key_file));
  struct stat st {};
  REQUIRE(stat(key_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto reopened = ZoneAuthority::Open(Options(), dir, clock);
  REQUIRE(reopened.ok());
  auto snap = (*reopened)->Snapshot();
  CHECK(WitStates(*snap) == V{O, A});
  CHECK(snap->active_wit->kid == active_kid);
  CHECK(*snap->active_wit->public_key->ToSpkiDer() == active_spki);
  CHECK(snap->wit_signer->kid() == active_kid);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a journal written before WIT keys existed loads and gains an active WIT key") {
  FakeClock clock;
  std::string dir = TempDir();
  std::string jwt_kid;
  { jwt_kid = (*ZoneAuthority::Open(Options(), dir, clock))->Snapshot()->active_jwt->kid; }
  const std::string state_path = dir + "/state.json";
  nlohmann::json state = nlohmann::json::parse(*spinel::common::ReadFile(state_path));
  for (const auto& slot : state["wit"]) {
    std::filesystem::remove(dir + "/wit-" + slot["kid"].get<std::string>() + ".key");
  }
  state.erase("wit");
  REQUIRE(spinel::common::WriteFileAtomic(state_path, state.dump()).ok());
  auto reopened = ZoneAuthority::Open(Options(), dir, clock);
  REQUIRE(reopened.ok());
  auto snap = (*reopened)->Snapshot();
  CHECK(snap->active_jwt->kid == jwt_kid);
  CHECK(WitStates(*snap) == V{A});
  CHECK(KidsUnique(*snap));
  std::filesystem::remove_all(dir);
}
