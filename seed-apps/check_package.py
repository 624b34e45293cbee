#!/usr/bin/env python3
"""Static checks for Formwork app packages (stdlib only).

Usage:  python3 seed-apps/check_package.py [PACKAGE_DIR ...]
With no argument, checks every directory next to this script that holds an app.json.
Exits 1 if any error is found. This mirrors the rules in docs/app-package.md,
docs/field-types.md and docs/reports.md; the server's importer is the authority, this is a
fast pre-check.
"""
import json
import os
import re
import sys

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CJK_RE = re.compile(r"[\u3400-\u9fff]")
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
LOCALES = ("zh-CN", "en")

ALLOWED_X = {
    "x-label", "x-type", "x-help", "x-currency", "x-options", "x-ref", "x-accept", "x-max-size",
    "x-serial", "x-formula", "x-indexed", "x-unique", "x-demo", "x-confidential",
}
# x- keys that only make sense on some types
X_ONLY_ON = {
    "x-currency": {"money"},
    "x-ref": {"reference"},
    "x-accept": {"attachment", "signature"},
    "x-max-size": {"attachment"},
    "x-serial": {"serial"},
    "x-formula": {"computed"},
    "x-options": {"select", "multi_select", "computed"},
}
# x-type -> JSON Schema "type" it must declare (None: no "type", uses $ref)
JSON_TYPE = {
    "text": "string", "long_text": "string", "number": "number", "integer": "integer",
    "money": "number", "date": "string", "datetime": "string", "select": "string",
    "multi_select": "array", "boolean": "boolean", "email": "string", "cn_mobile": "string",
    "uscc": "string", "region": "object", "member": "string", "department": "string",
    "reference": "integer", "sub_table": "array", "attachment": "array", "signature": None,
    "serial": "string", "computed": {"number", "integer", "string", "boolean"},
}
FILE_DEF = {
    "type": "object",
    "properties": {
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "name": {"type": "string"},
        "size": {"type": "integer"},
        "content_type": {"type": "string"},
    },
    "required": ["sha256", "name"],
    "additionalProperties": False,
}
REGION_PROPS = {"province": {"type": "string"}, "city": {"type": "string"}, "district": {"type": "string"}}
SERIAL_TOKEN_RE = re.compile(r"\{([^{}]*)\}")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
LAYOUT_TYPES = {"VerticalLayout", "HorizontalLayout", "Group", "Control"}


class Report:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"{where}: {msg}")


def load(path, rep):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        rep.err(path, f"cannot parse JSON: {e}")
        return None


def check_label(where, label, rep, need_cjk=True):
    if not isinstance(label, dict):
        rep.err(where, "label must be an object with zh-CN and en")
        return
    for loc in LOCALES:
        v = label.get(loc)
        if not isinstance(v, str) or not v.strip():
            rep.err(where, f"label lacks a non-empty {loc!r}")
    extra = set(label) - set(LOCALES)
    if extra:
        rep.warn(where, f"label has extra locales {sorted(extra)}")
    if need_cjk and isinstance(label.get("zh-CN"), str) and not CJK_RE.search(label["zh-CN"]):
        rep.warn(where, f"zh-CN label {label['zh-CN']!r} has no Chinese characters")


def walk_x_keys(node, path, rep, where):
    """Every key starting with x- anywhere in the form must be an allowed platform key."""
    if isinstance(node, dict):
        for k, v in node.items():
            # x-options maps enum values to labels; x-demo/x-formula hold free data
            if k.startswith("x-") and k not in ALLOWED_X:
                rep.err(where, f"{path}/{k}: unknown annotation {k!r}")
            if k in ("x-options", "x-demo", "x-formula", "x-label", "x-help", "enum", "const", "default"):
                continue
            walk_x_keys(v, f"{path}/{k}", rep, where)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_x_keys(v, f"{path}/{i}", rep, where)


def walk_refs(node, path, defs, rep, where):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                m = re.match(r"^#/\$defs/([A-Za-z0-9_]+)$", v) if isinstance(v, str) else None
                if not m:
                    rep.err(where, f"{path}: $ref {v!r} must point at #/$defs/<name>")
                elif m.group(1) not in defs:
                    rep.err(where, f"{path}: $ref {v!r} but the form has no $defs/{m.group(1)}")
            elif k not in ("x-demo", "x-formula", "enum", "const", "default"):
                walk_refs(v, f"{path}/{k}", defs, rep, where)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(v, f"{path}/{i}", defs, rep, where)


def formula_vars(node, out):
    if isinstance(node, dict):
        for op, args in node.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name:
                    out.add(name.split(".")[0])
            else:
                formula_vars(args, out)
    elif isinstance(node, list):
        for v in node:
            formula_vars(v, out)


def check_demo(where, prop, xt, rep):
    demo = prop.get("x-demo")
    if demo is None:
        return
    if isinstance(demo, dict) and "after" in demo:
        # {after: field, hours|days: [min, max]} — a time after another field of the record
        unit = [k for k in demo if k != "after"]
        rng = demo.get(unit[0]) if len(unit) == 1 else None
        if xt not in ("date", "datetime") or not isinstance(demo["after"], str) \
                or unit not in (["hours"], ["days"]) or not isinstance(rng, list) or len(rng) != 2 \
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng) \
                or rng[0] > rng[1]:
            rep.err(where, "x-demo.after is {after: date field, hours|days: [min, max]} on a date or datetime")
        return
    if not isinstance(demo, dict) or len(demo) != 1 or next(iter(demo)) not in ("values", "range", "template"):
        rep.err(where, "x-demo must be exactly one of {values: [...]}, {range: [min, max]}, {template: '..{n}..'}, {after: field, hours|days: [min, max]}")
        return
    kind, val = next(iter(demo.items()))
    if kind == "values":
        if not isinstance(val, list) or not val:
            rep.err(where, "x-demo.values must be a non-empty list")
            return
        enum = prop.get("enum") or (prop.get("items") or {}).get("enum")
        if xt == "select" and enum:
            bad = [v for v in val if v not in enum]
            if bad:
                rep.err(where, f"x-demo.values not in enum: {bad}")
        if prop.get("x-unique"):
            rep.err(where, "x-unique field with x-demo.values would produce duplicates; use a template")
        for v in val:
            if xt in ("text", "long_text") and isinstance(v, str) and "maxLength" in prop \
                    and len(v) > prop["maxLength"]:
                rep.err(where, f"x-demo value longer than maxLength: {v!r}")
            if xt in ("integer", "number", "money") and not isinstance(v, (int, float)):
                rep.err(where, f"x-demo value {v!r} is not a number")
            if xt == "boolean" and not isinstance(v, bool):
                rep.err(where, f"x-demo value {v!r} is not a boolean")
    elif kind == "range":
        if not isinstance(val, list) or len(val) != 2:
            rep.err(where, "x-demo.range must be [min, max]")
            return
        lo, hi = val
        if xt in ("number", "integer", "money"):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in val):
                rep.err(where, "x-demo.range bounds must be numbers")
                return
            if "minimum" in prop and lo < prop["minimum"]:
                rep.err(where, f"x-demo.range min {lo} below minimum {prop['minimum']}")
            if "maximum" in prop and hi > prop["maximum"]:
                rep.err(where, f"x-demo.range max {hi} above maximum {prop['maximum']}")
        elif xt == "date":
            if not all(isinstance(v, str) and DATE_RE.match(v) for v in val):
                rep.err(where, "x-demo.range for a date needs YYYY-MM-DD strings")
                return
        elif xt == "datetime":
            if not all(isinstance(v, str) and DATETIME_RE.match(v) for v in val):
                rep.err(where, "x-demo.range for a datetime needs RFC 3339 strings")
                return
        else:
            rep.err(where, f"x-demo.range is not meaningful for x-type {xt}")
            return
        if lo > hi:
            rep.err(where, f"x-demo.range min {lo} > max {hi}")
    else:
        if not isinstance(val, str) or "{n}" not in val:
            rep.err(where, "x-demo.template must be a string containing {n}")
        if xt not in ("text", "long_text", "email"):
            rep.err(where, f"x-demo.template is for text fields, not {xt}")


