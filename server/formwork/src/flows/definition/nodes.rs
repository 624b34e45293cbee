//! Publish checks of each node: its type allowed by the trigger, its outgoing edges, and
//! what it names (forms, fields, assignees, templates, conditions).

use super::graph::{Graph, node_kind};
use super::*;

/// A before-write guard runs inside the write: only the nodes that can; `reject` only there.
pub(super) fn check_guard_nodes(def: &Value, nodes: &[&Map<String, Value>], out: &mut Vec<Detail>) {
    let guard = def["trigger"]["type"] == "before_write";
    for (i, n) in nodes.iter().enumerate() {
        let k = node_kind(n);
        if guard && !crate::flows::guard::GUARD_NODES.contains(&k.as_str()) {
            out.push(d(
                format!("/nodes/{i}/type"),
                "guard",
                format!(
                    "a before-write guard runs inside the write: only {} nodes, not {k}",
                    crate::flows::guard::GUARD_NODES.join(", ")
                ),
            ));
        }
        if !guard && k == "reject" {
            out.push(d(
                format!("/nodes/{i}/type"),
                "guard",
                "reject is only for before-write guards",
            ));
        }
    }
}

/// Node `i`'s outgoing edges: as many as its type sends on, with their outcomes.
pub(super) fn check_node_edges(g: &Graph, i: usize, out: &mut Vec<Detail>) {
    let Graph {
        nodes,
        edges,
        index,
        outgoing,
        ..
    } = g;
    let n = nodes[i];
    let p = format!("/nodes/{i}");
    let k = node_kind(n);
    let outs = &outgoing[i];
    let out_edges: Vec<&Map<String, Value>> = outs.iter().map(|&j| edges[j]).collect();
    match k.as_str() {
        "end" | "reject" => {
            if !outs.is_empty() {
                out.push(d(&p, "edges", format!("an {k} node has no outgoing edges")));
            }
        }
        "branch" => {
            let defaults = out_edges
                .iter()
                .filter(|e| e.get("default") == Some(&Value::Bool(true)))
                .count();
            if defaults != 1 {
                out.push(d(
                    &p,
                    "default",
                    "a branch needs exactly one edge with \"default\": true",
                ));
            }
            for &j in outs {
                if edges[j].get("default") != Some(&Value::Bool(true))
                    && edges[j].get("when").is_none()
                {
                    out.push(d(
                        format!("/edges/{j}/when"),
                        "required",
                        "an edge out of a branch needs a condition (when) or default",
                    ));
                }
            }
        }
        "http" | "report" | "subflow" => {
            let ok = out_edges
                .iter()
                .filter(|e| e.get("outcome").and_then(Value::as_str) != Some("failed"))
                .count();
            let failed = out_edges.len() - ok;
            if ok != 1 || failed > 1 {
                out.push(d(
                    &p,
                    "edges",
                    format!("an {k} node needs one edge (or one with outcome {}) and at most one with outcome failed", if k == "subflow" { "completed" } else { "ok" }),
                ));
            }
        }
        "loop" => {
            let each: Vec<usize> = outs
                .iter()
                .copied()
                .filter(|&j| edges[j].get("each") == Some(&Value::Bool(true)))
                .collect();
            if each.len() != 1 || outs.len() != 2 {
                out.push(d(
                    &p,
                    "edges",
                    "a loop needs two edges: one with \"each\": true into its body, one out when the list is done",
                ));
            } else if let Some(&start) = edges[each[0]]
                .get("to")
                .and_then(Value::as_str)
                .and_then(|t| index.get(t))
            {
                // The body must lead back to the loop for the next item.
                if !g.reachable_from(start)[i] {
                    out.push(d(
                        &p,
                        "loop",
                        "the body of a loop (the each edge) must lead back to the loop",
                    ));
                }
            }
            match n.get("over") {
                None => out.push(d(format!("{p}/over"), "required", "a loop needs over: JSON Logic giving the list (e.g. {\"var\": \"vars.due\"} or a sub-table {\"var\": \"record.parts_used\"})")),
                Some(o) => check_logic(o, &format!("{p}/over"), out),
            }
            if let Some(a) = n.get("as")
                && !a.as_str().is_some_and(is_key)
            {
                out.push(d(
                    format!("{p}/as"),
                    "key",
                    "as (vars.<as> holds the current item) is a lower-case key",
                ));
            }
        }
        "parallel" => {
            if outs.is_empty() {
                out.push(d(&p, "edges", "a parallel split needs outgoing edges"));
            }
        }
        "approval" => {
            for o in ["approved", "rejected"] {
                let c = out_edges
                    .iter()
                    .filter(|e| e.get("outcome").and_then(Value::as_str) == Some(o))
                    .count();
                if c != 1 {
                    out.push(d(
                        &p,
                        "outcome",
                        format!("an approval needs exactly one edge with outcome {o}"),
                    ));
                }
            }
        }
        _ => {
            if outs.len() != 1 {
                out.push(d(
                    &p,
                    "edges",
                    format!(
                        "a {k} node needs exactly one outgoing edge, not {}",
                        outs.len()
                    ),
                ));
            }
        }
    }
}

