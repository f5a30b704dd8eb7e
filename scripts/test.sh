#!/usr/bin/env bash
# Builds and runs every test: `./scripts/test.sh` (add --asan for AddressSanitizer + UBSan;
# any other arguments go to `bazel test`). Ends with bazel's summary and an
# "N passed, N failed" line counting test cases.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || exit 1

args=()
for arg in "$@"; do
  if [ "$arg" = "--asan" ]; then args+=(--config=asan); else args+=("$arg"); fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel test "${args[@]}" //... 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Count test cases from the JUnit XML of every test target bazel reported on.
passed=0
failed=0
skipped=0
skipped_names=()
while read -r target; do
  xml="bazel-testlogs/${target#//}"
  xml="${xml/://}/test.xml"
  if [ -f "$xml" ]; then
    tests=$(grep -o '<testsuites[^>]*' "$xml" | grep -o ' tests="[0-9]*"' | grep -o '[0-9]*' | head -1)
    failures=$(grep -o '<testsuites[^>]*' "$xml" | grep -o ' failures="[0-9]*"' | grep -o '[0-9]*' | head -1)
    errors=$(grep -o '<testsuites[^>]*' "$xml" | grep -o ' errors="[0-9]*"' | grep -o '[0-9]*' | head -1)
    bad=$(( ${failures:-0} + ${errors:-0} ))
    skips=$(grep -c 'result="skipped"' "$xml" || true)
    if [ "$skips" -gt 0 ]; then
      skipped=$(( skipped + skips ))
      skipped_names+=("$target ($skips)")
    fi
    if grep -q "^$target .*\(FAILED\|TIMEOUT\|NO STATUS\)" "$log" && [ "$bad" -eq 0 ]; then bad=1; fi
    passed=$(( passed + ${tests:-0} - bad - skips ))
    failed=$(( failed + bad ))
  else
    failed=$(( failed + 1 ))
  fi
done < <(grep -oE '^//[^ ]+' "$log" | sort -u)

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$skipped" -gt 0 ]; then
  echo "WARNING: $skipped test cases SKIPPED (not passed): ${skipped_names[*]}"
fi
echo "$passed passed, $failed failed"
exit "$status"
