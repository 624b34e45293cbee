//! The shape of a flow definition, checked on every draft save.

use super::*;

/// Shape checks (a draft must pass these).
pub fn check_shape(def: &Value, path_key: &str) -> Vec<Detail> {
    let mut out = Vec::new();
    let Some(o) = def.as_object() else {
        return vec![d("", "type", "a flow definition is a JSON object")];
    };
    for k in o.keys() {
        if ![
            "key",
            "label",
            "description",
            "trigger",
            "nodes",
            "edges",
            "layout",
        ]
        .contains(&k.as_str())
        {
            out.push(d(
                format!("/{k}"),
                "unknown_property",
                format!("unknown key {k}"),
            ));
        }
    }
    match o.get("key").and_then(Value::as_str) {
        Some(k) if is_key(k) && k == path_key => {}
        Some(k) if k != path_key => out.push(d(
            "/key",
            "key",
            format!("key {k} differs from the path ({path_key})"),
        )),
        _ => out.push(d(
            "/key",
            "key",
            "key is required: lower-case letters, digits and _, starting with a letter",
        )),
    }
    if !o.get("label").is_some_and(|l| {
        l.as_object()
            .is_some_and(|m| !m.is_empty() && m.values().all(Value::is_string))
    }) {
        out.push(d("/label", "label", "a label is an object of locale → text, e.g. {\"zh-CN\": \"派工\", \"en\": \"Dispatch\"}"));
    }
    match o.get("trigger").and_then(Value::as_object) {
        None => out.push(d("/trigger", "required", "a flow needs a trigger")),
        Some(t) => {
            match t.get("type").and_then(Value::as_str) {
                Some(k) if TRIGGERS.contains(&k) => {}
                other => out.push(d(
                    "/trigger/type",
                    "enum",
                    format!(
                        "trigger type is one of {}, not {other:?}",
                        TRIGGERS.join(", ")
                    ),
                )),
            }
            let schedule = t.get("type").and_then(Value::as_str) == Some("schedule");
            let formless = schedule
                || matches!(
                    t.get("type").and_then(Value::as_str),
                    Some("webhook" | "subflow")
                );
            if !formless && !t.get("form").is_some_and(Value::is_string) {
                out.push(d("/trigger/form", "required", "the trigger names a form"));
            }
            if schedule && !t.get("cron").is_some_and(Value::is_string) {
                out.push(d(
                    "/trigger/cron",
                    "required",
                    "a schedule needs cron, e.g. \"0 9 * * 1\"",
                ));
            }
            if t.get("type").and_then(Value::as_str) == Some("date_field") {
                if !t.get("field").is_some_and(Value::is_string) {
                    out.push(d(
                        "/trigger/field",
                        "required",
                        "a date trigger names a date field",
                    ));
                }
                if t.get("offset_days").is_some_and(|v| !v.is_i64()) {
                    out.push(d(
                        "/trigger/offset_days",
                        "type",
                        "offset_days is a whole number of days (negative: before)",
                    ));
                }
            }
            for k in t.keys() {
                if ![
                    "type",
                    "form",
                    "fields",
                    "condition",
                    "field",
                    "offset_days",
                    "cron",
                ]
                .contains(&k.as_str())
                {
                    out.push(d(
                        format!("/trigger/{k}"),
                        "unknown_property",
                        format!("unknown trigger key {k}"),
                    ));
                }
            }
            if let Some(f) = t.get("fields")
                && !f.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            {
                out.push(d(
                    "/trigger/fields",
                    "type",
                    "fields is a list of field keys",
                ));
            }
        }
    }
    let nodes = o.get("nodes").and_then(Value::as_array);
    if nodes.is_none() {
        out.push(d("/nodes", "required", "nodes is a list"));
    }
    for (i, n) in nodes.into_iter().flatten().enumerate() {
        let p = format!("/nodes/{i}");
        let Some(n) = n.as_object() else {
            out.push(d(p, "type", "a node is an object"));
            continue;
        };
        if !n
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty() && s.len() <= 64)
        {
            out.push(d(
                format!("{p}/id"),
                "required",
                "a node needs an id (1–64 characters)",
            ));
        }
        let kind = n.get("type").and_then(Value::as_str).unwrap_or("");
        if !NODE_TYPES.contains(&kind) {
            out.push(d(
                format!("{p}/type"),
                "enum",
                format!("node type is one of {}", NODE_TYPES.join(", ")),
            ));
            continue;
        }
        for k in n.keys() {
            if !["id", "type", "label"].contains(&k.as_str())
                && !node_keys(kind).contains(&k.as_str())
            {
                out.push(d(
                    format!("{p}/{k}"),
                    "unknown_property",
                    format!("a {kind} node has no {k}"),
                ));
            }
        }
    }
    let edges = o.get("edges").and_then(Value::as_array);
    if edges.is_none() {
        out.push(d("/edges", "required", "edges is a list"));
    }
    for (i, e) in edges.into_iter().flatten().enumerate() {
        let p = format!("/edges/{i}");
        let Some(e) = e.as_object() else {
            out.push(d(p, "type", "an edge is an object"));
            continue;
        };
        for k in ["from", "to"] {
            if !e.get(k).is_some_and(Value::is_string) {
                out.push(d(
                    format!("{p}/{k}"),
                    "required",
                    format!("an edge needs {k}"),
                ));
            }
        }
        for k in e.keys() {
            if ![
                "id", "from", "to", "when", "default", "outcome", "label", "each",
            ]
            .contains(&k.as_str())
            {
                out.push(d(
                    format!("{p}/{k}"),
                    "unknown_property",
                    format!("an edge has no {k}"),
                ));
            }
        }
    }
    if let Some(l) = o.get("layout")
        && !l.is_object()
    {
        out.push(d(
            "/layout",
            "type",
            "layout is an object of node id → {x, y}",
        ));
    }
    out
}
