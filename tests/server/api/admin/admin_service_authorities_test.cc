// The admin service's bundles, operator-minted SVIDs and forced rotation, over real components
// and a real gRPC channel (admin_harness.h).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "common/bundle.h"
#include "common/csr.h"
#include "common/jwt_svid.h"
#include "common/keys.h"
#include "common/x509_svid_validator.h"
#include "tests/server/api/admin/admin_harness.h"

using spinel::common::Bundle;
using spinel::common::BundleSet;
using spinel::common::PrivateKey;
using spinel::common::SpiffeId;
using spinel::common::TrustDomain;
using spinel::server::testing::AdminHarness;
using spinel::server::testing::kControlTd;
using spinel::server::testing::kInferenceId;
using spinel::server::testing::kToolsId;
using Stub = spinel::v1::AdminService::Stub;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Bundle GetBundle(AdminHarness& h, const std::string& td) {
  spinel::v1::TrustDomainRequest request;
  request.set_trust_domain(td);
  spinel::v1::Bundle proto;
  REQUIRE(h.Call(&Stub::GetBundle, request, &proto).ok());
  auto parsed = Bundle::Parse(*TrustDomain::Parse(td), proto.jwks());
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  return *parsed;
}

spinel::v1::MintX509SvidRequest MintRequest(const std::string& id, const PrivateKey& key) {
  spinel::v1::MintX509SvidRequest request;
  request.set_spiffe_id(id);
  auto csr = spinel::common::CreateCsrDer(key, *SpiffeId::Parse(id));
  REQUIRE(csr.ok());
  request.set_csr(*csr);
  return request;
}

}  // namespace

TEST_CASE("admin: bundles of the control plane and every zone") {
  AdminHarness h;
  spinel::v1::ListBundlesResponse list;
  REQUIRE(h.Call(&Stub::ListBundles, spinel::v1::Empty(), &list).ok());
  CHECK(list.bundles_size() == 5);  // control + the four shipped zones
  Bundle inference = GetBundle(h, "inference.ai.example.org");
  CHECK(inference.x509_authorities.size() == 1);
  CHECK(inference.jwt_authorities.size() == 1);

  spinel::v1::TrustDomainRequest request;
  spinel::v1::Bundle proto;
  request.set_trust_domain("unknown.example.org");
  CHECK(h.Call(&Stub::GetBundle, request, &proto).error_code() == grpc::StatusCode::NOT_FOUND);
  request.set_trust_domain("spiffe://inference.ai.example.org/x");
  grpc::Status status = h.Call(&Stub::GetBundle, request, &proto);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "trust_domain"));
}

TEST_CASE("admin: an operator-minted X509-SVID verifies against the returned bundle") {
  AdminHarness h;
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  spinel::v1::MintX509SvidRequest request = MintRequest(kInferenceId, *key);
  request.set_ttl_seconds(600);
  request.add_dns_names("model.example.org");
  spinel::v1::MintX509SvidResponse response;
  grpc::Status status = h.Call(&Stub::MintX509Svid, request, &response);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  REQUIRE(response.certificate_chain_size() >= 1);

  auto anchors = spinel::common::Certificate::ParseDerChain(response.bundle());
  REQUIRE(anchors.ok());
  BundleSet bundles;
  Bundle bundle;
  bundle.trust_domain = *TrustDomain::Parse("inference.ai.example.org");
  bundle.x509_authorities = *anchors;
  REQUIRE(bundles.Put(bundle).ok());
  std::string chain;
  for (const std::string& der : response.certificate_chain()) chain += der;
  auto verified = spinel::common::VerifyX509SvidDer(chain, bundles, h.fixture.clock.Now());
  REQUIRE_MESSAGE(verified.ok(), verified.status().ToString());
  CHECK(verified->id.ToString() == kInferenceId);
  CHECK(verified->chain.front().DnsSans() == std::vector<std::string>{"model.example.org"});
  CHECK(response.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now()) + 600);
}

