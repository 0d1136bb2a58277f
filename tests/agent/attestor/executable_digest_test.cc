#include "agent/attestor/executable_digest.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "agent/attestor/proc_fs.h"
#include "tests/agent/attestor/proc_fixture.h"
#include "tests/fakes/fake_clock.h"

using spinel::agent::DigestCache;
using spinel::agent::ScopedFd;
using spinel::testing::FakeClock;
using spinel::testing::Sha256Sum;
using spinel::testing::TempDir;

namespace {

ScopedFd Open(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

// A clock an hour ahead, so files written by the test are past the racy window.
FakeClock LaterClock() {
  return FakeClock(std::chrono::system_clock::now() + std::chrono::hours(1));
}

}  // namespace

TEST_CASE("DigestCache computes the SHA-256 sha256sum computes") {
  TempDir dir;
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + (i >> 9));
  dir.Write("big", big);  // several read chunks
  dir.Write("empty", "");
  DigestCache cache;
  CHECK(*cache.Sha256Hex(Open(dir.File("big")).get(), "big") == Sha256Sum(dir.File("big")));
  CHECK(*cache.Sha256Hex(Open(dir.File("empty")).get(), "empty") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("DigestCache hits for the same file and misses once it changes") {
  TempDir dir;
  dir.Write("bin", "version one");
  FakeClock clock = LaterClock();
  DigestCache cache({.racy_window = std::chrono::seconds(2), .clock = &clock});

  std::string first = *cache.Sha256Hex(Open(dir.File("bin")).get(), "bin");
  CHECK(first == Sha256Sum(dir.File("bin")));
  CHECK(*cache.Sha256Hex(Open(dir.File("bin")).get(), "bin") == first);
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().entries == 1);

  // Rewritten in place with the same size: ctime/mtime change, so the key does.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past timestamp granularity
  dir.Write("bin", "version two");
  std::string second = *cache.Sha256Hex(Open(dir.File("bin")).get(), "bin");
  CHECK(second != first);
  CHECK(second == Sha256Sum(dir.File("bin")));
  CHECK(cache.stats().misses == 2);

  // Replaced by a new file (new inode) of the same content as the first version.
  dir.Write("bin.new", "version one");
  std::filesystem::rename(dir.File("bin.new"), dir.File("bin"));
  CHECK(*cache.Sha256Hex(Open(dir.File("bin")).get(), "bin") == first);
  CHECK(cache.stats().misses == 3);
}

TEST_CASE("DigestCache does not cache a file changed within the racy window") {
  TempDir dir;
  dir.Write("fresh", "just written");
  FakeClock clock(std::chrono::system_clock::now());
  DigestCache cache({.racy_window = std::chrono::seconds(2), .clock = &clock});
  std::string digest = *cache.Sha256Hex(Open(dir.File("fresh")).get(), "fresh");
  CHECK(*cache.Sha256Hex(Open(dir.File("fresh")).get(), "fresh") == digest);
  CHECK(cache.stats().hits == 0);
  CHECK(cache.stats().entries == 0);
  clock.Advance(std::chrono::seconds(3));
  (void)cache.Sha256Hex(Open(dir.File("fresh")).get(), "fresh");
  CHECK(*cache.Sha256Hex(Open(dir.File("fresh")).get(), "fresh") == digest);
  CHECK(cache.stats().hits == 1);
}

TEST_CASE("DigestCache is bounded and evicts the least recently used") {
  TempDir dir;
  FakeClock clock = LaterClock();
  DigestCache cache({.max_entries = 2, .clock = &clock});
  for (const char* name : {"a", "b", "c"}) dir.Write(name, name);
  auto hash = [&](const char* name) { return *cache.Sha256Hex(Open(dir.File(name)).get(), name); };
  hash("a");
  hash("b");
  hash("a");  // a is now more recently used than b
  hash("c");  // evicts b
  CHECK(cache.stats().entries == 2);
  CHECK(cache.stats().hits == 1);
  hash("a");
  CHECK(cache.stats().hits == 2);
  hash("b");
  CHECK(cache.stats().hits == 2);  // b was evicted
  CHECK(cache.stats().misses == 4);
}

TEST_CASE("DigestCache refuses files over the size limit with a clear error") {
  TempDir dir;
  dir.Write("ten", "0123456789");
  DigestCache cache({.max_file_bytes = 9});
  auto digest = cache.Sha256Hex(Open(dir.File("ten")).get(), "/bin/ten");
  REQUIRE(absl::IsResourceExhausted(digest.status()));
  std::string message(digest.status().message());
  CHECK(message.find("/bin/ten is 10 bytes") != std::string::npos);
  CHECK(message.find("limit of 9 bytes") != std::string::npos);
  DigestCache exact({.max_file_bytes = 10});
  CHECK(exact.Sha256Hex(Open(dir.File("ten")).get(), "ten").ok());
}

TEST_CASE("DigestCache rejects what is not a regular file") {
  TempDir dir;
  DigestCache cache;
  ScopedFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd.valid());
  CHECK(absl::IsFailedPrecondition(cache.Sha256Hex(fd.get(), "dir").status()));
}

TEST_CASE("DigestCache is safe to use from several threads") {
  TempDir dir;
  dir.Write("bin", std::string(100000, 'x'));
  std::string expected = Sha256Sum(dir.File("bin"));
  FakeClock clock = LaterClock();
  DigestCache cache({.clock = &clock});
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        ScopedFd fd(::open(dir.File("bin").c_str(), O_RDONLY | O_CLOEXEC));
        results[t] = *cache.Sha256Hex(fd.get(), "bin");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& r : results) CHECK(r == expected);
  CHECK(cache.stats().hits + cache.stats().misses == 160);
  CHECK(cache.stats().entries == 1);
}
