#!/usr/bin/env bash
# The main job: an embedded PostgreSQL, a demo database kept busy by a load generator, and
# flow-local running source-postgres -> collections -> materialize-postgres continuously.
# Progress is printed while it runs; on Ctrl-C the load stops, the pipeline drains, and the
# script verifies that every source table equals its destination table, row for row.
#
# State (the server, the runtime's data) lives in $DEMO_DIR (default
# ~/.local/state/connectors-demo, or /var/lib/connectors-demo for root, whose home the server's
# account cannot enter); a second run resumes where the first stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
bazel build //tests/runtime:flow-local //source-postgres //materialize-postgres >&2
bin=$PWD/bazel-bin

if [ "$(id -u)" -eq 0 ]; then
  DEMO_DIR=${DEMO_DIR:-/var/lib/connectors-demo}
else
  DEMO_DIR=${DEMO_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/connectors-demo}
fi
PORT=${DEMO_PG_PORT:-55432}
PASSWORD=demo-password
pgbin=/usr/lib/postgresql/15/bin
mkdir -p "$DEMO_DIR"
pgdata="$DEMO_DIR/pg"
# The server's log sits in its own folder so the server's account can write it.
mkdir -p "$DEMO_DIR/pg-log"

# PostgreSQL refuses to run as root: use Debian's postgres account then.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