def check_options(where, enum, prop, rep):
    if not isinstance(enum, list) or not enum:
        rep.err(where, "enum must be a non-empty list")
        return
    if len(set(map(json.dumps, enum))) != len(enum):
        rep.err(where, "enum has duplicates")
    opts = prop.get("x-options")
    if not isinstance(opts, dict):
        rep.err(where, "enum without x-options labels")
        return
    for v in enum:
        if not isinstance(v, str):
            rep.err(where, f"enum value {v!r} must be a string")
        elif v not in opts:
            rep.err(where, f"enum value {v!r} has no x-options label")
        else:
            check_label(f"{where} x-options[{v}]", opts[v], rep)
    extra = set(opts) - set(v for v in enum if isinstance(v, str))
    if extra:
        rep.err(where, f"x-options labels for values not in enum: {sorted(extra)}")


def check_property(where, key, prop, ctx, rep, in_sub_table=False):
    """ctx: dict with forms (key -> schema props), defs."""
    if not KEY_RE.match(key):
        rep.err(where, f"field key {key!r} does not match {KEY_RE.pattern}")
    if not isinstance(prop, dict):
        rep.err(where, "property must be an object")
        return
    check_label(f"{where} x-label", prop.get("x-label"), rep)
    if "x-help" in prop:
        check_label(f"{where} x-help", prop["x-help"], rep)
    xt = prop.get("x-type")
    if xt not in JSON_TYPE:
        rep.err(where, f"x-type {xt!r} is not a platform type")
        return
    want = JSON_TYPE[xt]
    have = prop.get("type")
    if want is None:
        if have is not None:
            rep.err(where, f"{xt} must not declare a type (it is a $ref to the file shape)")
    elif isinstance(want, set):
        if have not in want:
            rep.err(where, f"{xt} needs type in {sorted(want)}, has {have!r}")
    elif have != want:
        rep.err(where, f"{xt} needs type {want!r}, has {have!r}")
    for xk, types in X_ONLY_ON.items():
        if xk in prop and xt not in types:
            rep.err(where, f"{xk} is not allowed on x-type {xt}")
    for flag in ("x-indexed", "x-unique", "x-confidential"):
        if flag in prop and prop[flag] is not True:
            rep.err(where, f"{flag} must be true when present")
    if in_sub_table and (prop.get("x-indexed") or prop.get("x-unique")):
        rep.err(where, "x-indexed / x-unique are for top-level fields, not sub-table columns")

    if xt in ("text", "long_text"):
        if xt == "long_text" and "maxLength" not in prop:
            rep.warn(where, "long_text without maxLength")
    elif xt == "money":
        if not isinstance(prop.get("x-currency"), str) or not re.match(r"^[A-Z]{3}$", prop["x-currency"]):
            rep.err(where, "money needs x-currency (ISO 4217, e.g. CNY)")
        if prop.get("minimum") != 0:
            rep.err(where, "money needs minimum 0")
    elif xt == "select":
        check_options(where, prop.get("enum"), prop, rep)
    elif xt == "multi_select":
        items = prop.get("items") or {}
        if items.get("type") != "string":
            rep.err(where, "multi_select items must be {type: string, enum: [...]}")
        check_options(where, items.get("enum"), prop, rep)
        if prop.get("uniqueItems") is not True:
            rep.err(where, "multi_select needs uniqueItems: true")
    elif xt == "email":
        if prop.get("maxLength") != 254:
            rep.err(where, "email needs maxLength 254")
    elif xt == "region":
        if prop.get("properties") != REGION_PROPS or prop.get("required") != ["province"] \
                or prop.get("additionalProperties") is not False:
            rep.err(where, "region must have properties province/city/district (strings), "
                           "required [province], additionalProperties false")
    elif xt == "reference":
        ref = prop.get("x-ref")
        if not isinstance(ref, dict) or set(ref) != {"form", "display"}:
            rep.err(where, "reference needs x-ref {form, display}")
        else:
            target = ctx["forms"].get(ref["form"])
            if target is None:
                rep.err(where, f"x-ref.form {ref['form']!r} names no form file in this package")
            elif ref["display"] not in target:
                rep.err(where, f"x-ref.display {ref['display']!r} is not a field of form {ref['form']!r}")
    elif xt == "sub_table":
        if in_sub_table:
            rep.err(where, "sub_table inside a sub_table is not allowed")
            return
        items = prop.get("items")
        if not isinstance(items, dict) or items.get("type") != "object" \
                or not isinstance(items.get("properties"), dict) or not items["properties"]:
            rep.err(where, "sub_table items must be an object schema with properties")
            return
        if items.get("additionalProperties") is not False:
            rep.err(where, "sub_table items need additionalProperties: false")
        for r in items.get("required", []):
            if r not in items["properties"]:
                rep.err(where, f"sub_table required {r!r} is not a column")
        for ck, cp in items["properties"].items():
            check_property(f"{where}/{ck}", ck, cp, ctx, rep, in_sub_table=True)
    elif xt == "attachment":
        if prop.get("items") != {"$ref": "#/$defs/file"}:
            rep.err(where, "attachment items must be {$ref: #/$defs/file}")
        if not isinstance(prop.get("maxItems"), int) or prop["maxItems"] < 1:
            rep.err(where, "attachment needs maxItems >= 1")
        if not isinstance(prop.get("x-accept"), list) or not prop["x-accept"]:
            rep.err(where, "attachment needs x-accept (list of media types)")
        if not isinstance(prop.get("x-max-size"), int) or prop["x-max-size"] < 1:
            rep.err(where, "attachment needs x-max-size (bytes)")
    elif xt == "signature":
        if prop.get("$ref") != "#/$defs/file":
            rep.err(where, "signature must be {$ref: #/$defs/file}")
        if prop.get("x-accept") != ["image/png"]:
            rep.err(where, "signature needs x-accept [image/png]")
    elif xt == "serial":
        pat = prop.get("x-serial")
        if not isinstance(pat, str):
            rep.err(where, "serial needs x-serial pattern")
        else:
            toks = SERIAL_TOKEN_RE.findall(pat)
            counters = [t for t in toks if re.fullmatch(r"0+", t)]
            bad = [t for t in toks if t not in ("yyyy", "yyyyMM", "yyyyMMdd") and not re.fullmatch(r"0+", t)]
            if bad:
                rep.err(where, f"x-serial has unknown tokens {bad}")
            if len(counters) != 1:
                rep.err(where, "x-serial needs exactly one counter token like {0000}")
            if re.sub(r"\{[^{}]*\}", "", pat).count("{") or re.sub(r"\{[^{}]*\}", "", pat).count("}"):
                rep.err(where, "x-serial has unbalanced braces")
        if prop.get("readOnly") is not True:
            rep.err(where, "serial must be readOnly")
        if in_sub_table:
            rep.err(where, "serial is not allowed in a sub-table")
    elif xt == "computed":
        if "x-formula" not in prop:
            rep.err(where, "computed needs x-formula")
        if prop.get("readOnly") is not True:
            rep.err(where, "computed must be readOnly")
        if "enum" in prop:
            check_options(where, prop["enum"], prop, rep)
        names = set()
        formula_vars(prop.get("x-formula"), names)
        unknown = names - ctx["formula_names"]
        if unknown:
            rep.err(where, f"x-formula uses unknown fields {sorted(unknown)}")
        if key in names and not in_sub_table:
            rep.err(where, "x-formula refers to itself")
    if xt in ("select",) and "default" in prop and prop["default"] not in (prop.get("enum") or []):
        rep.err(where, f"default {prop['default']!r} not in enum")
    if xt == "boolean" and "default" in prop and not isinstance(prop["default"], bool):
        rep.err(where, "boolean default must be true/false")
    if xt == "integer" and "default" in prop and not isinstance(prop["default"], int):
        rep.err(where, "integer default must be an integer")
    if xt in ("serial", "computed") and "default" in prop:
        rep.err(where, f"{xt} is server-assigned; no default")
    if prop.get("x-unique") and xt in ("sub_table", "attachment", "signature", "computed", "multi_select",
                                       "region", "boolean"):
        rep.err(where, f"x-unique is not meaningful on {xt}")
    check_demo(where, prop, xt, rep)


