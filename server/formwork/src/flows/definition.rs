//! Flow definitions: `{key, label, trigger, nodes, edges, layout}` (docs/flows.md). A draft
//! is checked for shape; publishing also checks the graph and every form, field, user and
//! role it names. Problems are details with pointers into the definition.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};

use crate::error::Detail;
use crate::keys::is_key;

mod checks;
mod graph;
mod nodes;
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
    let g = graph::Graph::build(def, &mut out);
    checks::check_trigger(def, facts, &mut out);
    for i in 0..g.nodes.len() {
        nodes::check_node_edges(&g, i, &mut out);
        nodes::check_node_config(def, &g, i, facts, &mut out);
    }
    g.check_paths(&mut out);
    out
}
