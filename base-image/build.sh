#!/usr/bin/env bash
# Builds the connector base image as localhost/connectors-base:<VERSION> and :dev.
#
#   ./base-image/build.sh             debootstrap a bookworm rootfs (no registry needed)
#   ./base-image/build.sh --if-stale  the same, unless :dev was built from this packages.txt
#   ./base-image/build.sh --registry  build base-image/Dockerfile FROM a registry image
#
# Both install exactly base-image/packages.txt and create the non-root user "connector".
set -euo pipefail
cd "$(dirname "$0")"
source ../tools/podman/podman.sh

version=$(cat VERSION)
name=localhost/connectors-base
packages=$(grep -v '^#' packages.txt | paste -sd, -)
# Images record the package list they were built from, so a changed list is noticed.
digest=$(cat packages.txt VERSION | sha256sum | cut -c1-16)

if [ "${1:-}" = "--if-stale" ]; then
  built=$(podman_cmd image inspect --format '{{index .Config.Labels "dev.estuary.base-packages"}}' \
    "$name:dev" 2>/dev/null || true)
  [ "$built" = "$digest" ] && exit 0
fi

if [ "${1:-}" = "--registry" ]; then
  podman_cmd build --label "dev.estuary.base-packages=$digest" -t "$name:$version" -t "$name:dev" .
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
  --change "LABEL dev.estuary.base-packages=$digest" \
  - "$name:$version" >/dev/null
podman_cmd tag "$name:$version" "$name:dev"
size=$(podman_cmd image inspect --format '{{.Size}}' "$name:$version")
echo "base-image: built $name:$version ($((size / 1000000)) MB)" >&2
