#!/usr/bin/env bash
# Builds the connector base image as localhost/connectors-base:<VERSION> and :dev.
#
#   ./base-image/build.sh             debootstrap a bookworm rootfs (no registry needed)
#   ./base-image/build.sh --registry  build base-image/Dockerfile FROM a registry image
#
# Both install exactly base-image/packages.txt and create the non-root user "connector".
set -euo pipefail
cd "$(dirname "$0")"
source ../tools/podman/podman.sh

version=$(cat VERSION)
name=localhost/connectors-base
packages=$(grep -v '^#' packages.txt | paste -sd, -)

if [ "${1:-}" = "--registry" ]; then
  podman_cmd build -t "$name:$version" -t "$name:dev" .
  exit 0
fi

# The mirror apt already uses on this machine.
mirror=$(grep -h -m1 -oE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources \
  /etc/apt/sources.list 2>/dev/null | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >/dev/null
chroot "$rootfs" useradd --uid 1000 --create-home --shell /usr/sbin/nologin connector
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc \
  "$rootfs"/usr/share/man "$rootfs"/usr/share/info
tar -C "$rootfs" -c . | podman_cmd import \
  --change 'USER connector' --change 'WORKDIR /home/connector' \
  - "$name:$version" >/dev/null
podman_cmd tag "$name:$version" "$name:dev"
size=$(podman_cmd image inspect --format '{{.Size}}' "$name:$version")
echo "base-image: built $name:$version ($((size / 1000000)) MB)" >&2