TEST_CASE("admin: X509-SVID minting refuses bad requests") {
  AdminHarness h;
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  spinel::v1::MintX509SvidResponse response;
  auto expect_invalid = [&](const spinel::v1::MintX509SvidRequest& request, const char* part) {
    grpc::Status status = h.Call(&Stub::MintX509Svid, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_MESSAGE(Contains(status.error_message(), part), status.error_message());
  };
  spinel::v1::MintX509SvidRequest above_cap = MintRequest(kToolsId, *key);
  above_cap.set_ttl_seconds(3600);
  expect_invalid(above_cap, "cap");
  spinel::v1::MintX509SvidRequest other_id = MintRequest(kToolsId, *key);
  other_id.set_spiffe_id(kInferenceId);
  expect_invalid(other_id, "csr");
  spinel::v1::MintX509SvidRequest garbage = MintRequest(kInferenceId, *key);
  garbage.set_csr("not a csr");
  expect_invalid(garbage, "csr");
  std::string control_id = std::string("spiffe://") + kControlTd + "/spinel/server";
  expect_invalid(MintRequest(control_id, *key), "control trust domain");
  expect_invalid(MintRequest("spiffe://elsewhere.example.org/w", *key), "no zone");
  spinel::v1::MintX509SvidRequest bad_id = MintRequest(kInferenceId, *key);
  bad_id.set_spiffe_id("https://inference.ai.example.org/x");
  expect_invalid(bad_id, "spiffe_id");
}

TEST_CASE("admin: an operator-minted JWT-SVID validates with the zone's bundle") {
  AdminHarness h;
  spinel::v1::AdminMintJwtSvidRequest request;
  request.set_spiffe_id(kInferenceId);
  request.add_audience("retrieval");
  spinel::v1::AdminMintJwtSvidResponse response;
  REQUIRE(h.Call(&Stub::MintJwtSvid, request, &response).ok());
  BundleSet bundles;
  REQUIRE(bundles.Put(GetBundle(h, "inference.ai.example.org")).ok());
  auto svid = spinel::common::ValidateJwtSvid(response.token(), {"retrieval"}, bundles,
                                              h.fixture.clock.Now());
  REQUIRE_MESSAGE(svid.ok(), svid.status().ToString());
  CHECK(svid->subject.ToString() == kInferenceId);
  // inference's JWT-SVID default lifetime is 5m.
  CHECK(response.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now()) + 300);

  request.clear_audience();
  CHECK(h.Call(&Stub::MintJwtSvid, request, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  request.add_audience("retrieval");
  request.set_spiffe_id(kToolsId);
  request.set_ttl_seconds(3600);  // tool-execution caps JWT-SVIDs at 5m
  CHECK(h.Call(&Stub::MintJwtSvid, request, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("admin: forced rotation moves authorities through prepared, active and old") {
  AdminHarness h;
  spinel::v1::TrustDomainRequest request;
  request.set_trust_domain("inference.ai.example.org");
  spinel::v1::LocalAuthorities authorities;
  REQUIRE(h.Call(&Stub::GetLocalAuthorities, request, &authorities).ok());
  REQUIRE(authorities.authorities_size() == 3);
  CHECK(authorities.authorities(0).kind() == "x509");
  CHECK(authorities.authorities(0).state() == "active");
  CHECK(authorities.authorities(1).kind() == "jwt");
  CHECK(authorities.authorities(2).kind() == "wit");
  CHECK(authorities.authorities(2).id() != authorities.authorities(1).id());
  CHECK_FALSE(authorities.authorities(0).id().empty());
  CHECK(authorities.authorities(0).expires_at() > authorities.authorities(0).not_before());

  REQUIRE(h.Call(&Stub::PrepareLocalAuthority, request, &authorities).ok());
  std::multiset<std::string> states;
  for (const auto& a : authorities.authorities()) states.insert(a.kind() + ":" + a.state());
  CHECK(states == std::multiset<std::string>{"jwt:active", "jwt:prepared", "wit:active",
                                             "wit:prepared", "x509:active", "x509:prepared"});
  CHECK(h.Call(&Stub::PrepareLocalAuthority, request, &authorities).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  REQUIRE(h.Call(&Stub::ActivateLocalAuthority, request, &authorities).ok());
  states.clear();
  for (const auto& a : authorities.authorities()) states.insert(a.kind() + ":" + a.state());
  CHECK(states == std::multiset<std::string>{"jwt:active", "jwt:old", "wit:active", "wit:old",
                                             "x509:active", "x509:old"});
  CHECK(GetBundle(h, "inference.ai.example.org").x509_authorities.size() == 2);
  CHECK(h.Call(&Stub::ActivateLocalAuthority, request, &authorities).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  request.set_trust_domain("unknown.example.org");
  CHECK(h.Call(&Stub::PrepareLocalAuthority, request, &authorities).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}
