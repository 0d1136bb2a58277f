#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test in three passes and exits
# non-zero on any failure. Usage: scripts/test.sh
#   1. the whole suite (unit, integration, reliability, security, packaging, demo, benchmark
#      smoke runs) through ctest, built once with AddressSanitizer + UndefinedBehaviorSanitizer
#      (-O0 -g1: as cheap to compile as an optimized build, and every finding is fatal; UBSan
#      without its null and alignment checks, see CMakeLists.txt) in
#      build-test/;
#   2. ThreadSanitizer on the agent's concurrent parts outside gRPC (agent_tsan_tests; see
#      tests/CMakeLists.txt) in build-tsan/;
#   3. a few seconds of every libFuzzer target (scripts/fuzz.sh, clang) in build-fuzz/.
# SPINEL_FUZZ_SECONDS (default 5) sets the fuzz time per target.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
supp="$PWD/tests/sanitizers"

scripts/setup.sh

# Sanitizer options for every process the tests start (they inherit the environment).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1"

echo "test.sh: pass 1 of 3: the whole suite, ASan + UBSan"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="-O0 -g1" \
  -DCMAKE_CXX_FLAGS="-O0 -g1" -DSPINEL_SANITIZE=address,undefined >/dev/null
cmake --build build-test -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs"

echo "test.sh: pass 2 of 3: ThreadSanitizer on the agent's concurrency tests outside gRPC"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="-O1 -g1" \
  -DCMAKE_CXX_FLAGS="-O1 -g1" -DSPINEL_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$jobs" --target agent_tsan_tests
SPINEL_BUILD_DIR="$PWD/build-tsan" SPINEL_SOURCE_DIR="$PWD" \
  build-tsan/tests/agent_tsan_tests --no-version

echo "test.sh: pass 3 of 3: fuzz targets, ${SPINEL_FUZZ_SECONDS:-5}s each"
for target in $(scripts/fuzz.sh --list); do
  scripts/fuzz.sh "$target" "${SPINEL_FUZZ_SECONDS:-5}"
done
echo "test.sh: all tests passed"
