#!/usr/bin/env python3
"""Write N bench orders as CSV (no serial column: the server assigns it). Usage: make_csv.py N FILE"""
import csv
import random
import sys

n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
with open(path, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["kind", "priority", "status", "customer", "fault", "reported_at", "labour_hours", "satisfaction"])
    for i in range(n):
        w.writerow([
            rng.choice(["repair", "installation", "inspection", "calibration", "training"]),
            rng.choice(["urgent", "high", "normal", "low"]),
            rng.choice(["reported", "dispatched", "accepted", "on_site", "resolved", "closed"]),
            rng.randint(1, 200),
            "开机无显示,电源指示灯不亮 #%d" % i,
            "2025-%02d-%02dT%02d:%02d:00+08:00" % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 19), rng.randint(0, 59)),
            rng.randint(0, 80) / 10,
            rng.randint(50, 100),
        ])
