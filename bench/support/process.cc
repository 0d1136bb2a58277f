#include "bench/support/process.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"

#ifndef SPINEL_BENCH_SOURCE_DIR
#define SPINEL_BENCH_SOURCE_DIR ""
#endif

namespace spinel::bench {

using common::StrCat;

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

}  // namespace

std::string BuildDir() {
  if (std::string dir = Env("SPINEL_BUILD_DIR"); !dir.empty()) return dir;
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? "." : exe.parent_path().parent_path().string();
}

std::string SourceDir() {
  if (std::string dir = Env("SPINEL_SOURCE_DIR"); !dir.empty()) return dir;
  return SPINEL_BENCH_SOURCE_DIR;
}

TempDir::TempDir() {
  const std::string base = Env("TMPDIR").empty() ? "/tmp" : Env("TMPDIR");
  std::string pattern = base + "/spinel-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

absl::StatusOr<std::string> TempDir::Write(std::string_view name, std::string_view content) const {
  const std::string file = File(name);
  std::ofstream out(file, std::ios::binary);
  out << content;
  if (!out.good()) return absl::InternalError(StrCat("cannot write ", file));
  return file;
}

absl::StatusOr<ProcessUsage> ReadUsage(pid_t pid) {
  const std::string stat = ReadWholeFile(StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::NotFoundError(StrCat("no process ", pid));
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  ProcessUsage usage;
  usage.cpu_seconds = static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
  std::istringstream status(ReadWholeFile(StrCat("/proc/", pid, "/status")));
  std::string line;
  while (std::getline(status, line)) {
    const double kb = std::atof(line.c_str() + line.find(':') + 1);
    if (line.rfind("VmHWM:", 0) == 0) usage.peak_rss_mb = kb / 1024;
    if (line.rfind("VmRSS:", 0) == 0) usage.rss_mb = kb / 1024;
  }
  return usage;
}

absl::StatusOr<long> RaiseFileLimit(long wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("getrlimit failed");
  if (limit.rlim_max != RLIM_INFINITY && static_cast<long>(limit.rlim_max) < wanted) {
    rlimit raised{static_cast<rlim_t>(wanted), static_cast<rlim_t>(wanted)};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return wanted;
  }
  const rlim_t soft = limit.rlim_max == RLIM_INFINITY
                          ? static_cast<rlim_t>(wanted)
                          : std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(wanted));
  limit.rlim_cur = std::max(limit.rlim_cur, soft);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("setrlimit failed");
  return static_cast<long>(limit.rlim_cur);
}

}  // namespace spinel::bench
