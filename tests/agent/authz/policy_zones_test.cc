// IdentityCache's policy part: the pushed document's zone_files become the snapshot's ZoneSet
// (the Authorizer's rules), a bad document is refused whole, and an unchanged document is not
// parsed again.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/agent/authz/authz_world.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuthzWorld;
using spinel::testing::ShippedPolicyDocument;

absl::Status PushPolicy(IdentityCache& cache, const std::string& policy) {
  v1::SyncUpdate update;  // a delta carrying only the policy
  update.set_policy(policy);
  return cache.ApplySyncUpdate(update);
}

TEST_CASE("policy zones: zone_files build the ZoneSet with the shipped rules and peers") {
  AuthzWorld world;
  auto snapshot = world.cache.Snapshot();
  REQUIRE(snapshot->zones != nullptr);
  CHECK(snapshot->zones->zones().size() == 4);
  const zones::Zone* tools = snapshot->zones->Find("tool-execution");
  REQUIRE(tools != nullptr);
  CHECK(tools->trust_domain.name() == "tools.ai.example.org");
  CHECK(!tools->rules.empty());
  CHECK(snapshot->zones->ArePeers("inference", "tool-execution"));
  CHECK(!snapshot->zones->ArePeers("training", "tool-execution"));
}

TEST_CASE("policy zones: the same document again keeps the same ZoneSet object") {
  AuthzWorld world;
  auto before = world.cache.Snapshot()->zones;
  REQUIRE(PushPolicy(world.cache, ShippedPolicyDocument()).ok());
  CHECK(world.cache.Snapshot()->zones.get() == before.get());
}

TEST_CASE("policy zones: an invalid zone file is refused whole; the zones in force stay") {
  AuthzWorld world;
  auto before = world.cache.Snapshot();
  nlohmann::json doc = nlohmann::json::parse(ShippedPolicyDocument());
  std::string& text = doc["zone_files"][0]["text"].get_ref<std::string&>();
  text += "\nunknown_key: 1\n";
  absl::Status refused = PushPolicy(world.cache, doc.dump());
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(refused.message()).find("unknown_key") != std::string::npos);
  CHECK(world.cache.Snapshot()->generation == before->generation);
  CHECK(world.cache.Snapshot()->zones.get() == before->zones.get());

  for (const char* bad : {R"({"zones":[],"zone_files":{}})",
                          R"({"zones":[],"zone_files":[{"file":"x.yaml"}]})", "not json"}) {
    CAPTURE(bad);
    CHECK(PushPolicy(world.cache, bad).code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(world.cache.Snapshot()->zones.get() == before->zones.get());
}

TEST_CASE("policy zones: a document without zone_files (an older server) leaves no zones") {
  AuthzWorld world;
  REQUIRE(PushPolicy(world.cache, ShippedPolicyDocument(/*with_zone_files=*/false)).ok());
  CHECK(world.cache.Snapshot()->zones == nullptr);
  CHECK(world.cache.Snapshot()->peers.size() == 4);
}

}  // namespace
}  // namespace spinel::agent
