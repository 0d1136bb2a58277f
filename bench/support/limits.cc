#include "bench/support/limits.h"

#include <cstdio>

namespace spinel::bench {

std::optional<double> CommonFlags::X509Limit() const {
  if (openssl_sign_per_s <= 0 || openssl_verify_per_s <= 0) return std::nullopt;
  return 1.0 / (1.0 / openssl_sign_per_s + 1.0 / openssl_verify_per_s);
}

std::optional<double> CommonFlags::JwtLimit() const {
  if (openssl_sign_per_s <= 0) return std::nullopt;
  return openssl_sign_per_s;
}

nlohmann::json CommonFlags::SizeParam() const {
  return {{"size", smoke ? "smoke" : quick ? "quick" : "full"}};
}

void AddCommonFlags(CLI::App& app, CommonFlags& flags) {
  app.add_flag("--smoke", flags.smoke, "Tiny sizes, seconds; every code path still runs");
  app.add_flag("--quick", flags.quick, "Sizes between --smoke and the full run");
  app.add_option("--repeat-id", flags.repeat_id, "Which repeat this is (for logs only)");
  app.add_option("--openssl-sign-per-s", flags.openssl_sign_per_s,
                 "ECDSA P-256 signs per second on one core (openssl speed)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--openssl-verify-per-s", flags.openssl_verify_per_s,
                 "ECDSA P-256 verifies per second on one core (openssl speed)")
      ->check(CLI::NonNegativeNumber);
}

std::optional<int> ParseFlags(CLI::App& app, CommonFlags& flags, int argc, char** argv) {
  AddCommonFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return 2;
  }
  if (flags.smoke && flags.quick) {
    std::fprintf(stderr, "--smoke and --quick are exclusive\n");
    return 2;
  }
  return std::nullopt;
}

}  // namespace spinel::bench
