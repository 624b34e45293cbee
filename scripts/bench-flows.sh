#!/usr/bin/env bash
# Flow benchmarks (release build, SQLite): throughput of a 5-node automatic flow and
# 100,000 pending timers (memory, lag from due time to firing). Prints numbers.
#   scripts/bench-flows.sh [INSTANCES] [TIMERS]   (default 20000 and 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
TIMERS=${2:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/formwork/target}
PROFILE=${FORMWORK_BENCH_PROFILE:-release}
if [[ $PROFILE == release ]]; then cargo build --release -p formwork >&2; else cargo build -p formwork >&2; fi
BIN=$CARGO_TARGET_DIR/$PROFILE/formwork
PORT=18089
BASE=http://127.0.0.1:$PORT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $PROFILE build"
for mode in throughput timers; do
  WORK=$(mktemp -d /tmp/formwork-flowbench.XXXXXX)
  FORMWORK_DATABASE__URL=sqlite://$WORK/fw.db FORMWORK_SERVER__PORT=$PORT FORMWORK_LOG__LEVEL=warn \
    FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD=bench-admin-password \
    FORMWORK_STORAGE__FILES_DIR=$WORK/files FORMWORK_AUDIT__SIGNING_KEY=$WORK/audit-signing.key "$BIN" serve > "$WORK/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf $BASE/api/v1/ready >/dev/null && break; sleep 0.1; done
  export FORMWORK_BENCH_TOKEN FORMWORK_BENCH_PID=$pid
  FORMWORK_BENCH_TOKEN=$(python3 bench/auth.py $BASE admin bench-admin-password)
  if [[ $mode == throughput ]]; then python3 bench/flows.py $BASE $WORK/fw.db throughput "$N"
  else python3 bench/flows.py $BASE $WORK/fw.db timers "$TIMERS"; fi
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$WORK"
done
