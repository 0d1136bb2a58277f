#!/usr/bin/env bash
# Installs every Debian package that Spinel's build, tests, demo and benchmarks need.
# Idempotent and non-interactive: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ca-certificates
  libssl-dev openssl
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcpp-httplib-dev doctest-dev libsqlite3-dev sqlite3 nlohmann-json3-dev
  libyaml-cpp-dev libcli11-dev libpq-dev postgresql
  python3 python3-grpcio python3-protobuf python3-cryptography python3-jwt util-linux
  clang libclang-rt-14-dev llvm ninja-build clang-format
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The official MCP TypeScript SDK and undici (an HTTPS agent with a client certificate), for the
# integration test that runs an MCP client nobody here wrote against the example tool runner
# (tests/integration/mcp_sdk_test.cc finds them in the same directory). Node.js itself comes
# from the system (Debian's nodejs 18 + npm when missing: undici is pinned to 6, the last
# major that runs on node 18).
NODE_DIR=${SPINEL_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spinel/node}
if ! command -v npm >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -d "$NODE_DIR/node_modules/@modelcontextprotocol/sdk" ] ||
  [ ! -d "$NODE_DIR/node_modules/undici" ]; then
  echo "setup: installing @modelcontextprotocol/sdk and undici into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --silent @modelcontextprotocol/sdk undici@6
fi