def rule_fields(node, out):
    """Field names used by if/then/else/allOf/dependentRequired rules at the top level."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "required" and isinstance(v, list):
                out.update(x for x in v if isinstance(x, str))
            elif k == "properties" and isinstance(v, dict):
                out.update(v)
                for sub in v.values():
                    # nested property constraints (const/enum/minItems); no deeper field names
                    if isinstance(sub, dict) and ("properties" in sub or "required" in sub):
                        rule_fields(sub, set())
            elif k in ("dependentRequired",) and isinstance(v, dict):
                out.update(v)
                for lst in v.values():
                    out.update(lst)
            elif k in ("if", "then", "else", "allOf", "anyOf", "oneOf", "not", "dependentSchemas"):
                rule_fields(v, out)
    elif isinstance(node, list):
        for v in node:
            rule_fields(v, out)


def check_layout(where, layout, props, rep):
    seen = []

    def walk(node, path):
        if not isinstance(node, dict):
            rep.err(where, f"{path}: layout element must be an object")
            return
        t = node.get("type")
        if t not in LAYOUT_TYPES:
            rep.err(where, f"{path}: unknown layout type {t!r}")
            return
        if t == "Control":
            scope = node.get("scope")
            m = re.match(r"^#/properties/([a-z][a-z0-9_]{0,62})$", scope or "")
            if not m:
                rep.err(where, f"{path}: bad Control scope {scope!r}")
            elif m.group(1) not in props:
                rep.err(where, f"{path}: Control scope {scope!r} points at no property")
            else:
                seen.append(m.group(1))
            return
        if t == "Group":
            check_label(f"{where} {path} Group label", node.get("label"), rep)
        els = node.get("elements")
        if not isinstance(els, list):
            rep.err(where, f"{path}: {t} needs elements")
            return
        for i, e in enumerate(els):
            walk(e, f"{path}/{i}")

    if not isinstance(layout, dict) or layout.get("type") != "VerticalLayout":
        rep.err(where, "layout root must be a VerticalLayout")
    walk(layout, "layout")
    missing = [k for k in props if k not in seen]
    if missing:
        rep.err(where, f"fields not placed in the layout: {missing}")
    dup = sorted({k for k in seen if seen.count(k) > 1})
    if dup:
        rep.warn(where, f"fields placed more than once: {dup}")


def check_package(pkg, rep):
    app = load(os.path.join(pkg, "app.json"), rep)
    if app is not None:
        w = f"{pkg}/app.json"
        if app.get("format") != 1:
            rep.err(w, "format must be 1")
        if not KEY_RE.match(str(app.get("key", ""))):
            rep.err(w, "key must match " + KEY_RE.pattern)
        check_label(f"{w} label", app.get("label"), rep)
        if app.get("default_locale") not in LOCALES:
            rep.err(w, f"default_locale must be one of {LOCALES}")
        if not isinstance(app.get("time_zone"), str) or "/" not in app["time_zone"]:
            rep.err(w, "time_zone must be an IANA name like Asia/Shanghai")
        extra = set(app) - {"format", "key", "label", "default_locale", "time_zone"}
        if extra:
            rep.err(w, f"unknown keys {sorted(extra)}")

    fdir = os.path.join(pkg, "forms")
    forms = {}
    for name in sorted(os.listdir(fdir)) if os.path.isdir(fdir) else []:
        path = os.path.join(fdir, name)
        if not name.endswith(".json"):
            rep.err(path, "unexpected file in forms/")
            continue
        f = load(path, rep)
        if f is None:
            continue
        if f.get("key") != name[:-5]:
            rep.err(path, f"key {f.get('key')!r} must equal the file name")
        forms[name[:-5]] = f
    if not forms:
        rep.err(pkg, "no forms found")

    props_of = {}
    for k, f in forms.items():
        s = f.get("schema")
        props_of[k] = s.get("properties", {}) if isinstance(s, dict) else {}

    for k, f in forms.items():
        where = f"{pkg}/forms/{k}.json"
        if not KEY_RE.match(k):
            rep.err(where, f"form key {k!r} does not match {KEY_RE.pattern}")
        extra = set(f) - {"key", "label", "schema", "layout", "description", "indexes", "print"}
        if extra:
            rep.err(where, f"unknown top-level keys {sorted(extra)}")
        # Print templates: a locale each; every field they name is one of the form's
        # (a sub-table's columns through `columns.<table>.<column>` and `this.<column>`).
        sprops = (f.get("schema") or {}).get("properties", {})
        for loc, t in (f.get("print") or {}).items():
            if loc not in ("zh-CN", "en") or not isinstance(t, str):
                rep.err(where, f"print.{loc}: a template string for zh-CN or en")
                continue
            if "{{{" in t or "{{&" in t:
                rep.err(where, f"print.{loc}: values are always escaped ({{{{{{…}}}}}} is refused)")
            for kind, name in re.findall(r"\{\{[#/]?(?:if |each )?(labels|display|data)\.([a-z_][a-z0-9_]*)", t):
                if name not in sprops:
                    rep.err(where, f"print.{loc}: {kind}.{name} names no field of this form")
            for table, col in re.findall(r"columns\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)", t):
                cols = (((sprops.get(table) or {}).get("items") or {}).get("properties") or {})
                if col not in cols:
                    rep.err(where, f"print.{loc}: columns.{table}.{col} names no column")
        idx = f.get("indexes", [])
        if not isinstance(idx, list):
            rep.err(where, "indexes must be a list of field lists")
            idx = []
        for n, fields in enumerate(idx):
            sprops = (f.get("schema") or {}).get("properties", {})
            if not isinstance(fields, list) or not 1 <= len(fields) <= 4:
                rep.err(where, f"indexes[{n}] must list 1-4 field keys")
                continue
            for name in fields:
                t = (sprops.get(name) or {}).get("type")
                if t not in ("string", "number", "integer", "boolean"):
                    rep.err(where, f"indexes[{n}]: {name!r} is not a scalar field of this form")
        check_label(f"{where} label", f.get("label"), rep)
        s = f.get("schema")
        if not isinstance(s, dict):
            rep.err(where, "schema missing")
            continue
        if s.get("$schema") != SCHEMA_URI:
            rep.err(where, f"$schema must be {SCHEMA_URI}")
        if s.get("type") != "object":
            rep.err(where, "schema type must be object")
        if s.get("additionalProperties") is not False:
            rep.err(where, "schema needs additionalProperties: false")
        props = s.get("properties")
        if not isinstance(props, dict) or not props:
            rep.err(where, "schema needs properties")
            continue
        defs = s.get("$defs", {})
        if "file" in defs and defs["file"] != FILE_DEF:
            rep.err(where, "$defs/file must be the platform file shape")
        for r in s.get("required", []):
            if r not in props:
                rep.err(where, f"required {r!r} is not a property")
        for r in s.get("required", []):
            if r in props and props[r].get("x-type") in ("serial", "computed"):
                rep.err(where, f"required {r!r} is server-assigned; clients cannot send it")
        used = set()
        rule_fields({kk: s[kk] for kk in ("if", "then", "else", "allOf", "anyOf", "oneOf",
                                          "dependentRequired", "dependentSchemas") if kk in s}, used)
        for u in sorted(used - set(props)):
            rep.err(where, f"rule mentions unknown field {u!r}")
        sub_cols = set()
        for p in props.values():
            if isinstance(p, dict) and p.get("x-type") == "sub_table":
                sub_cols.update((p.get("items") or {}).get("properties", {}))
        ctx = {"forms": props_of, "formula_names": set(props) | sub_cols | {"current", "accumulator"}}
        for pk, p in props.items():
            check_property(f"{where} #/properties/{pk}", pk, p, ctx, rep)
        walk_x_keys(f, "", rep, where)
        walk_refs(s, "#", defs, rep, where)
        check_layout(where, f.get("layout"), props, rep)

    # demo.json and creation order
    demo = load(os.path.join(pkg, "demo.json"), rep)
    req_refs = {}
    for k, props in props_of.items():
        s = forms[k].get("schema", {})
        deps = set()
        for r in s.get("required", []):
            p = props.get(r, {})
            if p.get("x-type") == "reference":
                deps.add(p["x-ref"]["form"])
            if p.get("x-type") == "sub_table":
                items = p.get("items", {})
                for c in items.get("required", []):
                    cp = items.get("properties", {}).get(c, {})
                    if cp.get("x-type") == "reference":
                        deps.add(cp["x-ref"]["form"])
        req_refs[k] = deps - {k}
    order, state = [], {}

    def visit(n, stack):
        if state.get(n) == 1:
            rep.err(pkg, f"cycle among required references: {' -> '.join(stack + [n])}")
            return
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in sorted(req_refs.get(n, ())):
            if d in req_refs:
                visit(d, stack + [n])
        state[n] = 2
        order.append(n)

    for n in sorted(req_refs):
        visit(n, [])
    if demo is not None:
        w = f"{pkg}/demo.json"
        if not isinstance(demo.get("seed"), int):
            rep.err(w, "seed must be an integer")
        scales = demo.get("scales")
        if not isinstance(scales, dict) or not scales:
            rep.err(w, "scales must be a non-empty object")
            scales = {}
        for sname, counts in scales.items():
            if not isinstance(counts, dict):
                rep.err(w, f"scale {sname!r} must map form keys to counts")
                continue
            for fk, n in counts.items():
                if fk not in forms:
                    rep.err(w, f"scale {sname!r} names unknown form {fk!r}")
                if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                    rep.err(w, f"scale {sname!r}: count for {fk!r} must be a non-negative integer")
            for fk in forms:
                if fk not in counts:
                    rep.err(w, f"scale {sname!r} lacks a count for form {fk!r}")
                    continue
                for d in req_refs.get(fk, ()):
                    if counts.get(fk, 0) > 0 and counts.get(d, 0) == 0:
                        rep.err(w, f"scale {sname!r}: {fk} requires {d} records but its count is 0")
            keys = list(counts)
            for i, fk in enumerate(keys):
                later = [d for d in req_refs.get(fk, ()) if d in keys[i + 1:]]
                if later:
                    rep.warn(w, f"scale {sname!r}: {fk} is listed before forms it requires: {later}")
    return forms, order


ACTIONS = {"create", "read", "update", "delete", "import", "export", "print", "approve"}
ROWS = {"all", "own", "department", "department_tree"}


def check_roles(pkg, forms, rep):
    """roles/<key>.json: the rules of docs/permissions.md (the server re-checks them)."""
    rdir = os.path.join(pkg, "roles")
    if not os.path.isdir(rdir):
        return 0
    n = 0
    for name in sorted(os.listdir(rdir)):
        path = os.path.join(rdir, name)
        if not name.endswith(".json"):
            rep.err(path, "unexpected file in roles/")
            continue
        role = load(path, rep)
        if role is None:
            continue
        n += 1
        if role.get("key") != name[:-5] or not KEY_RE.match(str(role.get("key", ""))):
            rep.err(path, "key must match the file name and " + KEY_RE.pattern)
        check_label(f"{path} label", role.get("label"), rep)
        extra = set(role) - {"key", "label", "description", "permissions"}
        if extra:
            rep.err(path, f"unknown keys {sorted(extra)}")
        for form, rule in (role.get("permissions") or {}).items():
            where = f"{path} permissions/{form}"
            props = None if form == "*" else forms.get(form, {}).get("schema", {}).get("properties")
            if form != "*" and form not in forms:
                rep.err(where, "no such form in the package")
                continue
            extra = set(rule) - {"actions", "rows", "read", "deny_read", "write", "deny_write"}
            if extra:
                rep.err(where, f"unknown keys {sorted(extra)}")
            for a in rule.get("actions", []):
                if a not in ACTIONS:
                    rep.err(where, f"unknown action {a!r}")
            for lst in ("read", "deny_read", "write", "deny_write"):
                for f in rule.get(lst, []):
                    if "." in f and props is not None:
                        # A sub-table column: only ever denied.
                        table, column = f.split(".", 1)
                        t = props.get(table)
                        cols = (t or {}).get("items", {}).get("properties", {}) if isinstance(t, dict) and t.get("x-type") == "sub_table" else {}
                        if column not in cols:
                            rep.err(where, f"{lst}: no sub-table column {f!r}")
                        elif not lst.startswith("deny_"):
                            rep.err(where, f"{lst}: a sub-table column can only be denied: {f!r}")
                        continue
                    if f != "*" and (props is None or f not in props):
                        rep.err(where, f"{lst}: no field {f!r}")
            rows = rule.get("rows")
            if rows is not None and not (isinstance(rows, str) and rows in ROWS):
                ok = isinstance(rows, dict) and len(rows) == 1 and (
                    "filter" in rows or (
                        "through" in rows and props is not None
                        and props.get(rows["through"], {}).get("x-type") == "reference"))
                if not ok:
                    rep.err(where, f"rows {rows!r} is not all, own, department, department_tree, "
                                   "{filter: …} or {through: reference field}")
    return n


def check_flows(pkg, forms, rep):
    """flows/<key>.json: key, label, trigger form, node and edge references, roles named by
    assignees (the server's publish check goes further: graph, fields, users)."""
    fdir = os.path.join(pkg, "flows")
    if not os.path.isdir(fdir):
        return 0
    roles = set()
    rdir = os.path.join(pkg, "roles")
    if os.path.isdir(rdir):
        roles = {n[:-5] for n in os.listdir(rdir) if n.endswith(".json")}
    n = 0
    for name in sorted(os.listdir(fdir)):
        path = os.path.join(fdir, name)
        if not name.endswith(".json"):
            rep.err(path, "unexpected file in flows/")
            continue
        flow = load(path, rep)
        if flow is None:
            continue
        n += 1
        if flow.get("key") != name[:-5] or not KEY_RE.match(str(flow.get("key", ""))):
            rep.err(path, "key must match the file name and " + KEY_RE.pattern)
        check_label(f"{path} label", flow.get("label"), rep)
        trigger = flow.get("trigger") or {}
        formless = trigger.get("type") in ("schedule", "webhook", "subflow") and "form" not in trigger
        if not formless and trigger.get("form") not in forms:
            rep.err(path, f"trigger form {trigger.get('form')!r} is not in the package")
        for nd in flow.get("nodes", []):
            target = nd.get("form")
            if target is not None and target not in forms:
                rep.err(path, f"node {nd.get('id')}: form {target!r} is not in the package")
            if "as_role" in nd and nd["as_role"] not in roles:
                rep.err(path, f"node {nd.get('id')}: as_role {nd['as_role']!r} is not in roles/")
        ids = [nd.get("id") for nd in flow.get("nodes", [])]
        if len(ids) != len(set(ids)):
            rep.err(path, "node ids must be unique")
        for e in flow.get("edges", []):
            for k in ("from", "to"):
                if e.get(k) not in ids:
                    rep.err(path, f"edge {k} {e.get(k)!r} is not a node")
        for nd in flow.get("nodes", []):
            for spec in (nd.get("assignee"), nd.get("to"), nd.get("of"),
                         (nd.get("deadline") or {}).get("to")):
                if isinstance(spec, dict) and "role" in spec and spec["role"] not in roles:
                    rep.err(path, f"node {nd.get('id')}: role {spec['role']!r} is not in roles/")
                for r in (spec.get("roles") or []) if isinstance(spec, dict) else []:
                    if r not in roles:
                        rep.err(path, f"node {nd.get('id')}: role {r!r} is not in roles/")
                if isinstance(spec, dict) and "user" in spec:
                    rep.warn(path, f"node {nd.get('id')}: names the user {spec['user']!r}; "
                                   "packages should assign by role or field (users differ per install)")
    return n


TIME_BUCKETS = {"day", "week", "month", "quarter", "year"}
FIELD_AGGS = {"count_values", "count_distinct", "sum", "avg", "min", "max", "median", "percentile"}
NUMERIC_AGGS = {"sum", "avg", "median", "percentile"}
DERIVED_AGGS = {"ratio", "formula"}
AGGS = FIELD_AGGS | {"count", "share"} | DERIVED_AGGS
DURATION_UNITS = {"minutes", "hours", "days", "years"}
FORMULA_OPS = {"+", "-", "*", "/"}
CHART_KINDS = {"table", "pivot", "bar", "line", "area", "pie", "funnel", "number", "heatmap"}
DASHBOARD_FILTER_TYPES = {"date_range", "select"}
# the fields a "select" shared filter can map to: values compared as text
SELECT_FILTER_FIELD_TYPES = {"select", "member", "department", "text", "email", "cn_mobile", "uscc", "serial"}
NUMERIC_TYPES = {"number", "integer", "money"}
TIME_TYPES = {"date", "datetime"}
UNREPORTABLE = {"long_text", "sub_table", "attachment", "signature"}
# system fields of every form (docs/api.md, "Names"), root scope only
SYSTEM_FIELDS = {"_id": "integer", "_form_version": "integer", "_row_version": "integer",
                 "_created_at": "datetime", "_updated_at": "datetime",
                 "_created_by": "member", "_updated_by": "member", "_owner": "member"}
# docs/reports.md: the report filter subset (the list API's, without starts_with/some/none)
LOGIC_OPS = {"and", "or", "!", "==", "!=", "<", "<=", ">", ">=", "in"}
GRID_COLUMNS = 12


def field_type(prop):
    """The type a report sees: the x-type, a computed field's JSON type, or None."""
    xt = prop.get("x-type")
    if xt == "computed":
        return {"number": "number", "integer": "integer", "string": "text", "boolean": "boolean"}.get(prop.get("type"))
    return xt


def resolve_path(props_of, form, path):
    """Follow a report field path: `status`, `region.province` (object child),
    `device.product.model` (through reference fields via x-ref). Returns (type, joined, error)."""
    if not isinstance(path, str) or not path:
        return None, False, f"field path {path!r} must be a non-empty string"
    if "#" in form:
        # A report over a sub-table's rows (`form#table`): the row's own columns are
        # `table.column`, `_record` is the record's id, the rest the record's fields.
        parent, table = form.split("#", 1)
        if path == "_record":
            return "integer", False, None
        if path.startswith(table + "."):
            items = ((props_of.get(parent, {}).get(table) or {}).get("items") or {})
            props_of.setdefault(f"{parent}~{table}", items.get("properties", {}))
            return resolve_path(props_of, f"{parent}~{table}", path[len(table) + 1:])
        form = parent
    if path in SYSTEM_FIELDS:
        return SYSTEM_FIELDS[path], False, None
    segs = path.split(".")
    cur, joined = form, False
    for i, seg in enumerate(segs):
        props = props_of.get(cur, {})
        prop = props.get(seg)
        if not isinstance(prop, dict):
            return None, joined, f"{path!r}: form {cur!r} has no field {seg!r}"
        rest = segs[i + 1:]
        if not rest:
            xt = field_type(prop)
            if xt in UNREPORTABLE:
                return None, joined, f"{path!r}: a {xt} field cannot be reported on"
            return xt, joined, None
        xt = prop.get("x-type")
        if xt == "reference":
            cur, joined = (prop.get("x-ref") or {}).get("form"), True
        elif xt == "region" or prop.get("type") == "object":
            child = (prop.get("properties") or {}).get(rest[0])
            if len(rest) != 1 or not isinstance(child, dict):
                return None, joined, f"{path!r}: {seg!r} has no child {'.'.join(rest)!r}"
            return "text", joined, None
        else:
            return None, joined, f"{path!r}: {seg!r} is a {xt} field, not a reference or object"
    return None, joined, f"{path!r}: empty path"


def check_duration(w, du, form, props_of, rep):
    """A duration {from, to, unit} between two date or date-time fields (a date and a
    date-time count whole local days)."""
    if not isinstance(du, dict) or set(du) != {"from", "to", "unit"}:
        rep.err(w, "duration must be {from, to, unit}")
        return []
    used = []
    for end in ("from", "to"):
        xt, _, e = resolve_path(props_of, form, du[end])
        if e:
            rep.err(w, f"duration {end}: {e}")
        elif xt not in TIME_TYPES:
            rep.err(w, f"duration {end} {du[end]!r} is a {xt} field (date/datetime only)")
        else:
            used.append(du[end])
    if du["unit"] not in DURATION_UNITS:
        rep.err(w, f"duration unit {du['unit']!r} is not one of {sorted(DURATION_UNITS)}")
    return used


def formula_refs(w, e, rep):
    """The measure keys a formula reads (numbers, {"var": key}, + - * /)."""
    if isinstance(e, (int, float)) and not isinstance(e, bool):
        return []
    if isinstance(e, dict) and len(e) == 1:
        op, args = next(iter(e.items()))
        if op == "var" and isinstance(args, str):
            return [args]
        if op in FORMULA_OPS and isinstance(args, list) and (len(args) >= 2 or (op == "-" and args)):
            return [k for a in args for k in formula_refs(w, a, rep)]
    rep.err(w, f"formula part {json.dumps(e, ensure_ascii=False)} is not a number, a var or + - * / of two or more")
    return []


def literal_ok(xt, v):
    if xt in NUMERIC_TYPES or xt in ("reference",):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if xt == "boolean":
        return isinstance(v, bool)
    return isinstance(v, str)


DURATION_OPS = {"hours_between": "datetime", "days_between": "date"}


def check_comparison(where, op, args, form, props_of, rep, fields_out):
    """A comparison between fields and durations (`hours_between` of two date-times,
    `days_between` of two dates), or with a number."""
    if op in ("in", "!") or len(args) not in (2, 3) or (len(args) == 3 and op not in ("<", "<=")):
        rep.err(where, f"{op}: compares two sides (or three for between)")
        return
    kinds = []
    for a in args:
        if isinstance(a, dict) and set(a) == {"var"}:
            xt, _, e = resolve_path(props_of, form, a["var"])
            if e:
                rep.err(where, f"{op}: {e}")
                return
            fields_out.add(a["var"])
            kinds.append("number" if xt in NUMERIC_TYPES else xt)
        elif isinstance(a, dict) and len(a) == 1 and next(iter(a)) in DURATION_OPS:
            dop, pair = next(iter(a.items()))
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, dict) and set(x) == {"var"} for x in pair)):
                rep.err(where, f"{dop} takes two {{\"var\": field}}")
                return
            for x in pair:
                xt, _, e = resolve_path(props_of, form, x["var"])
                if e or xt != DURATION_OPS[dop]:
                    rep.err(where, f"{dop}: {x['var']!r} is not a {DURATION_OPS[dop]} field")
                    return
                fields_out.add(x["var"])
            kinds.append("number")
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            kinds.append("number")
        else:
            rep.err(where, f"{op}: {json.dumps(a, ensure_ascii=False)} does not compare with a duration or field")
            return
    if len(set(kinds)) != 1:
        rep.err(where, f"{op}: the sides are of different types ({', '.join(kinds)})")


