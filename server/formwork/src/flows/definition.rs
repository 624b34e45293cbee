//! Flow definitions: `{key, label, trigger, nodes, edges, layout}` (docs/flows.md). A draft
//! is checked for shape; publishing also checks the graph and every form, field, user and
//! role it names. Problems are details with pointers into the definition.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};

use crate::error::Detail;
use crate::keys::is_key;

mod checks;
mod shape;
mod warnings;

pub use checks::duration_minutes;
use checks::{
    arrivals, check_assignee, check_deadline, check_effect, check_logic, check_report_node,
};
pub use shape::check_shape;
pub use warnings::publish_warnings;

pub const NODE_TYPES: &[&str] = &[
    "start",
    "end",
    "branch",
    "parallel",
    "join",
    "approval",
    "task",
    "update_record",
    "create_record",
    "notify",
    "cc",
    "http",
    "report",
    "delay",
    "set_var",
    "query",
    "users",
    "loop",
    "subflow",
    "reject",
];

pub const TRIGGERS: &[&str] = &[
    "record_created",
    "record_updated",
    "record_deleted",
    "manual",
    "date_field",
    "schedule",
    "before_write",
    "webhook",
    "subflow",
];

/// Keys a node of each type may have (besides id, type, label).
fn node_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "join" => &["mode"],
        "branch" => &["multi"],
        "approval" | "task" => &["assignee", "mode", "editable", "deadline"],
        "update_record" => &["set", "form", "record"],
        "create_record" => &["form", "data"],
        "notify" => &[
            "to", "title", "body", "channel", "address", "as_role", "url", "payload", "headers",
        ],
        "cc" => &["to", "title", "body"],
        "http" => &["method", "url", "headers", "body", "name", "as_role"],
        "report" => &["report", "as_role", "filter", "name"],
        "delay" => &["minutes", "hours", "days", "until"],
        "set_var" => &["name", "value"],
        "query" => &["form", "filter", "name", "limit"],
        "users" => &["of", "name"],
        "reject" => &["message"],
        "loop" => &["over", "as"],
        "subflow" => &["flow", "form", "record", "input", "name", "wait", "key"],
        "end" => &["terminate"],
        _ => &[],
    }
}

fn d(p: impl Into<String>, rule: &str, msg: impl Into<String>) -> Detail {
    Detail::new(p, rule, msg)
}

/// What publishing needs to know about the app.
pub struct AppFacts {
    /// Form key → its (published) schema properties.
    pub forms: HashMap<String, Map<String, Value>>,
    pub users: HashSet<String>,
    pub roles: HashSet<String>,
    /// Roles that at least one enabled user holds.
    pub staffed_roles: HashSet<String>,
    /// Keys of the app's published flows (sub-flow targets).
    pub flows: HashSet<String>,
    /// Keys of the app's published reports (report nodes).
    pub reports: HashSet<String>,
    /// `(role, form)` pairs where the role may `approve` (form `*`: every form).
    pub approvers: HashSet<(String, String)>,
}

/// Flow definitions in an order that publishes every sub-flow before the flows that start
/// it (a package's `flows/`); otherwise by key. Cycles keep their key order (and fail their
/// publish check with a pointer).
pub fn publish_order(defs: &[Value]) -> Vec<Value> {
    let mut left: Vec<&Value> = defs.iter().collect();
    left.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    let mut done: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    while !left.is_empty() {
        let keys: HashSet<&str> = left.iter().filter_map(|d| d["key"].as_str()).collect();
        let ready = left.iter().position(|d| {
            d["nodes"].as_array().into_iter().flatten().all(|n| {
                n["type"] != "subflow"
                    || n["flow"]
                        .as_str()
                        .is_none_or(|f| done.contains(f) || !keys.contains(f))
            })
        });
        let d = left.remove(ready.unwrap_or(0));
        done.insert(d["key"].as_str().unwrap_or("").to_owned());
        out.push(d.clone());
    }
    out
}

