#include "common/file_util.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <filesystem>

using namespace spinel::common;

namespace {
std::string TempDir() {
  char tmpl[] = "/tmp/spinel-file-XXXXXX";
  return mkdtemp(tmpl);
}
}  // namespace

TEST_CASE("WriteFileAtomic writes private files that ReadFile reads back") {
  std::string dir = TempDir();
  std::string path = dir + "/a/b/key.pem";
  REQUIRE(MakeDirs(dir + "/a/b").ok());
  REQUIRE(WriteFileAtomic(path, "secret", 0600).ok());
  CHECK(*ReadFile(path) == "secret");
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(WriteFileAtomic(path, "replaced").ok());
  CHECK(*ReadFile(path) == "replaced");
  CHECK_FALSE(FileExists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("ReadSecretFile reads the whole file into SecretData") {
  std::string dir = TempDir();
  const std::string key(40000, 'k');  // larger than one read of an unsized file
  REQUIRE(WriteFileAtomic(dir + "/key.pem", key).ok());
  absl::StatusOr<SecretData> read = ReadSecretFile(dir + "/key.pem");
  REQUIRE(read.ok());
  CHECK(read->view() == key);
  REQUIRE(WriteFileAtomic(dir + "/empty", "").ok());
  CHECK(ReadSecretFile(dir + "/empty")->empty());
  CHECK(ReadSecretFile(dir + "/missing").status().code() == absl::StatusCode::kNotFound);
  // /proc files report size 0 to fstat and are read to their end all the same.
  CHECK(ReadFile("/proc/self/status")->find("\nPid:\t") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("errors name the path and map errno to a status code") {
  auto missing = ReadFile("/nonexistent/spinel/file");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()).find("/nonexistent/spinel/file") !=
        std::string::npos);
  CHECK_FALSE(WriteFileAtomic("/nonexistent/spinel/file", "x").ok());
}