def resolve_dates(node, today=None):
    """Relative dates as the server resolves them at each run (docs/reports.md):
    {"var": "today"}, {"add_days": [date, n]} and {"start_of": [period, date]} become
    YYYY-MM-DD."""
    import datetime
    today = today or datetime.date.today()
    if isinstance(node, dict) and len(node) == 1 and node.get("var") == "today":
        return today.isoformat()
    if isinstance(node, dict) and len(node) == 1 and "add_days" in node:
        args = [resolve_dates(a, today) for a in (node["add_days"] if isinstance(node["add_days"], list) else [])]
        try:
            d = datetime.date.fromisoformat(args[0][:10])
            return (d + datetime.timedelta(days=int(args[1]))).isoformat()
        except (IndexError, TypeError, ValueError):
            return {"add_days": args}
    if isinstance(node, dict) and len(node) == 1 and "start_of" in node:
        args = [resolve_dates(a, today) for a in (node["start_of"] if isinstance(node["start_of"], list) else [])]
        try:
            period, d = args[0], datetime.date.fromisoformat(args[1][:10])
            starts = {"day": d, "week": d - datetime.timedelta(days=d.weekday()),
                      "month": d.replace(day=1),
                      "quarter": d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1),
                      "year": d.replace(month=1, day=1)}
            if len(args) == 2 and period in starts:
                return starts[period].isoformat()
        except (IndexError, TypeError, ValueError, AttributeError):
            pass
        return {"start_of": args}
    if isinstance(node, dict):
        return {k: resolve_dates(v, today) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_dates(v, today) for v in node]
    return node


