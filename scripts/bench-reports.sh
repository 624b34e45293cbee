#!/usr/bin/env bash
# Report benchmarks (release build, SQLite). Prints numbers; see docs/benchmarks.md.
#   scripts/bench-reports.sh [ROWS]      (default 1,000,000 service orders)
# 1. ROWS service orders over two years: the month × priority report (count, average
#    satisfaction, sum of fees) through the API — first run (cache build) and warm runs —
#    side by side with the same GROUP BY in SQLite; the server's memory before and after.
# 2. The CRM's service dashboard (all its widgets at once) over the two years of demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${1:-1000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/formwork/target}
[ -n "${NO_BUILD:-}" ] || cargo build --release -p formwork >&2
BIN=$CARGO_TARGET_DIR/release/formwork
WORK=$(mktemp -d /tmp/formwork-bench-reports.XXXXXX)
PORT=18089
BASE=http://127.0.0.1:$PORT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"

serve() {
  FORMWORK_DATABASE__URL=sqlite://$1 FORMWORK_SERVER__PORT=$PORT FORMWORK_LOG__LEVEL=warn \
    FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD=bench-admin-password \
    FORMWORK_STORAGE__FILES_DIR=$WORK/files FORMWORK_AUDIT__SIGNING_KEY=$WORK/audit-signing.key "$BIN" serve > "$WORK/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do curl -sf $BASE/api/v1/ready >/dev/null && break; sleep 0.1; done
  TOKEN=$(python3 bench/auth.py $BASE admin bench-admin-password)
}
rss() { grep VmRSS /proc/$PID/status | awk '{printf "%.0f MB", $2/1024}'; }
# A server left running would answer the next run on this port.
trap '[ -n "${PID:-}" ] && kill $PID 2>/dev/null || true' EXIT

echo "=== $ROWS service orders (SQLite) ==="
DB=$WORK/big.db
FORMWORK_DATABASE__URL=sqlite://$DB FORMWORK_LOG__LEVEL=warn "$BIN" app import seed-apps/medical-device-crm >/dev/null
t0=$(date +%s.%N)
python3 bench/reports_data.py $DB $ROWS
echo "   written in $(echo "$(date +%s.%N) - $t0" | bc) s"
serve $DB
echo "-- orders_by_month: month × priority, count, average satisfaction, sum of fees"
echo "   server memory before: $(rss)"
python3 bench/report_runs.py $BASE $TOKEN report orders_by_month 30
echo "   server memory after: $(rss) (the difference is the cache of $ROWS orders and its month buckets)"
echo "-- the same GROUP BY in SQLite (sqlite3 from Python, same file)"
python3 - "$DB" <<'PY'
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1])
sql = """SELECT strftime('%Y-%m', json_extract(data, '$.reported_at'), '+8 hours') AS m,
  json_extract(data, '$.priority') AS p, COUNT(*), AVG(json_extract(data, '$.satisfaction')),
  SUM(json_extract(data, '$.service_fee'))
  FROM records WHERE app = 'crm' AND form = 'service_order' AND deleted_at IS NULL GROUP BY 1, 2"""
times = []
for _ in range(3):
    t = time.perf_counter(); rows = con.execute(sql).fetchall(); times.append((time.perf_counter() - t) * 1000)
print(f"   SQL GROUP BY: best {min(times):.0f} ms of 3, {len(rows)} rows")
PY
echo "-- the service dashboard over the same $ROWS orders"
python3 bench/report_runs.py $BASE $TOKEN dashboard service 10
kill $PID; wait $PID 2>/dev/null || true

echo "=== the service dashboard over two years of demo data (small scale) ==="
DB=$WORK/demo.db
FORMWORK_DATABASE__URL=sqlite://$DB FORMWORK_LOG__LEVEL=warn "$BIN" app import seed-apps/medical-device-crm >/dev/null
FORMWORK_DATABASE__URL=sqlite://$DB FORMWORK_LOG__LEVEL=warn FORMWORK_STORAGE__FILES_DIR=$WORK/files FORMWORK_AUDIT__SIGNING_KEY=$WORK/audit-signing.key \
  "$BIN" demo-data seed-apps/medical-device-crm --scale small >/dev/null
serve $DB
python3 bench/report_runs.py $BASE $TOKEN dashboard service 20
kill $PID; wait $PID 2>/dev/null || true
rm -rf "$WORK"
