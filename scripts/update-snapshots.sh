#!/usr/bin/env bash
# Reruns the scenario tests and rewrites their snapshot files with the current output
# (volatile values masked). Review the diff with `git diff` before committing.
# Arguments select targets (default: every test under //tests/...).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(//tests/...)
# Unsandboxed so the tests can write into the workspace; never served from the cache.
bazel test --spawn_strategy=local --nocache_test_results \
  --test_env=SNAPSHOT_UPDATE_DIR="$PWD" "${targets[@]}"
git status --short -- '*.snap'