def check_logic(where, node, form, props_of, rep, fields_out):
    """A report filter or measure `where`: the JSON Logic subset of docs/reports.md, every
    comparison one {var} and literal(s) of the field's type (relative dates resolved)."""
    node = resolve_dates(node)
    if not isinstance(node, dict) or len(node) != 1:
        rep.err(where, f"filter node {json.dumps(node, ensure_ascii=False)} must be an object with one operator")
        return
    op, args = next(iter(node.items()))
    if op not in LOGIC_OPS:
        rep.err(where, f"operator {op!r} is not in the report filter subset "
                       "(and, or, !, ==, !=, <, <=, >, >=, between, in with a list, == null)")
        return
    if op in ("and", "or"):
        if not isinstance(args, list):
            rep.err(where, f"{op} needs a list")
            return
        for a in args:
            check_logic(where, a, form, props_of, rep, fields_out)
        return
    if op == "!":
        inner = args[0] if isinstance(args, list) and len(args) == 1 else args
        check_logic(where, inner, form, props_of, rep, fields_out)
        return
    if not isinstance(args, list):
        rep.err(where, f"{op} needs a list of arguments")
        return
    durations = [a for a in args if isinstance(a, dict) and len(a) == 1 and next(iter(a)) in DURATION_OPS]
    two_fields = op != "in" and sum(1 for a in args if isinstance(a, dict) and set(a) == {"var"}) == 2
    if durations or two_fields:
        check_comparison(where, op, args, form, props_of, rep, fields_out)
        return
    vars_ = [a for a in args if isinstance(a, dict) and set(a) == {"var"}]
    lits = [a for a in args if not (isinstance(a, dict) and set(a) == {"var"})]
    if len(vars_) != 1:
        rep.err(where, f"{op}: each comparison needs exactly one {{\"var\": field}} and literals")
        return
    name = vars_[0]["var"]
    name = name[0] if isinstance(name, list) and name else name
    xt, joined, e = resolve_path(props_of, form, name)
    if e:
        rep.err(where, f"{op}: {e}")
        return
    fields_out.add(name)
    if joined:
        rep.warn(where, f"{op}: {name!r} is a joined field; the list API filter (and so drill) only has "
                        "root fields and object children")
    if any(isinstance(a, (dict, list)) for a in lits) and op != "in":
        rep.err(where, f"{op}: the other side must be a literal")
        return
    if op == "in":
        if len(args) != 2 or args[0] is not vars_[0] or not isinstance(args[1], list):
            rep.err(where, "in: only the form [{var}, [values…]] is supported in reports")
            return
        lits = args[1]
    elif op in ("==", "!="):
        if len(args) != 2:
            rep.err(where, f"{op} needs two arguments")
            return
        if lits == [None]:
            if op == "!=":
                rep.warn(where, "!= null is not listed in docs/reports.md; write {\"!\": {\"==\": [{\"var\": …}, null]}}")
            return
    else:
        if len(args) == 3 and op in ("<", "<=") and args[1] is vars_[0]:
            pass
        elif len(args) != 2:
            rep.err(where, f"{op} needs two arguments (or three, field in the middle, for between)")
            return
        if xt == "boolean":
            rep.err(where, f"{op}: {name!r} is boolean; order comparisons are for text and numbers")
    for v in lits:
        if not literal_ok(xt, v):
            rep.err(where, f"{op}: literal {v!r} does not fit {name!r} ({xt})")


