#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds, and runs every test through
# ctest; then gives each fuzz target a short run when clang is present. Exits non-zero on any
# failure. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ -x scripts/fuzz.sh ] && command -v clang++ >/dev/null; then
  for target in $(scripts/fuzz.sh --list); do
    scripts/fuzz.sh "$target" "${SPINEL_FUZZ_SECONDS:-5}"
  done
fi
echo "test.sh: all tests passed"
