#!/usr/bin/env bash
# Builds a filesource fuzz target with clang's libFuzzer (+ ASan/UBSan) and fuzzes it, starting
# from the seed corpus. New interesting inputs go to a scratch corpus dir; crashes to ./crash-*.
#
#   libs/filesource/fuzz/run.sh csv 300        # fuzz the CSV parser for 300 s
#   libs/filesource/fuzz/run.sh all 60         # every target, 60 s each
#
# Targets: csv, json, w3c, decompress, parse_file. Needs clang and libclang-rt-14-dev
# (scripts/setup.sh installs them). Built outside Bazel, whose toolchain is GCC.
set -euo pipefail
cd "$(dirname "$0")/../../.."
target="${1:-all}"
seconds="${2:-60}"
out="${FUZZ_OUT:-/tmp/filesource-fuzz}"
mkdir -p "$out"

sources=(libs/filesource/{avro,xlsx,byte_source,csv,decompress,document,encoding,json_records,parse,parser_config,state}.cc
         libs/json/{parse,writer,pointer,merge_patch}.cc)
absl=$(sed -n '/^ABSL_LIBS = \[/,/^\]/p' third_party/BUILD.bazel | grep -o '"[a-z_0-9]*"' | tr -d '"' |
       sed 's/^/-labsl_/' | tr '\n' ' ')

build() {
  local name=$1
  echo "building $name" >&2
  clang++ -std=c++20 -O1 -g -march=x86-64-v3 -fsanitize=fuzzer,address,undefined \
    -I. "libs/filesource/fuzz/${name}_fuzz.cc" "${sources[@]}" \
    -lsimdjson -lz -lzstd -lavro -lexpat $absl -pthread -o "$out/${name}_fuzz"
}

run() {
  local name=$1
  build "$name"
  # libavro leaks its own allocations when a container header is malformed (not ours).
  export LSAN_OPTIONS="suppressions=libs/filesource/fuzz/lsan.supp:print_suppressions=0"
  # libavro sizes buffers from lengths in the file; a corrupt length asks for an impossible
  # allocation, which fails (an error, as in production) instead of aborting the fuzzer.
  export ASAN_OPTIONS="allocator_may_return_null=1"
  mkdir -p "$out/corpus-$name"
  "$out/${name}_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix="$out/${name}-" "$out/corpus-$name" "libs/filesource/fuzz/corpus/$name"
}

if [ "$target" = all ]; then
  for name in csv json w3c decompress parse_file; do run "$name"; done
else
  run "$target"
fi
