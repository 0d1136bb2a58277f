#!/usr/bin/env bash
# Proves clang's thread-safety analysis is on, so that a lock annotation (common/mutex.h) can
# never silently stop being checked. Usage: scripts/check_thread_safety.sh [BUILD_DIR]
#   1. compiles tests/common/mutex_misuse_fixture.cc with clang, -Wthread-safety
#      -Werror=thread-safety and -Xclang -verify: it fails unless each misuse in the fixture is
#      an error exactly where the fixture expects it, and the correct uses raise nothing;
#   2. given BUILD_DIR (a clang build tree), checks that its compile_commands.json compiles
#      every C++ source of the tree with those same flags (CMakeLists.txt,
#      SPINEL_THREAD_SAFETY_ANALYSIS).
# Fast (one syntax-only compile); scripts/test.sh runs it before building.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-Wthread-safety -Werror=thread-safety)

command -v clang++ >/dev/null || { echo "check_thread_safety: clang++ is required" >&2; exit 2; }
if ! clang++ -std=c++20 -I. -fsyntax-only "${flags[@]}" -Xclang -verify \
     tests/common/mutex_misuse_fixture.cc; then
  echo "check_thread_safety: the analysis did not report the fixture's misuses as expected" >&2
  exit 1
fi

if [ $# -ge 1 ]; then
  db="$1/compile_commands.json"
  [ -f "$db" ] || { echo "check_thread_safety: no $db (configure $1 first)" >&2; exit 2; }
  # One line per C++ compile command that lacks either flag.
  missing=$(python3 - "$db" "${flags[@]}" <<'PY'
import json, sys
db, flags = sys.argv[1], sys.argv[2:]
for entry in json.load(open(db)):
    if not entry["file"].endswith(".cc"):
        continue
    command = entry.get("command") or " ".join(entry.get("arguments", []))
    if "clang" not in command.split()[0] and "clang++" not in command:
        continue
    if not all(flag in command.split() for flag in flags):
        print(entry["file"])
PY
)
  if [ -n "$missing" ]; then
    echo "check_thread_safety: compiled without ${flags[*]}:" >&2
    echo "$missing" >&2
    exit 1
  fi
fi
echo "check_thread_safety: the analysis is on"
