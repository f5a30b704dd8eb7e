#!/usr/bin/env bash
# Builds every benchmark optimized and runs each one, printing its table: `./bench/run.sh`.
# Arguments go to every benchmark binary (e.g. `--seconds=0.2 --repeats=1` for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# --symlink_prefix=/ leaves the bazel-bin symlink alone: it keeps pointing at the default
# (fastbuild) outputs that the other scripts use.
build=(-c opt --symlink_prefix=/)
bazel build "${build[@]}" //bench:all >&2
bin=$(bazel info "${build[@]}" bazel-bin 2>/dev/null)

for target in $(bazel query 'kind("cc_binary", //bench:all)' 2>/dev/null | sort); do
  name=${target##*:}
  echo "== $target ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores)"
  "$bin/bench/$name" "$@"
  echo
done
