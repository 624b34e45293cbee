#!/usr/bin/env bash
# PostgreSQL list pages, the two ways the server builds them, on one server and one data
# set (release build): as JSON text inside PostgreSQL (a plain list, since session 6) and
# parsed into Rust values first (what a list with `fields` or `expand` takes: it is shaped
# after parsing; until session 12 it was read row by row). Prints wrk numbers.
#   scripts/bench-pg-lists.sh [ROWS]      (default 100,000 orders)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/formwork/target}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -n "${NO_BUILD:-}" ] || cargo build --release -p formwork >&2
BIN=$CARGO_TARGET_DIR/release/formwork
WORK=$(mktemp -d /tmp/formwork-bench-pg.XXXXXX)
PORT=18090
BASE=http://127.0.0.1:$PORT
PG=$(scripts/pg-test-cluster.sh start | tail -n 1)
psql "$PG" -qc "DROP DATABASE IF EXISTS formwork_bench_lists" && psql "$PG" -qc "CREATE DATABASE formwork_bench_lists"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); PostgreSQL, $ROWS orders"
FORMWORK_DATABASE__URL=${PG%/*}/formwork_bench_lists FORMWORK_SERVER__PORT=$PORT FORMWORK_LOG__LEVEL=warn \
  FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD=bench-admin-password \
  FORMWORK_STORAGE__FILES_DIR=$WORK/files FORMWORK_AUDIT__SIGNING_KEY=$WORK/audit-signing.key "$BIN" serve > "$WORK/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf $BASE/api/v1/ready >/dev/null && break; sleep 0.1; done
export FORMWORK_BENCH_TOKEN; FORMWORK_BENCH_TOKEN=$(python3 bench/auth.py $BASE admin bench-admin-password)
AUTH="authorization: Bearer $FORMWORK_BENCH_TOKEN"
python3 bench/load.py $BASE "$ROWS"
psql "${PG%/*}/formwork_bench_lists" -qc "VACUUM ANALYZE records"
filter='%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22status%22%7D%2C%22accepted%22%5D%7D'
ALL_FIELDS=serial,kind,priority,status,customer,fault,reported_at,engineer,labour_hours,satisfaction,fee
for how in "json-in-database" "shaped"; do
  list="$BASE/api/v1/apps/bench/forms/order/records?limit=50&sort=-_id&filter=$filter"
  [ $how = shaped ] && list="$list&fields=$ALL_FIELDS"
  curl -sf -H "$AUTH" "$list" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("   page:", len(d["items"]), "items,", len(json.dumps(d)), "bytes")'
  echo "-- list 50 ($how): unloaded (1 connection, 10 s)"
  wrk -t1 -c1 -d10s -H "$AUTH" --latency "$list" | grep -E "Requests/sec| 50%| 99%|Non-2xx" || true
  echo "-- list 50 ($how): 16 connections, 15 s"
  wrk -t2 -c16 -d15s -H "$AUTH" --latency "$list" | grep -E "Requests/sec| 50%| 99%|Non-2xx|Socket errors" || true
done
