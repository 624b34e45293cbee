//! Publish checks of single parts of a flow: the trigger, whether joins can complete
//! (arrivals), effects, assignees, deadlines, conditions and report nodes.

use super::*;

/// The most tokens one token at `node` can send to the join `join` in one run of the
/// graph: a parallel split and a multi-choice branch send on every edge (their sums); an
/// exclusive branch and the outcome edges of a decision (approval, task, http, report,
/// sub-flow) send on one (the largest); another join sends one token on; an end sends
/// none. Whatever passes through a loop's body, or an edge back to a node on the way
/// there (a cycle), may arrive any number of times (`usize::MAX`): only a join that can
/// never complete is refused, never one that might.
pub(super) fn arrivals(
    node: usize,
    join: usize,
    nodes: &[&Map<String, Value>],
    targets: &[Vec<usize>],
    memo: &mut Vec<Option<usize>>,
    on_path: &mut Vec<bool>,
) -> usize {
    if node == join {
        return 1;
    }
    if let Some(m) = memo[node] {
        return m;
    }
    if targets[node].iter().any(|&t| on_path[t]) {
        return usize::MAX; // a cycle: not memoised (it depends on the way here)
    }
    on_path[node] = true;
    let mut counts = Vec::new();
    for &t in &targets[node] {
        counts.push(arrivals(t, join, nodes, targets, memo, on_path));
    }
    on_path[node] = false;
    let n = nodes[node];
    let k = n.get("type").and_then(Value::as_str).unwrap_or("");
    let multi = n.get("multi") == Some(&Value::Bool(true));
    let m = match k {
        "end" | "reject" => 0,
        _ if counts.contains(&usize::MAX) => usize::MAX,
        "loop" if counts.iter().any(|&c| c > 0) => usize::MAX,
        "parallel" => counts.iter().fold(0usize, |a, &c| a.saturating_add(c)),
        "branch" if multi => counts.iter().fold(0usize, |a, &c| a.saturating_add(c)),
        _ => counts.iter().copied().max().unwrap_or(0),
    };
    if m != usize::MAX {
        memo[node] = Some(m);
    }
    m
}

/// Checks of the nodes with external effects: the notify channel and its settings, the
/// http node's method, url, headers, body and result name (docs/flows.md#outbox).
pub(super) fn check_effect(
    n: &Map<String, Value>,
    p: &str,
    k: &str,
    facts: &AppFacts,
    out: &mut Vec<Detail>,
) {
    let channel = n.get("channel").and_then(Value::as_str);
    if k == "notify" {
        if let Some(c) = n.get("channel")
            && !matches!(c.as_str(), Some("inbox" | "email" | "webhook"))
        {
            out.push(d(
                format!("{p}/channel"),
                "enum",
                "channel is inbox, email or webhook",
            ));
        }
        if channel == Some("email") && n.contains_key("address") && !n.contains_key("as_role") {
            out.push(d(format!("{p}/as_role"), "required", "an email to addresses needs as_role: the role whose field mask the message is rendered through"));
        }
        if n.contains_key("address") && channel != Some("email") {
            out.push(d(
                format!("{p}/address"),
                "channel",
                "address is for the email channel",
            ));
        }
        if let Some(a) = n.get("address") {
            check_logic(a, &format!("{p}/address"), out);
        }
        for key in ["url", "payload", "headers"] {
            if n.contains_key(key) && channel != Some("webhook") {
                out.push(d(
                    format!("{p}/{key}"),
                    "channel",
                    format!("{key} is for the webhook channel"),
                ));
            }
        }
    }
    if k == "http" {
        if let Some(m) = n.get("method")
            && !matches!(
                m.as_str(),
                Some("GET" | "POST" | "PUT" | "PATCH" | "DELETE")
            )
        {
            out.push(d(
                format!("{p}/method"),
                "enum",
                "method is GET, POST, PUT, PATCH or DELETE",
            ));
        }
        if let Some(name) = n.get("name")
            && !name.as_str().is_some_and(is_key)
        {
            out.push(d(
                format!("{p}/name"),
                "key",
                "name (vars.<name> gets the response) is a lower-case key",
            ));
        }
    }
    if k == "http" || channel == Some("webhook") {
        match n.get("url").and_then(Value::as_str) {
            None => out.push(d(format!("{p}/url"), "required", "a url is required")),
            Some(u) => {
                if !(u.starts_with("http://") || u.starts_with("https://") || u.starts_with("{{")) {
                    out.push(d(
                        format!("{p}/url"),
                        "url",
                        "the url starts with http:// or https:// (or is a template giving one)",
                    ));
                }
                if let Err(e) = handlebars::Template::compile(u) {
                    out.push(d(
                        format!("{p}/url"),
                        "template",
                        format!("not a valid template: {e}"),
                    ));
                }
            }
        }
        for (h, v) in n
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match v.as_str() {
                Some(t) if handlebars::Template::compile(t).is_ok() => {}
                _ => out.push(d(
                    format!("{p}/headers/{h}"),
                    "template",
                    "a header value is a text template",
                )),
            }
        }
        if let Some(h) = n.get("headers")
            && !h.is_object()
        {
            out.push(d(
                format!("{p}/headers"),
                "type",
                "headers is an object of name → template",
            ));
        }
        for key in ["payload", "body"] {
            match n.get(key) {
                None => {}
                Some(Value::Object(m)) => {
                    for (f, v) in m {
                        check_logic(v, &format!("{p}/{key}/{f}"), out);
                    }
                }
                Some(_) => out.push(d(
                    format!("{p}/{key}"),
                    "type",
                    format!("{key} is an object of key → value (JSON Logic)"),
                )),
            }
        }
    }
    if let Some(r) = n.get("as_role") {
        match r.as_str() {
            Some(r) if facts.roles.contains(r) => {}
            _ => out.push(d(
                format!("{p}/as_role"),
                "exists",
                format!("there is no role {r} in this app"),
            )),
        }
    }
}

