#include "server/ca/zone_authority.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <filesystem>

#include "common/csr.h"
#include "common/x509_ca.h"
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
  char tmpl[] = "/tmp/spinel-ca-XXXXXX";
  return mkdtemp(tmpl);
}

ZoneAuthorityOptions Options() {
  ZoneAuthorityOptions options;
  options.trust_domain = *TrustDomain::Parse("inference.ai.example.org");
  options.ca_ttl = 24h;
  return options;
}

std::vector<SlotState> X509States(const AuthoritySnapshot& s) {
  std::vector<SlotState> out;
  for (const auto& a : s.x509) out.push_back(a.state);
  return out;
}

std::vector<SlotState> JwtStates(const AuthoritySnapshot& s) {
  std::vector<SlotState> out;
  for (const auto& a : s.jwt) out.push_back(a.state);
  return out;
}

using V = std::vector<SlotState>;
constexpr SlotState P = SlotState::kPrepared, A = SlotState::kActive, O = SlotState::kOld;

}  // namespace

TEST_CASE("a fresh zone authority has one active CA and JWT key, persisted with mode 0600") {
  FakeClock clock;
  std::string dir = TempDir();
  auto authority = ZoneAuthority::Open(Options(), dir, clock);
  REQUIRE(authority.ok());
  auto snap = (*authority)->Snapshot();
  CHECK(X509States(*snap) == V{A});
  CHECK(JwtStates(*snap) == V{A});
  CHECK(snap->sequence == 1);
  REQUIRE(snap->x509_signer != nullptr);
  REQUIRE(snap->active_jwt != nullptr);
  CHECK(snap->x509[0].certificate.NotAfter() - clock.Now() <= 24h);
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    struct stat st {};
    REQUIRE(stat(file.path().c_str(), &st) == 0);
    CAPTURE(file.path().string());
    CHECK((st.st_mode & 0777) == 0600);
  }
  // The active signer mints SVIDs that chain to the bundle's anchor.
  auto key = PrivateKey::Generate();
  auto svid = snap->x509_signer->Sign(
      *key->Public(), *SpiffeId::Parse("spiffe://inference.ai.example.org/w"), clock.Now(), 1h);
  REQUIRE(svid.ok());
  CHECK(snap->X509TrustAnchors().size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("rotation goes prepared -> active -> old -> pruned on the clock, bumping the sequence") {
  FakeClock clock;
  std::string dir = TempDir();
  auto authority = *ZoneAuthority::Open(Options(), dir, clock);
  const std::string first_id = authority->Snapshot()->x509[0].id;

  clock.Advance(11h);
  CHECK_FALSE(*authority->Rotate());
  clock.Advance(2h);  // past half of 24h: the next authority is prepared and published
  CHECK(*authority->Rotate());
  auto snap = authority->Snapshot();
  CHECK(X509States(*snap) == V{A, P});
  CHECK(JwtStates(*snap) == V{A, P});
  CHECK(snap->sequence == 2);
  CHECK(snap->X509TrustAnchors().size() == 2);
  CHECK(snap->x509_signer->ca_certificate().SubjectKeyIdHex() == first_id);

  clock.Advance(8h);  // 21h: past 5/6 of the first CA's life: the prepared one takes over
  CHECK(*authority->Rotate());
  snap = authority->Snapshot();
  CHECK(X509States(*snap) == V{O, A});
  CHECK(snap->x509_signer->ca_certificate().SubjectKeyIdHex() != first_id);
  CHECK(snap->X509TrustAnchors().size() == 2);  // the old CA stays while its SVIDs may live

  clock.Advance(3h + 30min);  // 24.5h: the old CA has expired, so it leaves the bundle
  CHECK(*authority->Rotate());
  snap = authority->Snapshot();
  CHECK(X509States(*snap) == V{A});
  CHECK(JwtStates(*snap) == V{A});
  CHECK(snap->sequence == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("forced prepare and activate, and restart keeps keys, phases and sequence") {
  FakeClock clock;
  std::string dir = TempDir();
  std::string active_id, prepared_kid;
  {
    auto authority = *ZoneAuthority::Open(Options(), dir, clock);
    CHECK(authority->Activate().code() == absl::StatusCode::kFailedPrecondition);
    REQUIRE(authority->Prepare().ok());
    CHECK(authority->Prepare().code() == absl::StatusCode::kFailedPrecondition);
    REQUIRE(authority->Activate().ok());
    auto snap = authority->Snapshot();
    CHECK(X509States(*snap) == V{O, A});
    active_id = snap->x509[1].id;
    prepared_kid = snap->active_jwt->kid;
    CHECK(snap->sequence == 3);
  }
  auto reopened = ZoneAuthority::Open(Options(), dir, clock);
  REQUIRE(reopened.ok());
  auto snap = (*reopened)->Snapshot();
  CHECK(X509States(*snap) == V{O, A});
  CHECK(snap->x509[1].id == active_id);
  CHECK(snap->active_jwt->kid == prepared_kid);
  CHECK(snap->sequence == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a server that was down past every expiry starts with a fresh active authority") {
  FakeClock clock;
  std::string dir = TempDir();
  { REQUIRE(ZoneAuthority::Open(Options(), dir, clock).ok()); }
  clock.Advance(72h);
  auto authority = ZoneAuthority::Open(Options(), dir, clock);
  REQUIRE(authority.ok());
  auto snap = (*authority)->Snapshot();
  CHECK(X509States(*snap) == V{A});
  CHECK(snap->x509[0].certificate.NotAfter() > clock.Now());
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "with an upstream authority the zone CA is an intermediate and the bundle holds the root") {
  FakeClock clock;
  std::string dir = TempDir();
  auto root_key = PrivateKey::Generate();
  auto td = *TrustDomain::Parse("inference.ai.example.org");
  auto root = spinel::common::CreateSelfSignedCa(td, *root_key, clock.Now(), 24h * 30);
  REQUIRE(root.ok());
  auto options = Options();
  options.upstream =
      spinel::server::UpstreamCa{*root, std::make_shared<const PrivateKey>(root_key->Clone())};
  auto authority = ZoneAuthority::Open(options, dir, clock);
  REQUIRE(authority.ok());
  auto snap = (*authority)->Snapshot();
  REQUIRE(snap->X509TrustAnchors().size() == 1);
  CHECK(snap->X509TrustAnchors()[0].Equals(*root));
  REQUIRE(snap->chain_tail.size() == 1);
  CHECK(snap->chain_tail[0].Equals(snap->x509[0].certificate));
  // Restart reloads the upstream root and chain from the journal.
  auto reopened = ZoneAuthority::Open(options, dir, clock);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Snapshot()->X509TrustAnchors()[0].Equals(*root));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a damaged journal is refused, not silently replaced") {
  FakeClock clock;
  std::string dir = TempDir();
  std::string id;
  { id = (*ZoneAuthority::Open(Options(), dir, clock))->Snapshot()->x509[0].id; }
  std::filesystem::remove(dir + "/x509-" + id + ".key");
  auto reopened = ZoneAuthority::Open(Options(), dir, clock);
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
  std::filesystem::remove_all(dir);
}
