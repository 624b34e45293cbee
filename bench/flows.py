#!/usr/bin/env python3
"""Flow benchmarks against a running server (docs/benchmarks.md, "Flows").

Usage: flows.py BASE_URL DB_FILE throughput N | timers N

throughput N: a 5-node automatic flow (record created → branch → update the record →
  notify → end) over N records bulk-created at once; prints instances completed per
  second, from the first record written to the last instance completed.
timers N: N instances waiting on a delay node (pending timers); prints the server's memory
  with all N pending, then (through the database, as if the time had come) lets 10,000 of
  them fall due one after another over 20 s while the rest stay pending ("steady"), then
  every remaining one at the same instant ("burst"); for each, the lag between a timer's
  due time and its firing (p50 / p99 / max).
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
# timers: how many of the pending timers fall due one after another, and over how long.
STEADY = int(os.environ.get("FORMWORK_BENCH_STEADY", "10000"))
SPREAD = float(os.environ.get("FORMWORK_BENCH_SPREAD", "20"))
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
    import datetime

    def parse(a):
        return datetime.datetime.fromisoformat(a.replace("Z", "+00:00")).timestamp()

    def stamp_of(t):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"

    def report(label, lags):
        lags = sorted(lags)
        pct = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
        print(f"timers ({label}): {len(lags)} fired; lag from due time p50 {pct(0.5):.2f} s, "
              f"p99 {pct(0.99):.2f} s, max {lags[-1]:.2f} s")

    def wait_fired(instances):
        while True:
            con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=30)
            rows = dict(con.execute(
                "SELECT instance_id, at FROM flow_steps WHERE action = 'timer'").fetchall())
            con.close()
            if all(i in rows for i in instances):
                return rows
            time.sleep(0.2)

    con = sqlite3.connect(DB, timeout=60)
    pending = [r for r in con.execute(
        "SELECT id, instance_id FROM flow_tokens WHERE node = 'wait' AND status = 'waiting' ORDER BY id")]
    con.close()
    # Steady: while all N are pending, STEADY of them fall due one after the other over
    # SPREAD seconds (the usual case: timers coming due as time passes); the lag of each
    # is measured from its own due time. The server polls every 250 ms.
    steady = pending[:min(STEADY, len(pending) // 2)]
    start = time.time() + 2.0
    due = {inst: start + SPREAD * k / len(steady) for k, (_, inst) in enumerate(steady)}
    con = sqlite3.connect(DB, timeout=60)
    con.executemany("UPDATE flow_tokens SET due_at = ? WHERE id = ?",
                    [(stamp_of(due[inst]), tok) for tok, inst in steady])
    con.commit()
    con.close()
    fired = wait_fired(due.keys())
    report(f"steady: {len(steady)} falling due over {SPREAD:.0f} s among {len(pending)} pending",
           [parse(fired[i]) - parse(stamp_of(d)) for i, d in due.items()])
    # Burst: every remaining timer falls due at the same instant.
    rest = pending[len(steady):]
    base = time.time()
    stamp = stamp_of(base)
    con = sqlite3.connect(DB, timeout=60)
    con.execute("UPDATE flow_tokens SET due_at = ? WHERE node = 'wait' AND status = 'waiting'", (stamp,))
    con.commit()
    con.close()
    peak = idle or 0
    while scalar("SELECT COUNT(*) FROM flow_tokens WHERE node = 'wait' AND status = 'waiting'") > 0:
        peak = max(peak, rss_mb() or 0)
        time.sleep(0.2)
    fired = wait_fired([inst for _, inst in rest])
    report(f"burst: {len(rest)} due at one instant", [parse(fired[inst]) - parse(stamp) for _, inst in rest])
    print(f"timers: peak server memory while firing {peak:.0f} MB")