pub(super) fn check_assignee(
    a: &Value,
    p: &str,
    props: Option<&Map<String, Value>>,
    facts: &AppFacts,
    out: &mut Vec<Detail>,
) {
    let Some(o) = a.as_object().filter(|o| o.len() == 1) else {
        out.push(d(p, "assignee", "an assignee is {\"user\": name}, {\"users\": [names]}, {\"role\": key}, {\"roles\": [keys]}, {\"field\": member field}, {\"initiator\": true} or {\"head_of\": \"initiator\" | \"record\" | {\"field\": member or department field}}"));
        return;
    };
    let (k, v) = o.iter().next().expect("one entry");
    let s = v.as_str().unwrap_or("");
    match k.as_str() {
        "user" if facts.users.contains(s) => {}
        "user" => out.push(d(format!("{p}/user"), "exists", format!("there is no user {s}"))),
        "users" => match v.as_array() {
            Some(list) if !list.is_empty() => {
                for (i, u) in list.iter().enumerate() {
                    let name = u.as_str().unwrap_or("");
                    if !facts.users.contains(name) {
                        out.push(d(format!("{p}/users/{i}"), "exists", format!("there is no user {name}")));
                    }
                }
            }
            _ => out.push(d(format!("{p}/users"), "type", "users is a non-empty list of user names")),
        },
        "roles" => match v.as_array() {
            Some(list) if !list.is_empty() => {
                for (i, r) in list.iter().enumerate() {
                    let name = r.as_str().unwrap_or("");
                    if !facts.roles.contains(name) {
                        out.push(d(format!("{p}/roles/{i}"), "exists", format!("there is no role {name} in this app")));
                    }
                }
            }
            _ => out.push(d(format!("{p}/roles"), "type", "roles is a non-empty list of role keys")),
        },
        "role" if facts.roles.contains(s) => {}
        "role" => out.push(d(format!("{p}/role"), "exists", format!("there is no role {s} in this app"))),
        "field" => {
            // `engineer`, or through a reference: `customer.owner`.
            let member = match s.split_once('.') {
                None => props.and_then(|p| p.get(s)),
                Some((r, f)) => props
                    .and_then(|p| p.get(r))
                    .filter(|x| x.get("x-type").and_then(Value::as_str) == Some("reference"))
                    .and_then(|x| x["x-ref"]["form"].as_str())
                    .and_then(|target| facts.forms.get(target))
                    .and_then(|tp| tp.get(f)),
            };
            if member.and_then(|f| f.get("x-type")).and_then(Value::as_str) != Some("member") {
                out.push(d(format!("{p}/field"), "member", format!("{s} is not a member field of the trigger form (or reference.member_field)")));
            }
        }
        "initiator" if v == &Value::Bool(true) => {}
        "head_of" if v == "initiator" => {}
        "head_of" if v == "record" => {
            if props.is_none() {
                out.push(d(format!("{p}/head_of"), "record", "this flow has no record: its trigger is not on a form"));
            }
        }
        "head_of" if v.get("field").is_some_and(Value::is_string) => {
            let f = v["field"].as_str().unwrap_or("");
            let kind = props
                .and_then(|p| p.get(f))
                .and_then(|x| x.get("x-type"))
                .and_then(Value::as_str);
            if !matches!(kind, Some("member" | "department")) {
                out.push(d(format!("{p}/head_of/field"), "member", format!("{f} is not a member or department field of the trigger form")));
            }
        }
        _ => out.push(d(p, "assignee", "an assignee is {\"user\": name}, {\"users\": [names]}, {\"role\": key}, {\"roles\": [keys]}, {\"field\": member field}, {\"initiator\": true} or {\"head_of\": \"initiator\" | \"record\" | {\"field\": member or department field}}")),
    }
}