def role_reads(role, form, field=None):
    """Whether a role's permissions let it read a form (and a field of it)."""
    perms = (role or {}).get("permissions") or {}
    rule = perms.get(form, perms.get("*"))
    if not isinstance(rule, dict) or "read" not in rule.get("actions", []):
        return False
    if field is None or field.startswith("_"):
        return True
    read = rule.get("read", [])
    return ("*" in read or field in read) and field not in rule.get("deny_read", [])


def role_reads_path(role, props_of, form, path):
    """The first field (or joined form) on a report path the role may not read, or None."""
    for seg in path.split("."):
        if not role_reads(role, form):
            return f"the form {form}"
        if not role_reads(role, form, seg):
            return f"{form}.{seg}"
        prop = props_of.get(form, {}).get(seg) or {}
        if prop.get("x-type") != "reference":
            return None
        form = (prop.get("x-ref") or {}).get("form")
    return None


def check_reports(pkg, forms, rep):
    """reports/<key>.json: the definition of docs/reports.md (the server re-checks it).
    Returns {key: {form, used}} for the dashboards (used: the fields a caller must be allowed
    to read, those of dimensions and filter)."""
    rdir = os.path.join(pkg, "reports")
    reports = {}
    if not os.path.isdir(rdir):
        return reports
    props_of = {k: (f.get("schema") or {}).get("properties", {}) for k, f in forms.items()}
    for name in sorted(os.listdir(rdir)):
        path = os.path.join(rdir, name)
        if not name.endswith(".json"):
            rep.err(path, "unexpected file in reports/")
            continue
        key = name[:-5]
        if not KEY_RE.match(key):
            rep.err(path, f"file name (the report key) must match {KEY_RE.pattern}")
        r = load(path, rep)
        if r is None:
            continue
        if not isinstance(r, dict):
            rep.err(path, "a report must be a JSON object")
            continue
        reports[key] = {"form": r.get("form"), "used": set()}
        if "key" in r:
            rep.err(path, "no \"key\" member: the key is the file name")
        extra = set(r) - {"key", "label", "form", "rows", "filter", "dimensions", "measures",
                          "sort", "limit", "others", "chart"}
        if extra:
            rep.err(path, f"unknown keys {sorted(extra)}")
        for req in ("label", "form", "dimensions", "measures"):
            if req not in r:
                rep.err(path, f"missing {req!r}")
        check_label(f"{path} label", r.get("label"), rep)
        if not isinstance(r.get("measures", []), list) or not r.get("measures"):
            rep.err(path, "measures must be a non-empty list")
        form = r.get("form")
        if form not in forms:
            rep.err(path, f"form {form!r} is not in the package")
            continue
        if "rows" in r:
            table = (props_of.get(form) or {}).get(r["rows"]) if isinstance(r["rows"], str) else None
            if not isinstance(table, dict) or table.get("x-type") != "sub_table":
                rep.err(path, f"rows {r['rows']!r} is not a sub-table of {form!r}")
                continue
            form = f"{form}#{r['rows']}"  # paths resolve from the rows (docs/reports.md)
        used = reports[key]["used"]  # read by dimensions and filter: a 403 for callers who may not
        if "filter" in r:
            check_logic(f"{path} filter", r["filter"], form, props_of, rep, used)

        dim_keys = []
        dims = r.get("dimensions", [])
        if not isinstance(dims, list):
            rep.err(path, "dimensions must be a list")
            dims = []
        for i, d in enumerate(dims):
            w = f"{path} dimensions[{i}]"
            if not isinstance(d, dict):
                rep.err(w, "must be an object")
                continue
            extra = set(d) - {"field", "duration", "bucket", "key", "label"}
            if extra:
                rep.err(w, f"unknown keys {sorted(extra)}")
            if "duration" in d:
                if "field" in d:
                    rep.err(w, "a dimension has a field or a duration, not both")
                if "key" not in d:
                    rep.err(w, "a duration dimension needs a key")
                used.update(check_duration(w, d["duration"], form, props_of, rep))
                xt = "number"
            else:
                xt, _, e = resolve_path(props_of, form, d.get("field"))
                if e:
                    rep.err(w, e)
                else:
                    used.add(d["field"])
            b = d.get("bucket")
            if b is None:
                pass
            elif isinstance(b, str):
                if b not in TIME_BUCKETS:
                    rep.err(w, f"bucket {b!r} is not one of {sorted(TIME_BUCKETS)} or {{width: w}}")
                elif xt is not None and xt not in TIME_TYPES:
                    rep.err(w, f"time bucket {b!r} on {d.get('field', 'a duration')!r}, a {xt} (date/datetime only)")
            elif isinstance(b, dict) and set(b) == {"width"}:
                wd = b["width"]
                if not isinstance(wd, (int, float)) or isinstance(wd, bool) or wd <= 0:
                    rep.err(w, "bucket width must be a positive number")
                if xt is not None and xt not in NUMERIC_TYPES:
                    rep.err(w, f"width bucket on {d.get('field')!r}, a {xt} field (numbers only)")
            else:
                rep.err(w, f"bucket {b!r} must be a time unit or {{\"width\": w}}")
            if "key" in d and not KEY_RE.match(str(d["key"])):
                rep.err(w, f"key {d['key']!r} does not match {KEY_RE.pattern}")
            if "label" in d:
                check_label(f"{w} label", d["label"], rep)
            key = d.get("key", d.get("field"))
            if "key" not in d and isinstance(b, str) and [x.get("field") for x in dims
                                                           if isinstance(x, dict)].count(d.get("field")) > 1:
                key = f"{d.get('field')}:{b}"  # the same field twice: reported_at:month
            dim_keys.append(key)
        for k in sorted({k for k in dim_keys if dim_keys.count(k) > 1}):
            rep.err(path, f"dimension key {k!r} is used twice; give one a \"key\"")

        meas = r.get("measures", [])
        if not isinstance(meas, list):
            meas = []
        m_keys = [m.get("key") for m in meas if isinstance(m, dict)]
        for k in sorted({k for k in m_keys if m_keys.count(k) > 1}, key=str):
            rep.err(path, f"measure key {k!r} is used twice")
        for k in sorted(set(m_keys) & set(dim_keys), key=str):
            rep.err(path, f"{k!r} is both a dimension and a measure key")
        for i, m in enumerate(meas):
            w = f"{path} measures[{i}]"
            if not isinstance(m, dict):
                rep.err(w, "must be an object")
                continue
            w = f"{path} measures/{m.get('key')}"
            extra = set(m) - {"key", "agg", "field", "duration", "where", "q", "of", "expr", "label"}
            if extra:
                rep.err(w, f"unknown keys {sorted(extra)}")
            if not KEY_RE.match(str(m.get("key", ""))):
                rep.err(w, f"key must match {KEY_RE.pattern}")
            if "label" in m:
                check_label(f"{w} label", m["label"], rep)
            agg = m.get("agg")
            if agg not in AGGS:
                rep.err(w, f"agg {agg!r} is not one of {sorted(AGGS)}")
                continue
            if "where" in m:
                if agg in DERIVED_AGGS:
                    rep.err(w, f"a {agg} has no where (restrict the measures it reads instead)")
                else:
                    check_logic(f"{w} where", m["where"], form, props_of, rep, set())
            if "q" in m and agg != "percentile":
                rep.err(w, "q is only for percentile")
            if "of" in m and agg != "ratio":
                rep.err(w, "of is only for ratio")
            if "expr" in m and agg != "formula":
                rep.err(w, "expr is only for formula")
            if agg in FIELD_AGGS:
                if ("field" in m) == ("duration" in m):
                    rep.err(w, f"{agg} needs exactly one of field or duration")
                elif "field" in m:
                    xt, _, e = resolve_path(props_of, form, m["field"])
                    if e:
                        rep.err(w, e)
                    elif agg in NUMERIC_AGGS and xt not in NUMERIC_TYPES:
                        rep.err(w, f"{agg} over {m['field']!r}, a {xt} field (numbers only)")
                    elif agg in ("min", "max") and xt not in NUMERIC_TYPES | TIME_TYPES:
                        rep.err(w, f"{agg} over {m['field']!r}, a {xt} field (numbers, dates)")
                else:
                    check_duration(w, m["duration"], form, props_of, rep)
                if agg == "percentile":
                    q = m.get("q")
                    if not isinstance(q, (int, float)) or isinstance(q, bool) or not 0 <= q <= 1:
                        rep.err(w, f"percentile needs q in [0, 1], has {q!r}")
            else:
                for k in ("field", "duration"):
                    if k in m:
                        rep.err(w, f"{agg} takes no {k}")
                if agg == "share" and "where" not in m:
                    rep.err(w, "share needs where (the rows it counts)")
                refs = None
                if agg == "ratio":
                    of = m.get("of")
                    if not isinstance(of, list) or len(of) != 2:
                        rep.err(w, "ratio needs of: [numerator, denominator]")
                    else:
                        refs = of
                if agg == "formula":
                    if "expr" not in m:
                        rep.err(w, "formula needs expr (arithmetic over other measures)")
                    else:
                        refs = formula_refs(w, m["expr"], rep)
                # plain measures, and derived ones listed before this one
                readable = [x.get("key") for j, x in enumerate(meas) if isinstance(x, dict)
                            and j != i and (j < i or x.get("agg") not in DERIVED_AGGS)]
                for o in refs or []:
                    if o not in readable:
                        rep.err(w, f"{agg} reads {o!r}: not another measure of this report "
                                   "(derived ones must come before it)")

        sort = r.get("sort", [])
        if not isinstance(sort, list):
            rep.err(path, "sort must be a list")
            sort = []
        for i, s in enumerate(sort):
            w = f"{path} sort[{i}]"
            if not isinstance(s, dict) or set(s) - {"by", "desc"}:
                rep.err(w, "must be {by, desc?}")
                continue
            if s.get("by") not in set(m_keys) | set(dim_keys) | {"_rows"}:
                rep.err(w, f"by {s.get('by')!r} names no measure or dimension key (or _rows)")
            if "desc" in s and not isinstance(s["desc"], bool):
                rep.err(w, "desc must be true/false")
        if "limit" in r:
            lim = r["limit"]
            if not isinstance(lim, int) or isinstance(lim, bool) or not 1 <= lim <= 1000:
                rep.err(path, "limit must be an integer from 1 to 1000")
            if not dims:
                rep.err(path, "limit keeps values of the first dimension; the report has none")
        if "others" in r:
            if not isinstance(r["others"], bool):
                rep.err(path, "others must be true/false")
            elif r["others"] and "limit" not in r:
                rep.warn(path, "others without limit has nothing to gather")
        chart = r.get("chart")
        if chart is not None:
            if not isinstance(chart, dict) or chart.get("kind") not in CHART_KINDS:
                rep.err(path, f"chart.kind must be one of {sorted(CHART_KINDS)}")
            else:
                extra = set(chart) - {"kind", "stacked", "horizontal"}
                if extra:
                    rep.err(path, f"chart: unknown keys {sorted(extra)}")
                for k in ("stacked", "horizontal"):
                    if k in chart:
                        if not isinstance(chart[k], bool):
                            rep.err(path, f"chart.{k} must be true/false")
                        elif chart["kind"] not in ("bar", "area"):
                            rep.warn(path, f"chart.{k} only applies to bar and area")
                if chart["kind"] == "number" and dims:
                    rep.warn(path, "a number chart shows one value; this report has dimensions")
    return reports


