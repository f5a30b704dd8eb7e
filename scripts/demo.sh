#!/usr/bin/env bash
# The main job: runs a capture end to end and prints what it captures until Ctrl-C.
#
# Until the local runtime and the PostgreSQL connectors land, this drives source-hello-world
# directly over the JSON codec, acting as Flow's runtime would: it sends Open with the saved
# state, prints each captured document, acknowledges each checkpoint, and saves the state so
# that the next run resumes where this one stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
bazel build //source-hello-world >&2

BIN=bazel-bin/source-hello-world/source-hello-world
STATE_DIR=${DEMO_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/connectors-demo}
mkdir -p "$STATE_DIR"
STATE_FILE="$STATE_DIR/hello-world.state.json"
[ -s "$STATE_FILE" ] || echo '{}' >"$STATE_FILE"
state=$(cat "$STATE_FILE")

open='{"open":{"capture":{"name":"demo/hello","connectorType":"IMAGE","config":{"greeting":"Hello","interval_ms":500},"bindings":[{"resourceConfig":{"name":"greetings"},"resourcePath":["greetings"],"collection":{"name":"demo/greetings","key":["/id"]},"stateKey":"greetings"}]},"range":{"keyEnd":4294967295,"rClockEnd":4294967295},"state":'"$state"'}}'

echo "demo: capturing greetings (state in $STATE_FILE); Ctrl-C to stop" >&2
# Its own session: Ctrl-C reaches only this script, which forwards one SIGTERM.
coproc CONNECTOR { LOG_LEVEL=info exec setsid "$BIN" --codec=json; }
connector_pid=$CONNECTOR_PID
trap 'kill -TERM "$connector_pid" 2>/dev/null || true' INT TERM
printf '%s\n' "$open" >&"${CONNECTOR[1]}"

documents=0
while IFS= read -r line <&"${CONNECTOR[0]}"; do
  case "$line" in
    '{"captured":'*)
      documents=$((documents + 1))
      echo "${line#'{"captured":{"doc":'}" | sed 's/}}$//'
      ;;
    '{"checkpoint":'*)
      # The greeting counter is the whole state, so the latest patch is the new state.
      echo "$line" | sed 's/^{"checkpoint":{"state":{"updated":\(.*\),"mergePatch":true}}}$/\1/' \
        >"$STATE_FILE.tmp" && mv "$STATE_FILE.tmp" "$STATE_FILE"
      echo '{"acknowledge":{"checkpoints":1}}' >&"${CONNECTOR[1]}" 2>/dev/null || true
      ;;
  esac
done
wait "$connector_pid" && code=0 || code=$?
echo "demo: captured $documents documents; connector exited with code $code" >&2
exit "$code"
