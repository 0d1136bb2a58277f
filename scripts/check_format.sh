#!/usr/bin/env bash
# Checks that every tracked C++ file (*.h, *.cc) is formatted as .clang-format says, with
# Debian's clang-format (clang-format-14 on Debian 12; scripts/setup.sh installs it). Prints
# the path of each file that is not, one a line, and exits non-zero when there is any; the
# detail of a file: clang-format --dry-run FILE. Fix them all: git ls-files '*.h' '*.cc' |
# xargs clang-format -i. Usage: scripts/check_format.sh
set -euo pipefail
cd "$(dirname "$0")/.."

formatter=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$formatter" ] || { echo "check_format: clang-format is required (scripts/setup.sh)" >&2; exit 2; }

unformatted=0
while IFS= read -r -d '' file; do
  if ! "$formatter" --dry-run -Werror "$file" >/dev/null 2>&1; then
    echo "$file"
    unformatted=$((unformatted + 1))
  fi
done < <(git ls-files -z -- '*.h' '*.cc')

if ((unformatted > 0)); then
  echo "check_format: $unformatted file(s) differ from .clang-format ($("$formatter" --version))" >&2
  exit 1
fi
