#include "common/log.h"

#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

using namespace spinel::common;

namespace {

// Captures what Log writes to stderr while `fn` runs.
template <typename Fn>
std::string CaptureStderr(Fn fn) {
  char path[] = "/tmp/spinel-log-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  unlink(path);
  return text.str();
}

}  // namespace

TEST_CASE("text lines carry level, message and quoted fields; levels filter") {
  SetLogFormat(LogFormat::kText);
  SetLogLevel(LogLevel::kInfo);
  std::string out = CaptureStderr([] {
    LOG_INFO("agent attested", {{"agent_id", "spiffe://c/spinel/agent/x"}, {"note", "a b"}});
    LOG_DEBUG("hidden");
  });
  CHECK(out.find("INFO agent attested agent_id=spiffe://c/spinel/agent/x note=\"a b\"\n") !=
        std::string::npos);
  CHECK(out.find("hidden") == std::string::npos);
}

TEST_CASE("json lines parse as objects") {
  SetLogFormat(LogFormat::kJson);
  std::string out = CaptureStderr([] { LOG_WARN("rotated", {{"zone", "inference"}}); });
  SetLogFormat(LogFormat::kText);
  auto line = nlohmann::json::parse(out);
  CHECK(line["level"] == "WARN");
  CHECK(line["msg"] == "rotated");
  CHECK(line["zone"] == "inference");
}

TEST_CASE("level and format names parse strictly") {
  CHECK(*ParseLogLevel("debug") == LogLevel::kDebug);
  CHECK_FALSE(ParseLogLevel("verbose").ok());
  CHECK(*ParseLogFormat("json") == LogFormat::kJson);
  CHECK_FALSE(ParseLogFormat("xml").ok());
}
