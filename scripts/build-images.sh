#!/usr/bin/env bash
# Builds connector images with podman: `./scripts/build-images.sh` for every connector
# directory that has a Dockerfile, or `./scripts/build-images.sh source-hello-world ...`.
# Each is tagged localhost/<connector>:<VERSION> and :dev on localhost/connectors-base:dev,
# which is built first if missing or built from another packages.txt (--rebuild-base forces it). Prints each image's size.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source tools/podman/podman.sh

rebuild_base=false
connectors=()
for arg in "$@"; do
  if [ "$arg" = "--rebuild-base" ]; then rebuild_base=true; else connectors+=("${arg%/}"); fi
done
if [ ${#connectors[@]} -eq 0 ]; then
  for dockerfile in */Dockerfile; do
    dir=${dockerfile%/Dockerfile}
    [ "$dir" = base-image ] || connectors+=("$dir")
  done
fi

if $rebuild_base; then
  ./base-image/build.sh
else
  ./base-image/build.sh --if-stale
fi

bazel build "${connectors[@]/#/\/\/}" >&2
for connector in "${connectors[@]}"; do
  version=$(cat "$connector/VERSION")
  context=$(mktemp -d)
  cp "$connector/Dockerfile" "$context/"
  cp "bazel-bin/$connector/$connector" "$context/"
  podman_cmd build --quiet --build-arg VERSION="$version" \
    -t "localhost/$connector:$version" -t "localhost/$connector:dev" "$context" >/dev/null
  rm -rf "$context"
  size=$(podman_cmd image inspect --format '{{.Size}}' "localhost/$connector:$version")
  echo "built localhost/$connector:$version ($((size / 1000000)) MB)"
done
