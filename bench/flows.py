#!/usr/bin/env python3
"""Flow benchmarks against a running server (docs/benchmarks.md, "Flows").

Usage: flows.py BASE_URL DB_FILE throughput N | timers N

throughput N: a 5-node automatic flow (record created → branch → update the record →
  notify → end) over N records bulk-created at once; prints instances completed per
  second, from the first record written to the last instance completed.
timers N: N instances waiting on a delay node (pending timers); then makes them all due
  at once (through the database, as if the time had come) and prints the lag between the
  due time and each timer's firing (p50 / p99 / max) and the server's memory.
Reads progress from the SQLite file DB_FILE (read-only). Stdlib only.
"""
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request

BASE, DB, MODE, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
API = BASE + "/api/v1"


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json", "authorization": "Bearer " + os.environ["FORMWORK_BENCH_TOKEN"]}
    req = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


def scalar(sql):
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def rss_mb():
    pid = os.environ.get("FORMWORK_BENCH_PID")
    if not pid:
        return None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


call("PUT", "/apps/fb", {"key": "fb", "label": {"en": "Flow bench"}, "time_zone": "Asia/Shanghai"})
call("POST", "/apps/fb/forms/job/publish", {
    "key": "job", "label": {"en": "Job"},
    "schema": {"type": "object", "properties": {
        "seq": {"type": "integer", "x-type": "integer"},
        "priority": {"type": "string", "x-type": "select", "enum": ["urgent", "normal"]},
        "status": {"type": "string", "x-type": "text"}}},
})
call("PUT", "/admin/users/admin", {}) if False else None


def bulk(n):
    for start in range(0, n, 1000):
        items = [{"data": {"seq": i, "priority": "urgent" if i % 2 else "normal"}} for i in range(start, min(n, start + 1000))]
        call("POST", "/apps/fb/forms/job/records/bulk", {"items": items})


if MODE == "throughput":
    call("POST", "/apps/fb/flows/auto/publish", {
        "key": "auto", "label": {"en": "Auto"},
        "trigger": {"type": "record_created", "form": "job"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "check", "type": "branch"},
            {"id": "mark", "type": "update_record", "set": {"status": "seen"}},
            {"id": "tell", "type": "notify", "to": {"user": "admin"}, "title": "Job {{record.seq}}"},
            {"id": "end", "type": "end"}],
        "edges": [
            {"from": "start", "to": "check"},
            {"from": "check", "to": "mark", "when": {"==": [{"var": "record.priority"}, "urgent"]}},
            {"from": "check", "to": "mark", "default": True},
            {"from": "mark", "to": "tell"}, {"from": "tell", "to": "end"}],
    })
    t0 = time.time()
    bulk(N)
    written = time.time() - t0
    while scalar("SELECT COUNT(*) FROM flow_instances WHERE flow = 'auto' AND status = 'completed'") < N:
        time.sleep(0.2)
    total = time.time() - t0
    print(f"flows throughput: {N} records written in {written:.1f} s (instances started in the same transactions); "
          f"all {N} five-node instances completed after {total:.1f} s: {N / total:.0f} instances/s")
elif MODE == "timers":
    call("POST", "/apps/fb/flows/later/publish", {
        "key": "later", "label": {"en": "Later"},
        "trigger": {"type": "record_created", "form": "job"},
        "nodes": [{"id": "start", "type": "start"}, {"id": "wait", "type": "delay", "days": 30},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "end"}],
    })
    bulk(N)
    while scalar("SELECT COUNT(*) FROM flow_tokens WHERE node = 'wait' AND status = 'waiting'") < N:
        time.sleep(0.5)
    idle = rss_mb()
    print(f"timers: {N} pending timers; server memory {idle:.0f} MB" if idle else f"timers: {N} pending")
    # All fall due now: the server polls every 250 ms, so each lag is measured from `due`.
    due = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due)) + ".000Z"
    con = sqlite3.connect(DB, timeout=60)
    con.execute("UPDATE flow_tokens SET due_at = ? WHERE node = 'wait' AND status = 'waiting'", (stamp,))
    con.commit()
    con.close()
    peak = idle or 0
    while scalar("SELECT COUNT(*) FROM flow_tokens WHERE node = 'wait' AND status = 'waiting'") > 0:
        peak = max(peak, rss_mb() or 0)
        time.sleep(0.2)
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    fired = [r[0] for r in con.execute("SELECT at FROM flow_steps WHERE action = 'timer' ORDER BY at")]
    con.close()
    import datetime
    base = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    lags = sorted(datetime.datetime.fromisoformat(a.replace("Z", "+00:00")).timestamp() - base for a in fired)
    pct = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
    print(f"timers: {len(lags)} fired; lag from due time p50 {pct(0.5):.2f} s, p99 {pct(0.99):.2f} s, max {lags[-1]:.2f} s; "
          f"peak server memory while firing {peak:.0f} MB")
