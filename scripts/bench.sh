#!/usr/bin/env bash
# The benchmarks (issue 8): builds Spinel in Release (build-release/), measures this machine's
# ECDSA P-256 sign and verify rates with `openssl speed` (the physical limit of issuance), runs
# every bench/<name>_bench program N times and writes bench-results/results.json and
# bench-results/results.md: per figure min/median/max over the repeats, the limit and the
# ratio median/limit, and the goal with met / not met; plus the machine, the commit and the date.
# Raw JSON lines are in bench-results/raw.jsonl, each program's stderr in bench-results/<name>.log.
#
# Usage: scripts/bench.sh [--quick] [--repeat N] [--repeat-of NAME=N ...] [--no-setup]
#                         [--only NAME[,NAME...]] [--build-dir DIR]
#   --quick     smaller sizes (each program's --quick), `openssl speed -seconds 1`, 1 repeat
#   --repeat N  runs of each program (default 3; 1 with --quick)
#   --repeat-of NAME=N  runs of one program instead (e.g. rotation=1 for the 10-minute run);
#               may be given several times
#   --no-setup  skip scripts/setup.sh (packages already installed)
#   --only      run only these programs (e.g. --only issuance,authorize)
#   --build-dir use (and incrementally build) an existing build directory with the build type
#               it was configured with, instead of build-release/ (recorded in the results)
# Exits non-zero when a program failed (its figures are missing from the tables).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 repeat="" setup=1 only="" build=""
declare -A repeat_of=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --repeat) repeat="${2:?--repeat needs a number}"; shift ;;
    --repeat-of)
      pair="${2:?--repeat-of needs NAME=N}"; shift
      case "$pair" in
        *=*[!0-9]*|*=|*=0|=*|*[!a-z_=0-9]*) echo "bench.sh: --repeat-of needs NAME=N (N > 0), got $pair" >&2; exit 2 ;;
        *=*) repeat_of["${pair%%=*}"]="${pair#*=}"; repeat_of["${pair%%=*}_bench"]="${pair#*=}" ;;
        *) echo "bench.sh: --repeat-of needs NAME=N, got $pair" >&2; exit 2 ;;
      esac ;;
    --no-setup) setup=0 ;;
    --only) only="${2:?--only needs names}"; shift ;;
    --build-dir) build="${2:?--build-dir needs a directory}"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$repeat" ]; then repeat=$([ "$quick" = 1 ] && echo 1 || echo 3); fi
case "$repeat" in ''|*[!0-9]*|0) echo "bench.sh: --repeat must be a positive integer" >&2; exit 2 ;; esac

[ "$setup" = 1 ] && scripts/setup.sh

out=bench-results
names=()
for source in bench/*_bench.cc; do
  name=$(basename "$source" .cc)
  if [ -n "$only" ] && ! [[ ",$only," == *",${name%_bench},"* || ",$only," == *",$name,"* ]]; then
    continue
  fi
  names+=("$name")
done
[ ${#names[@]} -gt 0 ] || { echo "bench.sh: no benchmark selected" >&2; exit 2; }

if [ -z "$build" ]; then
  build=build-release
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
else
  [ -f "$build/CMakeCache.txt" ] || { echo "bench.sh: $build is not a configured build" >&2; exit 2; }
  cmake "$build" >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
build_type=${build_type:-RelWithDebInfo}  # the project default when the cache names none
echo "bench.sh: building ${names[*]} in $build ($build_type)" >&2
if ! cmake --build "$build" -j"$(nproc)" --target spinel-server spinel-agent "${names[@]}" \
    >"$build/bench-build.log" 2>&1; then
  tail -40 "$build/bench-build.log" >&2
  echo "bench.sh: build failed (full log: $build/bench-build.log)" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
seconds=$([ "$quick" = 1 ] && echo 1 || echo 3)
echo "bench.sh: openssl speed -seconds $seconds ecdsap256" >&2
openssl speed -seconds "$seconds" ecdsap256 >"$out/openssl-speed.txt" 2>/dev/null
read -r sign verify < <(awk '/ecdsa \(nistp256\)/ {print $(NF-1), $NF}' "$out/openssl-speed.txt")
[ -n "${sign:-}" ] && [ -n "${verify:-}" ] || { echo "bench.sh: cannot parse openssl speed" >&2; exit 1; }
echo "bench.sh: ECDSA P-256 sign/s $sign, verify/s $verify" >&2

size_flag=$([ "$quick" = 1 ] && echo --quick || true)
failed=()
overrides=""
for name in "${names[@]}"; do
  runs="${repeat_of[$name]:-$repeat}"
  [ "$runs" = "$repeat" ] || overrides="$overrides ${name%_bench}=$runs"
  for run in $(seq 1 "$runs"); do
    echo "bench.sh: $name run $run/$runs" >&2
    if ! SPINEL_BUILD_DIR="$(realpath "$build")" SPINEL_SOURCE_DIR="$PWD" "$build/bench/$name" $size_flag \
        --repeat-id "$run" --openssl-sign-per-s "$sign" --openssl-verify-per-s "$verify" \
        >>"$out/raw.jsonl" 2>>"$out/$name.log"; then
      echo "bench.sh: $name run $run FAILED (see $out/$name.log)" >&2
      failed+=("$name#$run")
    fi
  done
done

python3 scripts/bench_report.py --raw "$out/raw.jsonl" --out "$out" \
  --sign "$sign" --verify "$verify" --repeat "$repeat" --repeat-overrides "${overrides# }" \
  --mode "$([ "$quick" = 1 ] && echo quick || echo full)" --build-type "$build_type" \
  --failed "${failed[*]:-}"
echo "bench.sh: wrote $out/results.md and $out/results.json" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench.sh: failed runs: ${failed[*]}" >&2
  exit 1
fi
