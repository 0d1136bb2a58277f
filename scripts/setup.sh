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

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
