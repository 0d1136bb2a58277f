// The command-line flags every benchmark program accepts, and the physical limits derived from
// them.
//
//   --smoke        tiny sizes, finishes in seconds, still runs every code path (ctest runs this)
//   --quick        sizes between smoke and full (scripts/bench.sh --quick)
//   --repeat-id N  which repeat this run is (only for logs; ignored otherwise)
//   --openssl-sign-per-s X, --openssl-verify-per-s Y
//                  ECDSA P-256 sign and verify rates of this machine, one core, as measured by
//                  `openssl speed ecdsap256` in scripts/bench.sh. Without them (smoke runs),
//                  figures carry no limit.
//
// Limits: an X509-SVID from a CSR costs one verify (the CSR's signature) and one sign, so its
// limit is 1 / (1/sign + 1/verify) per second; a JWT-SVID costs one sign, so its limit is the
// sign rate.
//
// Usage:
//   CLI::App app{"issuance benchmark"};
//   spinel::bench::CommonFlags flags;
//   int clients = 100; app.add_option("--clients", clients);      // program-specific flags
//   if (auto exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) return *exit_code;
//   const int n = flags.Pick(/*smoke=*/100, /*quick=*/2000, /*full=*/20000);
//   figure.limit = flags.X509Limit();
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace spinel::bench {

enum class Size { kSmoke, kQuick, kFull };

struct CommonFlags {
  bool smoke = false;
  bool quick = false;
  std::string repeat_id;
  double openssl_sign_per_s = 0;    // 0: not measured
  double openssl_verify_per_s = 0;  // 0: not measured

  Size size() const { return smoke ? Size::kSmoke : quick ? Size::kQuick : Size::kFull; }
  // The value for this run's size.
  template <typename T>
  T Pick(T smoke_value, T quick_value, T full_value) const {
    return smoke ? smoke_value : quick ? quick_value : full_value;
  }
  // One X509-SVID from a CSR per second at most: 1 / (1/sign + 1/verify); nullopt unless both
  // rates were given.
  std::optional<double> X509Limit() const;
  // One JWT-SVID per second at most: the sign rate; nullopt unless it was given.
  std::optional<double> JwtLimit() const;
  // {"size": "smoke"|"quick"|"full"} to merge into Figure::params.
  nlohmann::json SizeParam() const;
};

// Adds the common flags to `app`.
void AddCommonFlags(CLI::App& app, CommonFlags& flags);

// Adds the common flags, parses argv and validates them (rates must be >= 0; --smoke and
// --quick are exclusive). Returns nullopt to go on, or the exit code to return from main:
// 0 after --help, 2 on a usage error (message on stderr).
std::optional<int> ParseFlags(CLI::App& app, CommonFlags& flags, int argc, char** argv);

}  // namespace spinel::bench
