#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test in three passes and exits
# non-zero on any failure. Usage: scripts/test.sh
# First the format check (scripts/check_format.sh), then:
#   1. the whole suite (unit, integration, reliability, security, packaging, demo, benchmark
#      smoke runs) through ctest, built once with clang, AddressSanitizer +
#      UndefinedBehaviorSanitizer (-O0 -g1: line tables for the reports; every finding is fatal;
#      UBSan without its null and alignment checks, see CMakeLists.txt), precompiled headers
#      (cmake/precompiled_headers.cmake) and the thread-safety analysis as an error
#      (scripts/check_thread_safety.sh proves it is on) in build-test/;
#   2. ThreadSanitizer on the agent's concurrent parts outside gRPC (agent_tsan_tests; see
#      tests/CMakeLists.txt) in build-tsan/;
#   3. a few seconds of every libFuzzer target (scripts/fuzz.sh, clang) in build-fuzz/.
# Passes 2 and 3 are compiled at low priority while ctest runs pass 1 (its tests mostly wait on
# the processes and timers they drive), and run after it. Fresh build trees use Ninja.
# docs/testing.md says how the passes run and what each costs.
# SPINEL_FUZZ_SECONDS (default 5) sets the fuzz time per target.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
supp="$PWD/tests/sanitizers"

scripts/setup.sh

# The tree is formatted as .clang-format says (Debian's clang-format-14); a few seconds.
scripts/check_format.sh

# Sanitizer options for every process the tests start (they inherit the environment).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1"

# configure DIR CMAKE_ARGS...: a fresh tree uses Ninja; an existing one keeps its generator.
configure() {
  local dir=$1 generator=(); shift
  if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
  cmake -S . -B "$dir" "${generator[@]}" "$@" >/dev/null
}

echo "test.sh: pass 1 of 3: the whole suite, ASan + UBSan"
configure build-test -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="-O0 -g1" -DCMAKE_CXX_FLAGS="-O0 -g1" \
  -DSPINEL_SANITIZE=address,undefined
# The lock annotations are checked (clang -Wthread-safety, an error) in this build: first prove
# the analysis is on, and that build-test compiles everything with it.
scripts/check_thread_safety.sh build-test
cmake --build build-test -j"$jobs"

# Passes 2 and 3 compile in the background, niced, while the suite runs.
configure build-tsan -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="-O1 -g1" \
  -DCMAKE_CXX_FLAGS="-O1 -g1" -DSPINEL_SANITIZE=thread
later_log=$(mktemp) later_builds=
# On any exit, the background builds (their own process group) are stopped.
stop_later_builds() {
  if [ -n "$later_builds" ]; then kill -- "-$later_builds" 2>/dev/null || true; fi
  rm -f "$later_log"
}
trap stop_later_builds EXIT
setsid nice -n 19 bash -c 'cmake --build build-tsan -j"$1" --target agent_tsan_tests &&
                           scripts/fuzz.sh --build' _ "$jobs" >"$later_log" 2>&1 &
later_builds=$!

ctest --test-dir build-test --output-on-failure -j"$jobs"
if ! wait "$later_builds"; then
  later_builds=
  tail -n 60 "$later_log"
  echo "test.sh: the ThreadSanitizer or fuzz build failed" >&2
  exit 1
fi
later_builds=

echo "test.sh: pass 2 of 3: ThreadSanitizer on the agent's concurrency tests outside gRPC"
SPINEL_BUILD_DIR="$PWD/build-tsan" SPINEL_SOURCE_DIR="$PWD" \
  build-tsan/tests/agent_tsan_tests --no-version

echo "test.sh: pass 3 of 3: fuzz targets, ${SPINEL_FUZZ_SECONDS:-5}s each"
for target in $(scripts/fuzz.sh --list); do
  scripts/fuzz.sh "$target" "${SPINEL_FUZZ_SECONDS:-5}"
done
echo "test.sh: all tests passed"