/// Graph and reference checks for publishing (after `check_shape` passed).
pub fn check_publish(def: &Value, facts: &AppFacts) -> Vec<Detail> {
    let mut out = Vec::new();
    let nodes: Vec<&Map<String, Value>> = def["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let edges: Vec<&Map<String, Value>> = def["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let id = |n: &Map<String, Value>| n.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    let kind = |n: &Map<String, Value>| {
        n.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if index.insert(id(n), i).is_some() {
            out.push(d(
                format!("/nodes/{i}/id"),
                "unique",
                format!("node id {} is used twice", id(n)),
            ));
        }
    }
    let starts: Vec<usize> = (0..nodes.len())
        .filter(|&i| kind(nodes[i]) == "start")
        .collect();
    if starts.len() != 1 {
        out.push(d(
            "/nodes",
            "start",
            format!("a flow has exactly one start node, not {}", starts.len()),
        ));
    }
    if !nodes.iter().any(|n| kind(n) == "end") {
        out.push(d("/nodes", "end", "a flow needs an end node"));
    }
    let guard = def["trigger"]["type"] == "before_write";
    for (i, n) in nodes.iter().enumerate() {
        let k = kind(n);
        if guard && !super::guard::GUARD_NODES.contains(&k.as_str()) {
            out.push(d(
                format!("/nodes/{i}/type"),
                "guard",
                format!(
                    "a before-write guard runs inside the write: only {} nodes, not {k}",
                    super::guard::GUARD_NODES.join(", ")
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
    let mut outgoing: Vec<Vec<usize>> = vec![vec![]; nodes.len()];
    let mut incoming: Vec<usize> = vec![0; nodes.len()];
    for (j, e) in edges.iter().enumerate() {
        let from = e.get("from").and_then(Value::as_str).unwrap_or("");
        let to = e.get("to").and_then(Value::as_str).unwrap_or("");
        let (Some(&a), Some(&b)) = (index.get(from), index.get(to)) else {
            for (k, v) in [("from", from), ("to", to)] {
                if !index.contains_key(v) {
                    out.push(d(
                        format!("/edges/{j}/{k}"),
                        "exists",
                        format!("there is no node {v}"),
                    ));
                }
            }
            continue;
        };
        outgoing[a].push(j);
        incoming[b] += 1;
        if let Some(w) = e.get("when") {
            check_logic(w, &format!("/edges/{j}/when"), &mut out);
            if kind(nodes[a]) != "branch" {
                out.push(d(
                    format!("/edges/{j}/when"),
                    "edge",
                    "only edges out of a branch have a condition",
                ));
            }
        }
        if let Some(o) = e.get("outcome") {
            let allowed: &[&str] = match kind(nodes[a]).as_str() {
                "approval" => &["approved", "rejected"],
                "http" | "report" => &["ok", "failed"],
                "subflow" => &["completed", "failed"],
                _ => &[],
            };
            if !o.as_str().is_some_and(|o| allowed.contains(&o)) {
                out.push(d(
                    format!("/edges/{j}/outcome"),
                    "enum",
                    if allowed.is_empty() {
                        "only edges out of an approval, an http or a subflow node have an outcome"
                            .to_owned()
                    } else {
                        format!("outcome is {}", allowed.join(" or "))
                    },
                ));
            }
        }
    }
    let form = def["trigger"]["form"].as_str().unwrap_or("");
    let props = facts.forms.get(form);
    let ttype = def["trigger"]["type"].as_str().unwrap_or("");
    if ttype == "schedule"
        && let Some(c) = def["trigger"]["cron"].as_str()
        && let Err(e) = super::cron::Cron::parse(c)
    {
        out.push(d("/trigger/cron", "cron", e));
    }

    if ttype == "date_field" {
        let f = def["trigger"]["field"].as_str().unwrap_or("");
        let t = props
            .and_then(|p| p.get(f))
            .and_then(|x| x.get("x-type"))
            .and_then(Value::as_str);
        if props.is_some() && !matches!(t, Some("date" | "datetime")) {
            out.push(d(
                "/trigger/field",
                "date",
                format!("{f} is not a date or datetime field of {form}"),
            ));
        }
    }
    if ttype == "webhook" && def["trigger"].get("form").is_some() {
        out.push(d(
            "/trigger/form",
            "webhook",
            "a webhook trigger starts without a record; its body is vars.payload",
        ));
    } else if props.is_none()
        && !((ttype == "schedule" || ttype == "subflow") && form.is_empty())
        && ttype != "webhook"
    {
        out.push(d(
            "/trigger/form",
            "exists",
            format!("{form} is not a published form of this app"),
        ));
    }
    let has_field = |f: &str| props.is_some_and(|p| p.contains_key(f));
    for (k, f) in def["trigger"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let f = f.as_str().unwrap_or("");
        if props.is_some() && !has_field(f) {
            out.push(d(
                format!("/trigger/fields/{k}"),
                "exists",
                format!("{form} has no field {f}"),
            ));
        }
    }
    if let Some(c) = def["trigger"].get("condition") {
        check_logic(c, "/trigger/condition", &mut out);
    }
    for (i, n) in nodes.iter().enumerate() {
        let p = format!("/nodes/{i}");
        let k = kind(n);
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
                    let mut seen = vec![false; nodes.len()];
                    let mut q = VecDeque::from([start]);
                    seen[start] = true;
                    while let Some(a) = q.pop_front() {
                        for &j in &outgoing[a] {
                            if let Some(&b) = edges[j]
                                .get("to")
                                .and_then(Value::as_str)
                                .and_then(|t| index.get(t))
                                && !seen[b]
                            {
                                seen[b] = true;
                                q.push_back(b);
                            }
                        }
                    }
                    if !seen[i] {
                        out.push(d(
                            &p,
                            "loop",
                            "the body of a loop (the each edge) must lead back to the loop",
                        ));
                    }
                }
                match n.get("over") {
                    None => out.push(d(format!("{p}/over"), "required", "a loop needs over: JSON Logic giving the list (e.g. {\"var\": \"vars.due\"} or a sub-table {\"var\": \"record.parts_used\"})")),
                    Some(o) => check_logic(o, &format!("{p}/over"), &mut out),
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
                                kind(nodes[k]) == "branch"
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
                Some(a) => check_assignee(a, &format!("{p}/assignee"), props, facts, &mut out),
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
                check_deadline(dl, &format!("{p}/deadline"), &k, props, facts, &mut out);
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
                check_logic(r, &format!("{p}/record"), &mut out);
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
                        check_logic(v, &format!("{p}/set/{f}"), &mut out);
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
                        check_logic(v, &format!("{p}/data/{f}"), &mut out);
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
                    out.push(d(format!("{p}/record"), "required", "a sub-flow on another form's record needs record (JSON Logic giving its id)"));
                }
            }
            if let Some(r) = n.get("record") {
                check_logic(r, &format!("{p}/record"), &mut out);
            }
            for (f, v) in n
                .get("input")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                check_logic(v, &format!("{p}/input/{f}"), &mut out);
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
                check_logic(k, &format!("{p}/key"), &mut out);
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
            check_effect(n, &p, &k, facts, &mut out);
        }
        if k == "report" {
            check_report_node(n, &p, facts, &mut out);
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
                Some(a) => check_assignee(a, &format!("{p}/to"), props, facts, &mut out),
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
                    check_logic(u, &format!("{p}/until"), &mut out);
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
                        if !super::guard::is_context_var(&v)
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
                Some(a) => check_assignee(a, &format!("{p}/of"), props, facts, &mut out),
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
                Some(v) => check_logic(v, &format!("{p}/value"), &mut out),
            }
        }
    }
    // Reachability from start, and every node must be able to reach an end.
    if let [s] = starts[..] {
        let mut seen = vec![false; nodes.len()];
        let mut q = VecDeque::from([s]);
        seen[s] = true;
        while let Some(a) = q.pop_front() {
            for &j in &outgoing[a] {
                if let Some(&b) = edges[j]
                    .get("to")
                    .and_then(Value::as_str)
                    .and_then(|t| index.get(t))
                    && !seen[b]
                {
                    seen[b] = true;
                    q.push_back(b);
                }
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            if !seen[i] {
                out.push(d(
                    format!("/nodes/{i}"),
                    "reachable",
                    format!("node {} cannot be reached from start", id(n)),
                ));
            }
        }
        let mut reaches_end: Vec<bool> = nodes
            .iter()
            .map(|n| kind(n) == "end" || kind(n) == "reject")
            .collect();
        loop {
            let mut changed = false;
            for a in 0..nodes.len() {
                if reaches_end[a] {
                    continue;
                }
                let to_end = outgoing[a].iter().any(|&j| {
                    edges[j]
                        .get("to")
                        .and_then(Value::as_str)
                        .and_then(|t| index.get(t))
                        .is_some_and(|&b| reaches_end[b])
                });
                if to_end {
                    reaches_end[a] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            if seen[i] && !reaches_end[i] {
                out.push(d(
                    format!("/nodes/{i}"),
                    "exit",
                    format!(
                        "node {} can never reach an end (a loop without an exit?)",
                        id(n)
                    ),
                ));
            }
        }
        // A join waiting for more arrivals than its instance can ever send it.
        let targets: Vec<Vec<usize>> = (0..nodes.len())
            .map(|a| {
                outgoing[a]
                    .iter()
                    .filter_map(|&j| edges[j].get("to").and_then(Value::as_str))
                    .filter_map(|t| index.get(t).copied())
                    .collect()
            })
            .collect();
        for (jn, n) in nodes.iter().enumerate() {
            if kind(n) != "join" || !seen[jn] {
                continue;
            }
            let needed = match n.get("mode") {
                None => incoming[jn],
                Some(Value::String(m)) if m == "all" => incoming[jn],
                Some(Value::Object(m)) if m.get("n").is_some() => {
                    m["n"].as_u64().unwrap_or(0) as usize
                }
                _ => continue, // any; activated_by (waits for what was activated)
            };
            let most = arrivals(
                s,
                jn,
                &nodes,
                &targets,
                &mut vec![None; nodes.len()],
                &mut vec![false; nodes.len()],
            );
            if most < needed {
                out.push(d(
                    format!("/nodes/{jn}/mode"),
                    "join",
                    format!(
                        "join {} waits for {needed} arrivals, but at most {most} can reach it in one run (paths that leave an exclusive branch, a decision or a sub-flow's outcome never all arrive): join with \"any\" or {{\"n\": {most}}}, or split with a parallel or multi-choice node",
                        id(n)
                    ),
                ));
            }
        }
    }
    out
}
