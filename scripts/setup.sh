#!/usr/bin/env bash
# Installs every Debian package the project needs (build, tests, services, images). Idempotent
# and silent when everything is already present. Only Debian's apt archive is used.
set -euo pipefail

PACKAGES=(
  # Build
  bazel-bootstrap g++ clang-format
  # Flow protocol, runtime and codecs
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libabsl-dev
  libsimdjson-dev libyaml-cpp-dev
  # Tests and benchmarks (clang + compiler-rt: libFuzzer targets, libs/filesource/fuzz/run.sh)
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # Systems the connectors talk to
  libpq-dev postgresql postgresql-client libcurl4-openssl-dev libssh-dev libssl-dev
  openssh-server openssh-client libsqlite3-dev
  # Test harness: the HTTP file server (tests/harness)
  libcpp-httplib-dev
  zlib1g-dev libzstd-dev
  # File captures (libs/filesource): Avro object container files, xlsx sheet XML
  libavro-dev libexpat1-dev
  # Connector images: built from debootstrap, run with podman and runc (no Docker engine)
  podman runc debootstrap fuse-overlayfs uidmap
  # The demo verifies its SQLite destination with the sqlite3 shell
  sqlite3
  # libs/network-tunnel's tests make Ed25519 keys in PEM (PKCS#8) with it
  openssl
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