def check_dashboards(pkg, forms, reports, rep):
    """dashboards/<key>.json: roles, shared filters, widgets naming reports of the package,
    widget filters on date/datetime fields of the report's form; warns when a role the
    dashboard is for could not run a widget."""
    ddir = os.path.join(pkg, "dashboards")
    if not os.path.isdir(ddir):
        return 0
    props_of = {k: (f.get("schema") or {}).get("properties", {}) for k, f in forms.items()}
    roles = {}
    rdir = os.path.join(pkg, "roles")
    if os.path.isdir(rdir):
        for n in sorted(os.listdir(rdir)):
            if n.endswith(".json"):
                with open(os.path.join(rdir, n), encoding="utf-8") as fh:
                    try:
                        roles[n[:-5]] = json.load(fh)
                    except ValueError:
                        roles[n[:-5]] = None  # reported by check_roles
    n = 0
    for name in sorted(os.listdir(ddir)):
        path = os.path.join(ddir, name)
        if not name.endswith(".json"):
            rep.err(path, "unexpected file in dashboards/")
            continue
        if not KEY_RE.match(name[:-5]):
            rep.err(path, f"file name (the dashboard key) must match {KEY_RE.pattern}")
        d = load(path, rep)
        if d is None:
            continue
        if not isinstance(d, dict):
            rep.err(path, "a dashboard must be a JSON object")
            continue
        n += 1
        if "key" in d:
            rep.err(path, "no \"key\" member: the key is the file name")
        extra = set(d) - {"key", "label", "roles", "filters", "widgets"}
        if extra:
            rep.err(path, f"unknown keys {sorted(extra)}")
        check_label(f"{path} label", d.get("label"), rep)
        droles = d.get("roles", [])
        if not isinstance(droles, list):
            rep.err(path, "roles must be a list of role keys")
            droles = []
        for ro in droles:
            if ro not in roles:
                rep.err(path, f"role {ro!r} is not in roles/")
        filters = d.get("filters", [])
        if not isinstance(filters, list):
            rep.err(path, "filters must be a list")
            filters = []
        fkeys = {}
        for i, f in enumerate(filters):
            w = f"{path} filters[{i}]"
            if not isinstance(f, dict):
                rep.err(w, "must be an object")
                continue
            if set(f) - {"key", "type", "label"}:
                rep.err(w, f"unknown keys {sorted(set(f) - {'key', 'type', 'label'})}")
            if not KEY_RE.match(str(f.get("key", ""))):
                rep.err(w, f"key must match {KEY_RE.pattern}")
            elif f["key"] in fkeys:
                rep.err(w, f"filter key {f['key']!r} is used twice")
            if f.get("type") not in DASHBOARD_FILTER_TYPES:
                rep.err(w, f"type {f.get('type')!r} is not one of {sorted(DASHBOARD_FILTER_TYPES)}")
            check_label(f"{w} label", f.get("label"), rep)
            fkeys.setdefault(f.get("key"), f.get("type"))
        widgets = d.get("widgets", [])
        if not isinstance(widgets, list) or not widgets:
            rep.err(path, "widgets must be a non-empty list")
            widgets = []
        cells = {}
        for i, wd in enumerate(widgets):
            w = f"{path} widgets[{i}]"
            if not isinstance(wd, dict):
                rep.err(w, "must be an object")
                continue
            extra = set(wd) - {"report", "x", "y", "w", "h", "filters"}
            if extra:
                rep.err(w, f"unknown keys {sorted(extra)}")
            rk = wd.get("report")
            r = reports.get(rk)
            if r is None:
                rep.err(w, f"report {rk!r} is not in reports/")
            w = f"{path} widgets[{i}] ({rk})"
            geo = [wd.get(k) for k in ("x", "y", "w", "h")]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in geo) \
                    or geo[0] < 0 or geo[1] < 0 or geo[2] < 1 or geo[3] < 1:
                rep.err(w, "x, y (>= 0) and w, h (>= 1) must be integers")
            elif geo[0] + geo[2] > GRID_COLUMNS:
                rep.err(w, f"x + w = {geo[0] + geo[2]} is wider than the {GRID_COLUMNS}-column grid")
            else:
                for cx in range(geo[0], geo[0] + geo[2]):
                    for cy in range(geo[1], geo[1] + geo[3]):
                        if (cx, cy) in cells:
                            rep.warn(w, f"overlaps widget {cells[(cx, cy)]} at ({cx}, {cy})")
                            break
                        cells[(cx, cy)] = i
                    else:
                        continue
                    break
            wf = wd.get("filters", {})
            if not isinstance(wf, dict):
                rep.err(w, "filters must map shared filter keys to fields")
                wf = {}
            form = r.get("form") if isinstance(r, dict) else None
            for fk, field in wf.items():
                if fk not in fkeys:
                    rep.err(w, f"filters: {fk!r} is not a shared filter of the dashboard")
                    continue
                if form not in forms:
                    continue
                xt, joined, e = resolve_path(props_of, form, field)
                if e:
                    rep.err(w, f"filters/{fk}: {e}")
                elif joined:
                    rep.warn(w, f"filters/{fk}: {field!r} is a joined field; drill filters cannot carry it")
                elif fkeys[fk] == "date_range" and xt not in TIME_TYPES:
                    rep.err(w, f"filters/{fk}: {field!r} is a {xt} field; a date_range needs a date or datetime")
                elif fkeys[fk] == "select" and xt not in SELECT_FILTER_FIELD_TYPES:
                    rep.err(w, f"filters/{fk}: {field!r} is a {xt} field; a select filter needs one of "
                               f"{sorted(SELECT_FILTER_FIELD_TYPES)}")
            # an explicit "filters": {} says the widget ignores the shared filters on purpose
            for fk in fkeys:
                if fk not in wf and "filters" not in wd:
                    rep.warn(w, f"does not map the shared filter {fk!r}; it will ignore it")
            if form not in forms:
                continue
            used = r["used"] | {f for f in wf.values() if isinstance(f, str)}
            for ro in droles:
                role = roles.get(ro)
                if role is None:
                    continue
                if not role_reads(role, form):
                    rep.warn(w, f"role {ro!r} cannot read form {form!r}; the widget stays empty for it")
                    continue
                denied = sorted({x for x in (role_reads_path(role, props_of, form, f) for f in used) if x})
                if denied:
                    rep.warn(w, f"role {ro!r} may not read {denied}; the run is refused for it")
    return n