pub(super) fn check_deadline(
    dl: &Value,
    p: &str,
    kind: &str,
    props: Option<&Map<String, Value>>,
    facts: &AppFacts,
    out: &mut Vec<Detail>,
) {
    let Some(o) = dl.as_object() else {
        out.push(d(p, "type", "a deadline is an object"));
        return;
    };
    if duration_minutes(o).is_none() {
        out.push(d(
            p,
            "deadline",
            "a deadline needs minutes, hours or days (> 0)",
        ));
    }
    match o.get("action").and_then(Value::as_str) {
        Some("remind") => {}
        Some("escalate") => match o.get("to") {
            None => out.push(d(
                format!("{p}/to"),
                "required",
                "escalate needs to (an assignee)",
            )),
            Some(a) => check_assignee(a, &format!("{p}/to"), props, facts, out),
        },
        Some("auto_approve" | "auto_reject") if kind == "approval" => {}
        other => out.push(d(
            format!("{p}/action"),
            "enum",
            format!(
                "action is remind, escalate{} — not {other:?}",
                if kind == "approval" {
                    ", auto_approve or auto_reject"
                } else {
                    ""
                }
            ),
        )),
    }
    for k in o.keys() {
        if !["minutes", "hours", "days", "action", "to"].contains(&k.as_str()) {
            out.push(d(
                format!("{p}/{k}"),
                "unknown_property",
                format!("a deadline has no {k}"),
            ));
        }
    }
}

/// `minutes` / `hours` / `days` of a node or deadline, in minutes.
pub fn duration_minutes(o: &Map<String, Value>) -> Option<f64> {
    let m = o.get("minutes").and_then(Value::as_f64).unwrap_or(0.0)
        + o.get("hours").and_then(Value::as_f64).unwrap_or(0.0) * 60.0
        + o.get("days").and_then(Value::as_f64).unwrap_or(0.0) * 1440.0;
    (m > 0.0).then_some(m)
}

/// JSON Logic variables must start with record., vars., initiator or task.
pub(super) fn check_logic(v: &Value, p: &str, out: &mut Vec<Detail>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                // The expressions of map / filter / reduce / all / some / none see each
                // element (`current`, `accumulator` or the element's own keys), not the
                // context: only their first argument, the list, is checked.
                if matches!(
                    k.as_str(),
                    "map" | "filter" | "reduce" | "all" | "some" | "none"
                ) && let Value::Array(args) = x
                {
                    if let Some(list) = args.first() {
                        check_logic(list, p, out);
                    }
                    continue;
                }
                if k == "var" {
                    let name = match x {
                        Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or(""),
                        other => other.as_str().unwrap_or(""),
                    };
                    if !crate::flows::guard::is_context_var(name) {
                        out.push(d(p, "var", format!("{name:?} is not record.<field>, vars.<name>, task.<key>, initiator, today or now")));
                    }
                } else {
                    check_logic(x, p, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| check_logic(x, p, out)),
        _ => {}
    }
}

/// A report node runs a published report as a role (whose permissions shape the result)
/// and keeps it in `vars.<name>` for the nodes after it (a notify node's template).
pub(super) fn check_report_node(
    n: &Map<String, Value>,
    p: &str,
    facts: &AppFacts,
    out: &mut Vec<Detail>,
) {
    match n.get("report").and_then(Value::as_str) {
        Some(r) if facts.reports.contains(r) => {}
        Some(r) => out.push(d(
            format!("{p}/report"),
            "unknown",
            format!("no published report {r:?}"),
        )),
        None => out.push(d(
            format!("{p}/report"),
            "required",
            "a report node names a report",
        )),
    }
    match n.get("as_role").and_then(Value::as_str) {
        Some(r) if facts.roles.contains(r) => {}
        Some(r) => out.push(d(
            format!("{p}/as_role"),
            "unknown",
            format!("no role {r:?} in this app"),
        )),
        None => out.push(d(
            format!("{p}/as_role"),
            "required",
            "a report node runs as a role (its field mask and rows shape the result)",
        )),
    }
    if let Some(f) = n.get("filter")
        && !f.is_object()
    {
        out.push(d(
            format!("{p}/filter"),
            "type",
            "filter is a JSON Logic object",
        ));
    }
    if let Some(name) = n.get("name")
        && !name.as_str().is_some_and(is_key)
    {
        out.push(d(
            format!("{p}/name"),
            "key",
            "name (vars.<name> gets the result) is a lower-case key",
        ));
    }
}

/// The trigger's form, fields, cron and condition.
pub(super) fn check_trigger(def: &Value, facts: &AppFacts, out: &mut Vec<Detail>) {
    let form = def["trigger"]["form"].as_str().unwrap_or("");
    let props = facts.forms.get(form);
    let ttype = def["trigger"]["type"].as_str().unwrap_or("");
    if ttype == "schedule"
        && let Some(c) = def["trigger"]["cron"].as_str()
        && let Err(e) = crate::flows::cron::Cron::parse(c)
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
        check_logic(c, "/trigger/condition", out);
    }
}
