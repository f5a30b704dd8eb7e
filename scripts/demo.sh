#!/usr/bin/env bash
# The main job: a local pipeline run by flow-local until Ctrl-C, then a check that the source
# and the destination agree.
#
# Until the PostgreSQL connectors land, the pipeline is source-hello-world -> collection ->
# materialize-sqlite: greetings are captured into a durable collection journal and
# materialized into a SQLite database, exactly once, resuming where the last run stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
targets=(//tests/runtime:flow-local //source-hello-world //tests/runtime/fixtures:materialize-sqlite)
bazel build "${targets[@]}" >&2
bin=$PWD/bazel-bin

DEMO_DIR=${DEMO_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/connectors-demo}
mkdir -p "$DEMO_DIR"
cat >"$DEMO_DIR/catalog.yaml" <<YAML
captures:
  demo/hello:
    endpoint:
      local:
        command: [$bin/source-hello-world/source-hello-world]
        config: {greeting: Hello, interval_ms: 200}
    bindings:
      - resource: {name: greetings}
        target: demo/greetings
collections:
  demo/greetings:
    key: [/id]
    schema:
      type: object
      properties:
        id: {type: integer}
        message: {type: string}
        ts: {type: string, format: date-time}
      required: [id, message, ts]
materializations:
  demo/to-sqlite:
    endpoint:
      local:
        command: [$bin/tests/runtime/fixtures/materialize-sqlite]
        config: {path: $DEMO_DIR/greetings.db}
    bindings:
      - source: demo/greetings
        resource: {table: greetings}
YAML

flow_local=("$bin/tests/runtime/flow-local")
common=(--catalog "$DEMO_DIR/catalog.yaml" --data-dir "$DEMO_DIR/data")
echo "demo: running demo/hello -> demo/greetings -> $DEMO_DIR/greetings.db; Ctrl-C to stop" >&2
# Its own session: Ctrl-C reaches only this script, which forwards one SIGTERM.
setsid "${flow_local[@]}" run "${common[@]}" &
runtime=$!
trap 'kill -TERM "$runtime" 2>/dev/null || true' INT TERM
wait "$runtime" || wait "$runtime" || true
trap - INT TERM

echo "demo: stopped; materializing what is left, then verifying" >&2
"${flow_local[@]}" materialize "${common[@]}" --task demo/to-sqlite --until-caught-up --log-level warn

journal="$DEMO_DIR/data/collections/demo%2Fgreetings.jsonl"
captured=$(wc -l <"$journal")
read -r rows min_id max_id <<<"$(sqlite3 -separator ' ' "$DEMO_DIR/greetings.db" \
  "SELECT count(*), coalesce(min(json_extract(doc,'$.id')),0), coalesce(max(json_extract(doc,'$.id')),-1) FROM greetings")"
echo "demo: collection demo/greetings holds $captured documents; greetings.db holds $rows rows (ids $min_id..$max_id)"
if [ "$captured" -eq "$rows" ] && [ "$max_id" -eq $((rows - 1)) ] && [ "$min_id" -eq 0 ]; then
  echo "demo: verified: source and destination agree"
else
  echo "demo: MISMATCH between source and destination" >&2
  exit 1
fi
