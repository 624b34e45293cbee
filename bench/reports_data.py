#!/usr/bin/env python3
"""Bench helper: write N service orders of the CRM straight into a Formwork SQLite file
(after `formwork app import`), two years of `reported_at` in +08:00, the fields the
report benchmark groups and aggregates. Straight inserts, because the benchmark measures
reports, not writes (see scripts/bench.sh for those).

  reports_data.py DB_FILE N
Stdlib only.
"""
import json
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

db, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261123)
con = sqlite3.connect(db)
version = con.execute(
    "SELECT published_version FROM forms WHERE app = 'crm' AND key = 'service_order'"
).fetchone()[0]
start = datetime(2024, 11, 22, tzinfo=timezone(timedelta(hours=8)))
span = 2 * 365 * 24 * 3600
now = "2026-11-22T00:00:00.000Z"
PRIORITIES = ["urgent", "high", "normal", "low"]
STATUSES = ["reported", "dispatched", "accepted", "in_progress", "resolved", "closed"]
KINDS = ["repair", "installation", "inspection", "calibration", "training"]


def rows():
    for i in range(n):
        at = start + timedelta(seconds=rng.randrange(span))
        data = {
            "serial": f"SO-B-{i:07d}",
            "kind": rng.choice(KINDS),
            "priority": rng.choice(PRIORITIES),
            "status": rng.choice(STATUSES),
            "engineer": f"engineer{rng.randrange(1, 5)}",
            "fault_code": rng.choice(["E101", "E203", "E305", "E402", "E517", "W011"]),
            "reported_at": at.isoformat(timespec="seconds"),
            "resolved_at": (at + timedelta(hours=rng.uniform(1, 96))).isoformat(timespec="seconds"),
            "service_fee": round(rng.uniform(0, 5000), 2),
            "labour_hours": round(rng.uniform(0.5, 8), 1),
            "second_handling": rng.random() < 0.1,
        }
        if rng.random() < 0.8:
            data["satisfaction"] = rng.randrange(60, 101)
        yield ("crm", "service_order", version, json.dumps(data, ensure_ascii=False), "engineer1", "svc_east", "bench", now, "bench", now)


con.execute("PRAGMA journal_mode=WAL")
con.executemany(
    "INSERT INTO records (app, form, form_version, data, owner_user, owner_dept, created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    rows(),
)
con.commit()
print(f"{n} service orders written", file=sys.stderr)
