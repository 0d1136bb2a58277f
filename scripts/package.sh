#!/usr/bin/env bash
# Builds the Debian packages spinel-server and spinel-agent with CPack (DEB generator, one
# package per install component; see cmake/install.cmake).
#
#   scripts/package.sh [--build-dir DIR] [--output DIR] [--no-build]
#
#   --build-dir DIR  build tree to package from (default: build/; configured if needed)
#   --output DIR     where the .deb files go (default: <build dir>/packages)
#   --no-build       package what is already built (no cmake configure or build)
#
# Prints the path of each package. Inspect one with `dpkg-deb -I FILE` and `dpkg-deb -c FILE`;
# install with `apt install ./spinel-server_*.deb`.
set -euo pipefail
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR="$SOURCE_DIR/build"
OUTPUT=""
BUILD=1
while (($#)); do
  case "$1" in
    --build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift ;;
    --output) OUTPUT=${2:?--output needs a directory}; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
OUTPUT=${OUTPUT:-$BUILD_DIR/packages}

if ((BUILD)); then
  cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target spinel-server spinel-agent >/dev/null
fi
[ -f "$BUILD_DIR/CPackConfig.cmake" ] ||
  { echo "package: $BUILD_DIR is not a configured build tree (no CPackConfig.cmake)" >&2; exit 1; }
for binary in server/spinel-server agent/spinel-agent; do
  [ -x "$BUILD_DIR/$binary" ] || { echo "package: $BUILD_DIR/$binary is not built" >&2; exit 1; }
done

mkdir -p "$OUTPUT"
OUTPUT=$(cd "$OUTPUT" && pwd)
log="$OUTPUT/cpack.log"
if ! cpack --config "$BUILD_DIR/CPackConfig.cmake" -G DEB -B "$OUTPUT" >"$log" 2>&1; then
  cat "$log" >&2
  echo "package: cpack failed" >&2
  exit 1
fi
rm -rf "$OUTPUT/_CPack_Packages"
for deb in "$OUTPUT"/spinel-server_*.deb "$OUTPUT"/spinel-agent_*.deb; do
  [ -f "$deb" ] || { echo "package: cpack made no $(basename "$deb")" >&2; exit 1; }
  echo "$deb"
done