/// What node `i` names and configures: join modes, assignees, fields, records, templates,
/// conditions.
pub(super) fn check_node_config(
    def: &Value,
    g: &Graph,
    i: usize,
    facts: &AppFacts,
    out: &mut Vec<Detail>,
) {
    let Graph {
        nodes,
        edges,
        index,
        outgoing,
        incoming,
        ..
    } = g;
    let n = nodes[i];
    let form = def["trigger"]["form"].as_str().unwrap_or("");
    let props = facts.forms.get(form);
    let has_field = |f: &str| props.is_some_and(|p| p.contains_key(f));
    let p = format!("/nodes/{i}");
    let k = node_kind(n);
    let outs = &outgoing[i];
    let out_edges: Vec<&Map<String, Value>> = outs.iter().map(|&j| edges[j]).collect();
    if k == "join" {
        if incoming[i] < 2 {
            out.push(d(&p, "join", "a join needs at least two incoming edges"));
        }
        match n.get("mode") {
            None => {}
            Some(Value::String(m)) if m == "all" || m == "any" => {}
            Some(Value::Object(m))
                if m.len() == 1
                    && m.get("activated_by").and_then(Value::as_str).is_some_and(|b| {
                        index.get(b).is_some_and(|&k| {
                            node_kind(nodes[k]) == "branch"
                                && nodes[k].get("multi") == Some(&Value::Bool(true))
                        })
                    }) => {}
            Some(Value::Object(m))
                if m.get("n")
                    .and_then(Value::as_u64)
                    .is_some_and(|x| x >= 1 && x as usize <= incoming[i]) => {}
            Some(_) => out.push(d(
                format!("{p}/mode"),
                "join",
                "mode is all, any, {\"n\": k} with k ≤ the incoming edges, or {\"activated_by\": <id of a multi-choice branch>}",
            )),
        }
    }
    if k == "approval" || k == "task" {
        match n.get("assignee") {
            None => out.push(d(
                format!("{p}/assignee"),
                "required",
                "a task needs an assignee",
            )),
            Some(a) => check_assignee(a, &format!("{p}/assignee"), props, facts, out),
        }
        if let Some(m) = n.get("mode")
            && !matches!(m.as_str(), Some("any" | "all" | "sequential"))
        {
            out.push(d(
                format!("{p}/mode"),
                "enum",
                "mode is any, all or sequential",
            ));
        }
        for (x, f) in n
            .get("editable")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !f.as_str().is_some_and(&has_field) {
                out.push(d(
                    format!("{p}/editable/{x}"),
                    "exists",
                    format!("{form} has no field {f}"),
                ));
            }
        }
        if let Some(dl) = n.get("deadline") {
            check_deadline(dl, &format!("{p}/deadline"), &k, props, facts, out);
        }
    }
    if k == "update_record" {
        // Another record (`form` + `record`: JSON Logic giving its id) or the trigger record.
        let other = n.get("form").and_then(Value::as_str);
        let target_props = match other {
            Some(f) => {
                if !n.contains_key("record") {
                    out.push(d(
                        format!("{p}/record"),
                        "required",
                        "updating another form's record needs record (JSON Logic giving its id)",
                    ));
                }
                let tp = facts.forms.get(f);
                if tp.is_none() {
                    out.push(d(
                        format!("{p}/form"),
                        "exists",
                        format!("{f} is not a published form of this app"),
                    ));
                }
                tp
            }
            None => props,
        };
        let target_name = other.unwrap_or(form);
        if let Some(r) = n.get("record") {
            check_logic(r, &format!("{p}/record"), out);
        }
        match n.get("set").and_then(Value::as_object) {
            None => out.push(d(
                format!("{p}/set"),
                "required",
                "set is an object of field → value",
            )),
            Some(s) => {
                for (f, v) in s {
                    if target_props.is_some_and(|tp| !tp.contains_key(f)) {
                        out.push(d(
                            format!("{p}/set/{}", crate::schema::definition::escape(f)),
                            "exists",
                            format!("{target_name} has no field {f}"),
                        ));
                    }
                    check_logic(v, &format!("{p}/set/{f}"), out);
                }
            }
        }
    }
    if k == "create_record" {
        let target = n.get("form").and_then(Value::as_str).unwrap_or("");
        match facts.forms.get(target) {
            None => out.push(d(
                format!("{p}/form"),
                "exists",
                format!("{target} is not a published form of this app"),
            )),
            Some(tp) => {
                for (f, v) in n
                    .get("data")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if !tp.contains_key(f) {
                        out.push(d(
                            format!("{p}/data/{f}"),
                            "exists",
                            format!("{target} has no field {f}"),
                        ));
                    }
                    check_logic(v, &format!("{p}/data/{f}"), out);
                }
            }
        }
    }
    if k == "subflow" {
        let child = n.get("flow").and_then(Value::as_str).unwrap_or("");
        if child == def["key"].as_str().unwrap_or("") {
            out.push(d(
                format!("{p}/flow"),
                "subflow",
                "a flow cannot start itself as a sub-flow",
            ));
        } else if !facts.flows.contains(child) {
            out.push(d(
                format!("{p}/flow"),
                "exists",
                format!("{child:?} is not a published flow of this app"),
            ));
        }
        if let Some(f) = n.get("form").and_then(Value::as_str) {
            if !facts.forms.contains_key(f) {
                out.push(d(
                    format!("{p}/form"),
                    "exists",
                    format!("{f} is not a published form of this app"),
                ));
            }
            if !n.contains_key("record") {
                out.push(d(
                    format!("{p}/record"),
                    "required",
                    "a sub-flow on another form's record needs record (JSON Logic giving its id)",
                ));
            }
        }
        if let Some(r) = n.get("record") {
            check_logic(r, &format!("{p}/record"), out);
        }
        for (f, v) in n
            .get("input")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            check_logic(v, &format!("{p}/input/{f}"), out);
        }
        if let Some(name) = n.get("name")
            && !name.as_str().is_some_and(is_key)
        {
            out.push(d(
                format!("{p}/name"),
                "key",
                "name (vars.<name> gets the sub-flow's result) is a lower-case key",
            ));
        }
        if n.get("wait").is_some_and(|w| !w.is_boolean()) {
            out.push(d(
                format!("{p}/wait"),
                "type",
                "wait is true (default: wait for the sub-flow) or false",
            ));
        }
        if let Some(k) = n.get("key") {
            check_logic(k, &format!("{p}/key"), out);
        }
        if n.get("wait") == Some(&Value::Bool(false))
            && out_edges
                .iter()
                .any(|e| e.get("outcome").and_then(Value::as_str) == Some("failed"))
        {
            out.push(d(
                &p,
                "outcome",
                "a sub-flow that is not waited for has no failed edge",
            ));
        }
    }
    if k == "notify" || k == "http" {
        check_effect(n, &p, &k, facts, out);
    }
    if k == "report" {
        check_report_node(n, &p, facts, out);
    }
    if k == "notify" || k == "cc" {
        let channel = n.get("channel").and_then(Value::as_str).unwrap_or("inbox");
        match n.get("to") {
            None if channel == "webhook" => {}
            None if channel == "email" && n.contains_key("address") => {}
            None => out.push(d(
                format!("{p}/to"),
                "required",
                "notify needs recipients (to)",
            )),
            Some(a) => check_assignee(a, &format!("{p}/to"), props, facts, out),
        }
        for t in ["title", "body"] {
            if channel == "webhook" {
                break;
            }
            match n.get(t).and_then(Value::as_str) {
                None if t == "title" && k == "notify" => {
                    out.push(d(format!("{p}/title"), "required", "notify needs a title"))
                }
                None => {}
                Some(s) => {
                    if let Err(e) = handlebars::Template::compile(s) {
                        out.push(d(
                            format!("{p}/{t}"),
                            "template",
                            format!("not a valid template: {e}"),
                        ));
                    }
                }
            }
        }
    }
    if k == "delay" {
        match n.get("until") {
            Some(u) => {
                check_logic(u, &format!("{p}/until"), out);
                if duration_minutes(n).is_some() {
                    out.push(d(&p, "delay", "a delay has either a duration or until, not both"));
                }
            }
            None if duration_minutes(n).is_none() => out.push(d(
                &p,
                "delay",
                "a delay needs minutes, hours or days (> 0), or until (JSON Logic giving a date or datetime)",
            )),
            None => {}
        }
    }
    if k == "query" {
        let target = n.get("form").and_then(Value::as_str).unwrap_or("");
        match facts.forms.get(target) {
            None => out.push(d(
                format!("{p}/form"),
                "exists",
                format!("{target} is not a published form of this app"),
            )),
            Some(tp) => {
                let mut names = Vec::new();
                crate::schema::definition::logic_vars(
                    n.get("filter").unwrap_or(&Value::Null),
                    &mut names,
                );
                for v in names {
                    let top = v.split('.').next().unwrap_or("");
                    if !crate::flows::guard::is_context_var(&v)
                        && !tp.contains_key(top)
                        && crate::query::fields::SysCol::parse(top).is_none()
                    {
                        out.push(d(format!("{p}/filter"), "exists", format!("{v} is neither a field of {target} (or a system column such as _id) nor record.*, vars.*, task.*, initiator, today or now")));
                    }
                }
            }
        }
        if !n.get("name").and_then(Value::as_str).is_some_and(is_key) {
            out.push(d(
                format!("{p}/name"),
                "key",
                "a query needs a name for its result (vars.<name>)",
            ));
        }
    }
    if k == "users" {
        match n.get("of") {
            None => out.push(d(
                format!("{p}/of"),
                "required",
                "users needs whom to list (of: an assignee such as {\"role\": key})",
            )),
            Some(a) => check_assignee(a, &format!("{p}/of"), props, facts, out),
        }
        if !n.get("name").and_then(Value::as_str).is_some_and(is_key) {
            out.push(d(
                format!("{p}/name"),
                "key",
                "users needs a name for its list (vars.<name>)",
            ));
        }
    }
    if k == "reject" && !n.get("message").is_some_and(Value::is_string) {
        out.push(d(
            format!("{p}/message"),
            "required",
            "reject needs a message",
        ));
    }
    if k == "set_var" {
        if !n.get("name").and_then(Value::as_str).is_some_and(is_key) {
            out.push(d(
                format!("{p}/name"),
                "key",
                "set_var needs a name (lower-case key)",
            ));
        }
        match n.get("value") {
            None => out.push(d(format!("{p}/value"), "required", "set_var needs a value")),
            Some(v) => check_logic(v, &format!("{p}/value"), out),
        }
    }
}
