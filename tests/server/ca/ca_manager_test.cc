#include "server/ca/ca_manager.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>

#include "common/file_util.h"
#include "common/x509_ca.h"
#include "tests/fakes/fake_clock.h"

using namespace std::chrono_literals;
using spinel::common::PrivateKey;
using spinel::common::TrustDomain;
using spinel::server::CaManager;
using spinel::server::TrustDomainCaConfig;
using spinel::testing::FakeClock;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/spinel-cam-XXXXXX";
  return mkdtemp(tmpl);
}

// Writes a root CA for `td` into dir/<name>.pem and .key.
void WriteRoot(const std::string& dir, const std::string& name, const std::string& td,
               const FakeClock& clock) {
  auto key = PrivateKey::Generate();
  auto cert = spinel::common::CreateSelfSignedCa(*TrustDomain::Parse(td), *key, clock.Now(), 720h);
  REQUIRE(spinel::common::WriteFileAtomic(dir + "/" + name + ".pem", cert->ToPem()).ok());
  REQUIRE(
      spinel::common::WriteFileAtomic(dir + "/" + name + ".key", key->ToPkcs8Pem()->view()).ok());
}

TrustDomainCaConfig Config(const std::string& td, const std::string& dir = "",
                           const std::string& root = "") {
  TrustDomainCaConfig config{*TrustDomain::Parse(td), 24h, "", ""};
  if (!root.empty()) {
    config.upstream_cert_path = dir + "/" + root + ".pem";
    config.upstream_key_path = dir + "/" + root + ".key";
  }
  return config;
}

}  // namespace

TEST_CASE("one authority set per trust domain, each with its own keys") {
  FakeClock clock;
  std::string dir = TempDir();
  auto manager = CaManager::Open({Config("control.example.org"), Config("training.example.org"),
                                  Config("inference.example.org")},
                                 dir + "/keys", clock);
  REQUIRE(manager.ok());
  CHECK((*manager)->TrustDomains().size() == 3);
  auto a = (*manager)->Snapshot(*TrustDomain::Parse("training.example.org"));
  auto b = (*manager)->Snapshot(*TrustDomain::Parse("inference.example.org"));
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(a->X509TrustAnchors()[0].Equals(b->X509TrustAnchors()[0]));
  CHECK(a->active_jwt->kid != b->active_jwt->kid);
  CHECK((*manager)->Snapshot(*TrustDomain::Parse("other.example.org")) == nullptr);
  CHECK((*manager)->AddTrustDomain(Config("training.example.org")).code() ==
        absl::StatusCode::kAlreadyExists);
  std::filesystem::remove_all(dir);
}

TEST_CASE("one upstream root serving two zones is refused") {
  FakeClock clock;
  std::string dir = TempDir();
  WriteRoot(dir, "root-a", "training.example.org", clock);
  WriteRoot(dir, "root-b", "inference.example.org", clock);
  auto ok = CaManager::Open({Config("training.example.org", dir, "root-a"),
                             Config("inference.example.org", dir, "root-b")},
                            dir + "/keys-ok", clock);
  REQUIRE(ok.ok());
  auto shared = CaManager::Open({Config("training.example.org", dir, "root-a"),
                                 Config("inference.example.org", dir, "root-a")},
                                dir + "/keys-shared", clock);
  REQUIRE_FALSE(shared.ok());
  CHECK(std::string(shared.status().message()).find("one root must never serve two zones") !=
        std::string::npos);
  auto mismatched = TrustDomainCaConfig{*TrustDomain::Parse("retrieval.example.org"), 24h,
                                        dir + "/root-a.pem", dir + "/root-b.key"};
  auto bad = CaManager::Open({mismatched}, dir + "/keys-bad", clock);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("does not belong") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("forced rotation notifies bundle listeners") {
  FakeClock clock;
  std::string dir = TempDir();
  auto manager = *CaManager::Open({Config("training.example.org")}, dir, clock);
  std::atomic<int> notified{0};
  manager->AddBundleListener([&](const TrustDomain&) { ++notified; });
  auto td = *TrustDomain::Parse("training.example.org");
  REQUIRE(manager->Prepare(td).ok());
  REQUIRE(manager->Activate(td).ok());
  CHECK(notified == 2);
  clock.Advance(13h);
  manager->RotateAll();
  CHECK(notified == 3);
  CHECK(manager->Prepare(*TrustDomain::Parse("nope.example.org")).code() ==
        absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST_CASE("AddTrustDomains adds all of a batch or none of it") {
  FakeClock clock;
  std::string dir = TempDir();
  WriteRoot(dir, "root-a", "training.example.org", clock);
  auto manager = *CaManager::Open({Config("control.example.org")}, dir + "/keys", clock);
  // The second domain reuses the first one's root: refused, and the first is not added either.
  absl::Status shared = manager->AddTrustDomains({Config("training.example.org", dir, "root-a"),
                                                  Config("inference.example.org", dir, "root-a")});
  CHECK(shared.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(shared.message()).find("one root must never serve two zones") !=
        std::string::npos);
  CHECK(manager->Find(*TrustDomain::Parse("training.example.org")) == nullptr);
  CHECK(manager->TrustDomains().size() == 1);
  // A domain listed twice in one batch, or one already present, is refused the same way.
  CHECK(manager->AddTrustDomains({Config("a.example.org"), Config("a.example.org")}).code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(manager->AddTrustDomains({Config("b.example.org"), Config("control.example.org")}).code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(manager->TrustDomains().size() == 1);
  // A valid batch: both are added, and the root keeps serving only the first.
  REQUIRE(manager
              ->AddTrustDomains(
                  {Config("training.example.org", dir, "root-a"), Config("inference.example.org")})
              .ok());
  CHECK(manager->TrustDomains().size() == 3);
  CHECK(manager->AddTrustDomain(Config("retrieval.example.org", dir, "root-a")).code() ==
        absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}
