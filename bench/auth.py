#!/usr/bin/env python3
"""Bench helper: print an API token.

  auth.py BASE admin PASSWORD          token of the first administrator
  auth.py BASE engineer ADMIN_TOKEN    set up the bench app's `engineer` role (row scope:
                                       orders assigned to them; the fee hidden), give it to
                                       engineer1 (made by load.py), print engineer1's token
Stdlib only.
"""
import json
import sys
import urllib.request

BASE, WHAT, SECRET = sys.argv[1], sys.argv[2], sys.argv[3]
API = BASE + "/api/v1"


def call(method, path, body=None, token=None, cookie=None, csrf=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    if cookie:
        headers["cookie"] = "fw_session=" + cookie
        headers["x-csrf-token"] = csrf
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        cookies = r.headers.get_all("set-cookie") or []
        return json.loads(r.read() or b"null"), cookies


def token_of(user, password):
    body, cookies = call("POST", "/auth/login", {"username": user, "password": password})
    session = cookies[0].split(";")[0].split("=", 1)[1]
    tok, _ = call("POST", "/auth/tokens", {"name": "bench"}, cookie=session, csrf=body["csrf_token"])
    return tok["token"]


if WHAT == "admin":
    print(token_of("admin", SECRET))
else:
    admin = SECRET
    call("PUT", "/apps/bench/roles/engineer", {
        "key": "engineer", "label": {"en": "Engineer"},
        "permissions": {"order": {"actions": ["read"], "read": ["*"], "deny_read": ["fee"],
                                  "rows": {"filter": {"==": [{"var": "engineer"}, {"var": "$user.id"}]}}}},
    }, token=admin)
    # engineer1 exists (load.py creates the engineers): give them the role.
    call("PUT", "/admin/users/engineer1/roles", {"bench": ["engineer"]}, token=admin)
    print(token_of("engineer1", "bench-engineer-password"))
