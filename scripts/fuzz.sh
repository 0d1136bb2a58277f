#!/usr/bin/env bash
# Runs one libFuzzer target for a while.
#   scripts/fuzz.sh --list            names of the targets
#   scripts/fuzz.sh --build           build every target (clang, ASan+UBSan), fuzz none
#   scripts/fuzz.sh TARGET SECONDS    build (clang, ASan+UBSan) and fuzz TARGET for SECONDS
# The seed corpus is tests/fuzz/corpus/TARGET (read-only here); new inputs go to a temp dir.
# Crashes are written to build-fuzz/crashes/ and make the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--list" ]; then
  for f in tests/fuzz/*_fuzz.cc; do basename "$f" _fuzz.cc; done
  exit 0
fi
build=build-fuzz
configure() {  # configure every time (cheap): new targets must be seen
  local generator=()
  if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
  CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DSPINEL_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
}
if [ "${1:-}" = "--build" ] && [ $# -eq 1 ]; then
  command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is required" >&2; exit 2; }
  configure
  cmake --build "$build" -j"$(nproc)" >/dev/null
  exit 0
fi
if [ $# -ne 2 ]; then
  echo "usage: scripts/fuzz.sh --list | --build | TARGET SECONDS" >&2
  exit 2
fi
target=$1 seconds=$2
if [ ! -f "tests/fuzz/${target}_fuzz.cc" ]; then
  echo "fuzz.sh: no target '$target' (try --list)" >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2
  exit 2
fi
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is required" >&2; exit 2; }

configure
cmake --build "$build" -j"$(nproc)" --target "fuzz_$target" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/crashes"
seeds="tests/fuzz/corpus/$target"
[ -d "$seeds" ] || seeds=
log="$work/log"
if ! "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=8192 \
    -artifact_prefix="$build/crashes/$target-" "$work" $seeds >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "fuzz.sh: $target FAILED (artifacts in $build/crashes/)" >&2
  exit 1
fi
runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' || echo "?")
echo "fuzz $target: ${runs} executions in ${seconds}s, no failures"