if [ ! -f "$pgdata/PG_VERSION" ]; then
  echo "demo: creating the embedded PostgreSQL in $pgdata" >&2
  mkdir -p "$pgdata"
  [ ${#as_pg[@]} -eq 0 ] || { chmod 755 "$DEMO_DIR"; chown postgres "$pgdata" "$DEMO_DIR/pg-log"; }
  printf '%s\n' "$PASSWORD" >"$DEMO_DIR/pwfile"
  [ ${#as_pg[@]} -eq 0 ] || chown postgres "$DEMO_DIR/pwfile"
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U postgres --pwfile="$DEMO_DIR/pwfile" \
    --auth=scram-sha-256 >/dev/null
  cat >>"$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$pgdata'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
CONF
fi
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$DEMO_DIR/pg-log/postgresql.log" -w status >/dev/null 2>&1 ||
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$DEMO_DIR/pg-log/postgresql.log" -w start >/dev/null
stop_pg() { "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -w stop -m fast >/dev/null 2>&1 || true; }
trap stop_pg EXIT

export PGPASSWORD=$PASSWORD
psql_db() { psql -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -Atq -d "$@"; }
if [ "$(psql_db postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'demo_source'")" = 0 ]; then
  echo "demo: creating and filling demo_source" >&2
  psql_db postgres -c "CREATE DATABASE demo_source" -c "CREATE DATABASE demo_dest"
  psql_db demo_source <<'SQL'
CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner TEXT NOT NULL, balance NUMERIC(12,2) NOT NULL,
                       updated_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE transfers (id BIGSERIAL PRIMARY KEY, from_account BIGINT NOT NULL,
                        to_account BIGINT NOT NULL, amount NUMERIC(12,2) NOT NULL,
                        created_at TIMESTAMPTZ NOT NULL DEFAULT now());
INSERT INTO accounts (id, owner, balance)
  SELECT i, 'owner-' || i, (i % 1000) * 10 FROM generate_series(1, 20000) AS i;
INSERT INTO transfers (from_account, to_account, amount)
  SELECT 1 + i % 20000, 1 + (i * 7) % 20000, 1 + i % 100 FROM generate_series(1, 50000) AS i;
CREATE PUBLICATION flow_publication FOR TABLE accounts, transfers;
SQL
fi

catalog="$DEMO_DIR/catalog.yaml"
common=(--catalog "$catalog" --data-dir "$DEMO_DIR/data")
if [ ! -f "$catalog" ]; then
  cat >"$catalog" <<YAML
captures:
  demo/source-postgres:
    endpoint:
      local:
        command: [$bin/source-postgres/source-postgres]
        config: {address: "127.0.0.1:$PORT", user: postgres, password: $PASSWORD, database: demo_source}
YAML
  "$bin/tests/runtime/flow-local" discover "${common[@]}" --task demo/source-postgres --prefix demo >&2
  cat >>"$catalog" <<YAML
materializations:
  demo/materialize-postgres:
    endpoint:
      local:
        command: [$bin/materialize-postgres/materialize-postgres]
        config: {address: "127.0.0.1:$PORT", user: postgres, password: $PASSWORD, database: demo_dest, hardDelete: true}
    bindings:
      - source: demo/public/accounts
        resource: {table: accounts}
      - source: demo/public/transfers
        resource: {table: transfers}
YAML
fi

echo "demo: demo_source -> source-postgres -> flow-local -> materialize-postgres -> demo_dest" >&2
echo "demo: a load generator keeps changing demo_source; Ctrl-C to stop and verify" >&2
# Its own session: Ctrl-C reaches only this script.
setsid "$bin/tests/runtime/flow-local" run "${common[@]}" &
runtime=$!

load() {
  while true; do
    psql_db demo_source >/dev/null 2>&1 <<'SQL' || true
BEGIN;
UPDATE accounts SET balance = balance + 1, updated_at = now() WHERE id = 1 + (random() * 19999)::int;
INSERT INTO transfers (from_account, to_account, amount)
  SELECT 1 + (random() * 19999)::int, 1 + (random() * 19999)::int, 1 + (random() * 100)::int
  FROM generate_series(1, 20);
DELETE FROM transfers WHERE id = (SELECT min(id) FROM transfers);
INSERT INTO accounts (id, owner, balance) SELECT max(id) + 1, 'new', 0 FROM accounts;
COMMIT;
SQL
    sleep 0.2
  done
}
setsid bash -c "$(declare -f psql_db load); PORT=$PORT PGPASSWORD=$PASSWORD load" &
loader=$!

stopping=false
trap 'stopping=true' INT TERM
while ! $stopping && kill -0 "$runtime" 2>/dev/null; do sleep 1 || true; done
trap - INT TERM
kill -TERM -- "-$loader" 2>/dev/null || kill -TERM "$loader" 2>/dev/null || true
wait "$loader" 2>/dev/null || true
kill -0 "$runtime" 2>/dev/null || { echo "demo: the pipeline stopped unexpectedly" >&2; exit 1; }

# The load has stopped: wait until both tables agree, while the pipeline drains.
fingerprint() {
  psql_db "$1" -c "SELECT count(*), md5(coalesce(string_agg(id || ':' || balance, ',' ORDER BY id), '')) FROM $2" 2>/dev/null
}
fingerprint_transfers() {
  psql_db "$1" -c "SELECT count(*), md5(coalesce(string_agg(id || ':' || amount, ',' ORDER BY id), '')) FROM $2" 2>/dev/null
}
agreed=false
for _ in $(seq 1 120); do
  if [ "$(fingerprint demo_source accounts)" = "$(fingerprint demo_dest accounts)" ] &&
     [ "$(fingerprint_transfers demo_source transfers)" = "$(fingerprint_transfers demo_dest transfers)" ]; then
    agreed=true
    break
  fi
  sleep 1 || true
done
kill -TERM "$runtime" 2>/dev/null || true
wait "$runtime" || true

accounts=$(fingerprint demo_source accounts | cut -d'|' -f1)
transfers=$(fingerprint_transfers demo_source transfers | cut -d'|' -f1)
if $agreed; then
  echo "demo: verified: demo_dest equals demo_source row for row ($accounts accounts, $transfers transfers)"
else
  echo "demo: MISMATCH: accounts $(fingerprint demo_source accounts) vs $(fingerprint demo_dest accounts);" \
    "transfers $(fingerprint_transfers demo_source transfers) vs $(fingerprint_transfers demo_dest transfers)" >&2
  exit 1
fi