VIEW_KEYS = {"filter", "sort", "columns", "page_size"}


def check_views(pkg, forms, rep):
    """views/<form>.json: the form's shared list views, a list of {name, spec}; the spec
    names fields of the form (or system columns) in its columns, sort and filter."""
    vdir = os.path.join(pkg, "views")
    if not os.path.isdir(vdir):
        return 0
    props_of = {k: (f.get("schema") or {}).get("properties", {}) for k, f in forms.items()}
    n = 0
    for fname in sorted(os.listdir(vdir)):
        path = os.path.join(vdir, fname)
        form = fname[:-5]
        if not fname.endswith(".json") or form not in forms:
            rep.err(path, "views/<form>.json must name a form of the package")
            continue
        views = load(path, rep)
        if not isinstance(views, list):
            rep.err(path, "a list of views, each {name, spec}")
            continue
        names = set()
        for i, v in enumerate(views):
            w = f"{path}[{i}]"
            if not isinstance(v, dict) or set(v) - {"name", "spec"}:
                rep.err(w, "a view is {name, spec}")
                continue
            name = v.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                rep.err(w, "name: 1-100 characters")
            elif name in names:
                rep.err(w, f"two views named {name!r}")
            names.add(name)
            spec = v.get("spec")
            if not isinstance(spec, dict) or set(spec) - VIEW_KEYS:
                rep.err(w, f"spec is an object of {sorted(VIEW_KEYS)}")
                continue
            known = lambda f: f in props_of[form] or f in SYSTEM_FIELDS
            for c in spec.get("columns", []):
                if not known(c):
                    rep.err(w, f"columns: {form} has no field {c!r}")
            for part in (spec.get("sort") or "").split(","):
                if part and not known(part.lstrip("+-")):
                    rep.err(w, f"sort: {form} has no field {part!r}")
            if "filter" in spec:
                check_logic(w + ".filter", spec["filter"], form, props_of, rep, set())
            n += 1
    return n


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    pkgs = argv[1:] or sorted(
        os.path.join(here, d) for d in os.listdir(here)
        if os.path.isfile(os.path.join(here, d, "app.json")))
    if not pkgs:
        print("no packages found", file=sys.stderr)
        return 1
    rep = Report()
    for pkg in pkgs:
        forms, order = check_package(pkg.rstrip("/"), rep)
        roles = check_roles(pkg.rstrip("/"), forms, rep)
        flows = check_flows(pkg.rstrip("/"), forms, rep)
        reports = check_reports(pkg.rstrip("/"), forms, rep)
        dashboards = check_dashboards(pkg.rstrip("/"), forms, reports, rep)
        views = check_views(pkg.rstrip("/"), forms, rep)
        counts = ", ".join(f"{k}({len(f.get('schema', {}).get('properties', {}))})" for k, f in forms.items())
        print(f"{pkg}: {len(forms)} forms: {counts}; {roles} roles; {flows} flows; "
              f"{len(reports)} reports; {dashboards} dashboards; {views} shared views")
        print(f"  creation order: {' '.join(order)}")
    for w in rep.warnings:
        print("warning:", w)
    for e in rep.errors:
        print("error:", e)
    print(f"{len(rep.errors)} error(s), {len(rep.warnings)} warning(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
