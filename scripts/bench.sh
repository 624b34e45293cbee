#!/usr/bin/env bash
# Benchmarks of the kernel (release build), on SQLite and on PostgreSQL. Prints numbers.
#   scripts/bench.sh [ROWS] [sqlite|postgres|both]   (default 1000000 orders, both stores)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
STORES=${2:-both}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/formwork/target}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -p formwork >&2
BIN=$CARGO_TARGET_DIR/release/formwork
WORK=$(mktemp -d /tmp/formwork-bench.XXXXXX)
PORT=18088
BASE=http://127.0.0.1:$PORT
python3 bench/make_csv.py 100000 $WORK/orders.csv
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"

run_store() {
  local name=$1 url=$2
  echo "=== $name ==="
  FORMWORK_DATABASE__URL=$url FORMWORK_SERVER__PORT=$PORT FORMWORK_LOG__LEVEL=warn \
    FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD=bench-admin-password \
    FORMWORK_STORAGE__FILES_DIR=$WORK/files FORMWORK_AUDIT__SIGNING_KEY=$WORK/audit-signing.key "$BIN" serve > "$WORK/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf $BASE/api/v1/ready >/dev/null && break; sleep 0.1; done
  export FORMWORK_BENCH_TOKEN; FORMWORK_BENCH_TOKEN=$(python3 bench/auth.py $BASE admin bench-admin-password)
  local AUTH="authorization: Bearer $FORMWORK_BENCH_TOKEN"
  python3 bench/load.py $BASE 1 >/dev/null
  echo "-- import a 100,000-row CSV ($(du -h $WORK/orders.csv | cut -f1))"
  curl -sf -H "$AUTH" -o $WORK/import.json -w "   %{time_total} s, HTTP %{http_code}\n" -H 'content-type: text/csv' \
    --data-binary @$WORK/orders.csv "$BASE/api/v1/apps/bench/forms/order/records/import"
  python3 -c 'import json,sys; print("  ", json.load(open(sys.argv[1])))' $WORK/import.json
  echo "   server peak memory so far: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
  echo "-- export those 100,000 rows as XLSX, then import the XLSX"
  curl -sf -H "$AUTH" -o $WORK/orders.xlsx -w "   export %{time_total} s, %{size_download} bytes\n" \
    "$BASE/api/v1/apps/bench/forms/order/records/export?format=xlsx&fields=kind,priority,status,customer,fault,reported_at,labour_hours,satisfaction"
  curl -sf -H "$AUTH" -o $WORK/import2.json -w "   import %{time_total} s, HTTP %{http_code}\n" \
    -H 'content-type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
    --data-binary @$WORK/orders.xlsx "$BASE/api/v1/apps/bench/forms/order/records/import"
  python3 -c 'import json,sys; print("  ", json.load(open(sys.argv[1])))' $WORK/import2.json
  echo "   server peak memory so far: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
  echo "-- single-record creates, 32 connections, 20 s (validation, serial number, operation log on)"
  wrk -t2 -c32 -d20s -H "$AUTH" -s bench/create.lua $BASE/api/v1/apps/bench/forms/order/records | grep -E "Requests/sec|Latency|Non-2xx|Socket errors" || true
  echo "-- bulk-load up to $ROWS orders"
  python3 bench/load.py $BASE "$ROWS"
  local filter='%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22status%22%7D%2C%22accepted%22%5D%7D'
  for sort in -_id -reported_at; do
    local list="$BASE/api/v1/apps/bench/forms/order/records?limit=50&sort=$sort&filter=$filter"
    curl -sf -H "$AUTH" "$list" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("   page:", len(d["items"]), "items")'
    echo "-- list 50, filter status (indexed), sort $sort: unloaded (1 connection, 10 s)"
    wrk -t1 -c1 -d10s -H "$AUTH" --latency "$list" | grep -E "Requests/sec| 50%| 99%|Non-2xx" || true
    echo "-- list 50, filter status (indexed), sort $sort: 16 connections, 15 s"
    wrk -t2 -c16 -d15s -H "$AUTH" --latency "$list" | grep -E "Requests/sec| 50%| 99%|Non-2xx|Socket errors" || true
  done
  # Permissions: the same rows (status accepted, engineer1's orders) listed by the admin with
  # an explicit filter, and by engineer1 whose role scopes rows to their own and hides the fee.
  local eng; eng=$(python3 bench/auth.py $BASE engineer "$FORMWORK_BENCH_TOKEN")
  local both='%7B%22and%22%3A%5B%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22status%22%7D%2C%22accepted%22%5D%7D%2C%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22engineer%22%7D%2C%22engineer1%22%5D%7D%5D%7D'
  for who in admin engineer; do
    local list h
    if [ $who = admin ]; then list="$BASE/api/v1/apps/bench/forms/order/records?limit=50&sort=-_id&filter=$both"; h="$AUTH"
    else list="$BASE/api/v1/apps/bench/forms/order/records?limit=50&sort=-_id&filter=$filter"; h="authorization: Bearer $eng"; fi
    curl -sf -H "$h" "$list" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("   page:", len(d["items"]), "items, fee shown:", any("fee" in i["data"] for i in d["items"]))'
    echo "-- permissions: list 50 of engineer1's accepted orders as $who: unloaded (1 connection, 10 s)"
    wrk -t1 -c1 -d10s -H "$h" --latency "$list" | grep -E "Requests/sec| 50%| 99%|Non-2xx" || true
    echo "-- permissions: the same as $who, 16 connections, 15 s"
    wrk -t2 -c16 -d15s -H "$h" --latency "$list" | grep -E "Requests/sec| 50%| 99%|Non-2xx|Socket errors" || true
  done
  echo "-- server peak memory: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
  kill -TERM $pid; wait $pid || true
}

if [ "$STORES" != postgres ]; then
  run_store sqlite "sqlite://$WORK/bench.db"
fi
if [ "$STORES" != sqlite ]; then
  PG=$(scripts/pg-test-cluster.sh start | tail -n 1)
  psql "$PG" -qc "DROP DATABASE IF EXISTS formwork_bench" && psql "$PG" -qc "CREATE DATABASE formwork_bench"
  run_store postgres "${PG%/*}/formwork_bench"
fi
rm -rf "$WORK"
