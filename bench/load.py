#!/usr/bin/env python3
"""Bench helper: define the bench app and bulk-load N orders through the HTTP API.

Usage: load.py BASE_URL COUNT
Deterministic (seeded); stdlib only. Prints the load rate.
"""
import json
import os
import random
import sys
import threading
import time
import urllib.request

BASE, COUNT = sys.argv[1], int(sys.argv[2])
API = BASE + "/api/v1"


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json", "authorization": "Bearer " + os.environ["FORMWORK_BENCH_TOKEN"]}
    req = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read() or b"null")


call("PUT", "/apps/bench", {"key": "bench", "label": {"en": "Bench"}, "time_zone": "Asia/Shanghai"})
call("POST", "/apps/bench/forms/customer/publish", {
    "key": "customer", "label": {"en": "Customer"},
    "schema": {"type": "object", "properties": {"name": {"type": "string", "x-type": "text"}}, "required": ["name"]},
})
call("POST", "/apps/bench/forms/order/publish", {
    "key": "order", "label": {"en": "Order"},
    "indexes": [["status", "reported_at"], ["engineer", "status"]],
    "schema": {"type": "object", "additionalProperties": False, "required": ["kind", "priority", "status", "customer", "fault"],
               "properties": {
                   "serial": {"type": "string", "x-type": "serial", "x-serial": "SO-{yyyyMMdd}-{000000}", "readOnly": True},
                   "kind": {"type": "string", "x-type": "select", "enum": ["repair", "installation", "inspection", "calibration", "training"]},
                   "priority": {"type": "string", "x-type": "select", "enum": ["urgent", "high", "normal", "low"], "x-indexed": True},
                   "status": {"type": "string", "x-type": "select", "enum": ["reported", "dispatched", "accepted", "on_site", "resolved", "closed"], "x-indexed": True},
                   "customer": {"type": "integer", "x-type": "reference", "x-ref": {"form": "customer"}, "x-indexed": True},
                   "fault": {"type": "string", "x-type": "long_text", "maxLength": 2000},
                   "reported_at": {"type": "string", "x-type": "datetime", "x-indexed": True},
                   "labour_hours": {"type": "number", "x-type": "number", "minimum": 0},
                   "satisfaction": {"type": "integer", "x-type": "integer", "minimum": 0, "maximum": 100},
                   "engineer": {"type": "string", "x-type": "member", "x-indexed": True},
                   "fee": {"type": "number", "x-type": "money"},
               }},
})
# The engineers orders are assigned to (member fields name existing users).
users = {u["username"] for u in call("GET", "/admin/users")["items"]}
for n in range(1, 21):
    if "engineer%d" % n not in users:
        call("POST", "/admin/users", {"username": "engineer%d" % n, "display_name": "engineer%d" % n,
                                      "password": "bench-engineer-password"})
existing = call("GET", "/apps/bench/forms/customer/records?limit=1")
if not existing["items"]:
    call("POST", "/apps/bench/forms/customer/records/bulk", {"items": [{"data": {"name": f"Hospital {i}"}} for i in range(1, 201)]})
customers = [r["id"] for r in call("GET", "/apps/bench/forms/customer/records?limit=200&fields=name")["items"]]

rng = random.Random(20261122)
KINDS = ["repair", "installation", "inspection", "calibration", "training"]
PRIOS = ["urgent", "high", "normal", "low"]
STATUS = ["reported", "dispatched", "accepted", "on_site", "resolved", "closed"]
BATCH = 1000
batches = []
for start in range(0, COUNT, BATCH):
    items = []
    for i in range(start, min(COUNT, start + BATCH)):
        items.append({"data": {
            "kind": rng.choice(KINDS), "priority": rng.choice(PRIOS), "status": rng.choice(STATUS),
            "customer": rng.choice(customers), "fault": "开机无显示,电源指示灯不亮 #%d" % i,
            "reported_at": "2025-%02d-%02dT%02d:%02d:00+08:00" % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 19), rng.randint(0, 59)),
            "labour_hours": rng.randint(0, 80) / 10, "satisfaction": rng.randint(50, 100),
            "engineer": "engineer%d" % rng.randint(1, 20), "fee": rng.randint(0, 500000) / 100,
        }})
    batches.append(items)

lock = threading.Lock()
todo = list(batches)


def worker():
    while True:
        with lock:
            if not todo:
                return
            items = todo.pop()
        call("POST", "/apps/bench/forms/order/records/bulk", {"items": items})


t0 = time.time()
threads = [threading.Thread(target=worker) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
dt = time.time() - t0
print(f"loaded {COUNT} orders in {dt:.1f}s ({COUNT / dt:.0f} records/s through the bulk API)")
