// Figures 1 (in-process) and 2: X509-SVID issuance from a CSR and JWT-SVID minting through the
// server's real Issuer and zone CAs (bench/support/issuer_world.h), on one thread.
//
// x509_in_process: each operation is what the agent API does per CSR: Csr::Parse of a DER
// request (parse + verify its self-signature) and Issuer::SignX509Svid (build + sign the leaf).
// The CSRs are made beforehand with distinct keys and cycled through. Rate = operations per
// second of the thread's CPU time (as `openssl speed` counts), limit = 1/(1/sign + 1/verify).
// jwt_in_process: Issuer::MintJwtSvid for one audience; limit = the sign rate.
// wit_in_process: Issuer::MintWitSvid, each bound to a workload key; limit = the sign rate.
// Also printed without a limit: the wall-clock rates and the per-operation latency p50/p99.
// Every operation must succeed; an error stops the benchmark with exit code 1.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/support/issuer_world.h"
#include "bench/support/limits.h"
#include "bench/support/report.h"
#include "bench/support/timing.h"
#include "common/csr.h"
#include "common/keys.h"
#include "common/status_macros.h"

namespace spinel::bench {
namespace {

constexpr char kZoneId[] = "spiffe://inference.ai.example.org/bench/workload-";

struct Run {
  size_t operations = 0;
  double cpu_seconds = 0;
  double wall_seconds = 0;
  Samples latency_us;
};

// Calls `op(i)` for i = 0, 1, ... until `seconds` of thread CPU time have passed.
template <typename Op>
absl::StatusOr<Run> Measure(double seconds, Op op) {
  Run run;
  const double cpu_start = ThreadCpuSeconds();
  const double wall_start = WallSeconds();
  while (ThreadCpuSeconds() - cpu_start < seconds) {
    const double before = WallSeconds();
    SPINEL_RETURN_IF_ERROR(op(run.operations));
    run.latency_us.Add(Micros(before, WallSeconds()));
    ++run.operations;
  }
  run.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  run.wall_seconds = WallSeconds() - wall_start;
  return run;
}

struct CsrInput {
  common::SpiffeId id;
  std::string der;
};

absl::StatusOr<std::vector<CsrInput>> MakeCsrs(size_t count) {
  std::vector<CsrInput> csrs;
  for (size_t i = 0; i < count; ++i) {
    SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id,
                            common::SpiffeId::Parse(kZoneId + std::to_string(i)));
    SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
    SPINEL_ASSIGN_OR_RETURN(std::string der, common::CreateCsrDer(key, id));
    csrs.push_back({std::move(id), std::move(der)});
  }
  return csrs;
}

void ReportRun(Report& report, const std::string& name, const std::string& unit, const Run& run,
               std::optional<double> limit, const std::string& goal, nlohmann::json params) {
  params["operations"] = run.operations;
  params["cpu_seconds"] = run.cpu_seconds;
  report.Add({name, run.operations / run.cpu_seconds, unit, limit, goal, params});
  report.Add({name + "_wall", run.operations / run.wall_seconds, unit, std::nullopt, "", params});
  report.Add({name + "_p50_us", run.latency_us.Percentile(50), "us", std::nullopt, "", params});
  report.Add({name + "_p99_us", run.latency_us.Percentile(99), "us", std::nullopt, "", params});
}

// wit_in_process: Issuer::MintWitSvid bound to a workload key (one per workload, made
// beforehand as the agent does once per WIT); limit = the sign rate.
absl::Status ReportWit(Report& report, const CommonFlags& flags, server::Issuer& issuer,
                       const std::vector<CsrInput>& csrs, double seconds) {
  std::vector<common::ConfirmationKey> keys;
  for (size_t i = 0; i < csrs.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
    SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, key.Public());
    keys.push_back({std::move(public_key), common::JwsAlgorithm::kEs256});
  }
  auto mint_one = [&](size_t i) -> absl::Status {
    return issuer
        .MintWitSvid(csrs[i % csrs.size()].id, keys[i % keys.size()], common::Duration::zero())
        .status();
  };
  SPINEL_RETURN_IF_ERROR(Measure(seconds / 10, mint_one).status());  // warm-up
  SPINEL_ASSIGN_OR_RETURN(Run wit, Measure(seconds, mint_one));
  nlohmann::json params = flags.SizeParam();
  params["distinct_keys"] = keys.size();
  ReportRun(report, "wit_in_process", "svid/s", wit, flags.JwtLimit(), "ratio >= 0.70", params);
  return absl::OkStatus();
}

absl::Status RunBench(const CommonFlags& flags) {
  Report report("issuance");
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<IssuerWorld> world, IssuerWorld::Create());
  server::Issuer& issuer = world->issuer();
  const double seconds = flags.Pick(0.2, 1.5, 4.0);
  SPINEL_ASSIGN_OR_RETURN(std::vector<CsrInput> csrs, MakeCsrs(flags.Pick(8, 64, 256)));
  auto sign_one = [&](size_t i) -> absl::Status {
    const CsrInput& input = csrs[i % csrs.size()];
    SPINEL_ASSIGN_OR_RETURN(common::Csr csr, common::Csr::Parse(input.der));
    return issuer.SignX509Svid(input.id, csr, common::Duration::zero()).status();
  };
  SPINEL_RETURN_IF_ERROR(Measure(seconds / 10, sign_one).status());  // warm-up
  SPINEL_ASSIGN_OR_RETURN(Run x509, Measure(seconds, sign_one));
  nlohmann::json params = flags.SizeParam();
  params["distinct_csrs"] = csrs.size();
  params["key"] = "ECDSA P-256";
  ReportRun(report, "x509_in_process", "svid/s", x509, flags.X509Limit(), "ratio >= 0.80", params);

  const std::vector<std::string> audience = {"spiffe://tools.ai.example.org/bench"};
  auto mint_one = [&](size_t i) -> absl::Status {
    return issuer.MintJwtSvid(csrs[i % csrs.size()].id, audience, common::Duration::zero())
        .status();
  };
  SPINEL_RETURN_IF_ERROR(Measure(seconds / 10, mint_one).status());  // warm-up
  SPINEL_ASSIGN_OR_RETURN(Run jwt, Measure(seconds, mint_one));
  ReportRun(report, "jwt_in_process", "svid/s", jwt, flags.JwtLimit(), "ratio >= 0.70",
            flags.SizeParam());
  return ReportWit(report, flags, issuer, csrs, seconds);
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Figures 1 and 2: in-process X509-SVID issuance and JWT-SVID minting"};
  spinel::bench::CommonFlags flags;
  if (std::optional<int> exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) {
    return *exit_code;
  }
  absl::Status status = spinel::bench::RunBench(flags);
  if (!status.ok()) {
    std::fprintf(stderr, "issuance_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
