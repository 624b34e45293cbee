#!/usr/bin/env bash
# The import benchmark alone (release build, SQLite by default): a 100,000-row CSV and the
# same rows as XLSX; prints the total time, the server's own split (checking the file /
# writing it) and the server's peak memory.
#   scripts/bench-import.sh [ROWS] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-100000}
STORE=${2:-sqlite}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/formwork/target}
cargo build --release -p formwork >&2
BIN=$CARGO_TARGET_DIR/release/formwork
WORK=$(mktemp -d /tmp/formwork-bench-import.XXXXXX)
PORT=18089
BASE=http://127.0.0.1:$PORT
python3 bench/make_csv.py "$ROWS" $WORK/orders.csv
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $ROWS rows on $STORE"
if [ "$STORE" = postgres ]; then
  PG=$(scripts/pg-test-cluster.sh start | tail -n 1)
  psql "$PG" -qc "DROP DATABASE IF EXISTS formwork_bench_import" && psql "$PG" -qc "CREATE DATABASE formwork_bench_import"
  URL="${PG%/*}/formwork_bench_import"
else
  URL="sqlite://$WORK/bench.db"
fi
FORMWORK_DATABASE__URL=$URL FORMWORK_SERVER__PORT=$PORT FORMWORK_LOG__LEVEL=info FORMWORK_LOG__FORMAT=json \
  FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD=bench-admin-password \
  FORMWORK_STORAGE__FILES_DIR=$WORK/files FORMWORK_AUDIT__SIGNING_KEY=$WORK/audit-signing.key "$BIN" serve > "$WORK/server.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf $BASE/api/v1/ready >/dev/null && break; sleep 0.1; done
export FORMWORK_BENCH_TOKEN; FORMWORK_BENCH_TOKEN=$(python3 bench/auth.py $BASE admin bench-admin-password)
AUTH="authorization: Bearer $FORMWORK_BENCH_TOKEN"
python3 bench/load.py $BASE 1 >/dev/null
split() {
  python3 - "$WORK/server.log" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    f = e.get("fields", {})
    if f.get("message") in ("import checked", "import written"):
        seen[f["message"]] = f.get("ms")
print("   server: checked in %s ms, written in %s ms" % (seen.get("import checked"), seen.get("import written")))
PY
}
echo "-- import the CSV ($(du -h $WORK/orders.csv | cut -f1))"
curl -sf -H "$AUTH" -o $WORK/import.json -w "   %{time_total} s, HTTP %{http_code}\n" -H 'content-type: text/csv' \
  --data-binary @$WORK/orders.csv "$BASE/api/v1/apps/bench/forms/order/records/import"
python3 -c 'import json,sys; print("  ", json.load(open(sys.argv[1])))' $WORK/import.json
split
echo "   server peak memory so far: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
echo "-- export the rows as XLSX, then import the XLSX"
curl -sf -H "$AUTH" -o $WORK/orders.xlsx -w "   export %{time_total} s, %{size_download} bytes\n" \
  "$BASE/api/v1/apps/bench/forms/order/records/export?format=xlsx&limit=$ROWS&fields=kind,priority,status,customer,fault,reported_at,labour_hours,satisfaction"
curl -sf -H "$AUTH" -o $WORK/import2.json -w "   import %{time_total} s, HTTP %{http_code}\n" \
  -H 'content-type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
  --data-binary @$WORK/orders.xlsx "$BASE/api/v1/apps/bench/forms/order/records/import"
python3 -c 'import json,sys; print("  ", json.load(open(sys.argv[1])))' $WORK/import2.json
split
echo "   server peak memory: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
[ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
