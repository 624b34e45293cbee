#!/usr/bin/env python3
"""Bench helper: time report runs through the HTTP API.

  report_runs.py BASE TOKEN report KEY N         first run, then N warm runs, then N runs
                                                 each after a write: ms
  report_runs.py BASE TOKEN dashboard KEY N      all widgets of a dashboard at once
                                                 (as the page does), N times, then N times
                                                 each after a write: ms
Stdlib only.
"""
import json
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE, TOKEN, WHAT, KEY, N = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
API = BASE + "/api/v1/apps/crm"


def call(method, path, body=None):
    req = urllib.request.Request(
        API + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"authorization": "Bearer " + TOKEN, "content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def run(key):
    t = time.perf_counter()
    out = call("POST", f"/reports/{key}/run", {})
    return (time.perf_counter() - t) * 1000, out


def summary(name, times):
    times = sorted(times)
    print(f"   {name}: median {statistics.median(times):.1f} ms, best {times[0]:.1f} ms, worst {times[-1]:.1f} ms ({len(times)} runs)")


if WHAT == "report":
    ms, out = run(KEY)
    print(f"   first run (builds the cache): {ms:.0f} ms, {len(out['rows'])} rows, {out['total_rows']} records")
    summary("warm, nothing changed since the last run (result reused)", [run(KEY)[0] for _ in range(N)])
    # A new service order before each run (not timed): the run catches the cache up from
    # the operation log and computes the report again over the changed data.
    customer = call("POST", "/forms/customer/records",
                    {"data": {"name": "基准测试医院", "customer_type": "hospital"}})["id"]
    after = []
    for i in range(N):
        call("POST", "/forms/service_order/records",
             {"data": {"kind": "repair", "priority": "normal", "status": "reported", "customer": customer,
                       "fault_description": f"bench write {i}", "reported_at": "2026-11-20T10:00:00+08:00"}})
        after.append(run(KEY)[0])
    summary("warm, after a write (computed again)", after)
else:
    widgets = call("GET", f"/dashboards/{KEY}")["definition"]["widgets"]
    keys = [w["report"] for w in widgets]

    def once():
        t = time.perf_counter()
        with ThreadPoolExecutor(len(keys)) as ex:
            list(ex.map(run, keys))
        return (time.perf_counter() - t) * 1000

    print(f"   first load (builds the caches): {once():.0f} ms, {len(keys)} widgets: {', '.join(keys)}")
    summary("warm dashboard", [once() for _ in range(N)])
    # A changed service order before each load (not timed): every widget over orders runs
    # on changed data.
    order = call("GET", "/forms/service_order/records?limit=1")["items"][0]["id"]
    after = []
    for i in range(N):
        call("PATCH", f"/forms/service_order/records/{order}", {"data": {"fault_description": f"bench write {i}"}})
        after.append(once())
    summary("dashboard after a write", after)
