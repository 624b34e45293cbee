//! What a recipient may see of an instance when a message is rendered for them: the
//! record through their field mask, and the instance's variables through the same rules.
//!
//! Variables carry where their values came from (`vars._sources.<name>`), noted by the
//! nodes that set them: a `query` node's list holds records of its form (`{"records":
//! form}`); a `set_var` value, or a `loop` item taken from a computed list, holds what its
//! expression read (`{"reads": [[form, field path], ...]}`). When a message is rendered,
//! records are projected through the recipient's mask on their form (dropped when they may
//! not read it), and a value is dropped unless the recipient may read every field it was
//! computed from. A `report` node's result was computed as its `as_role`
//! (`{"as_role": role}`): it is shown only to recipients who hold that role (and to
//! administrators), since the role's rows and fields may differ from the recipient's; a
//! value computed from it (`set_var`, a `loop` item) carries the role along
//! (`{"reads": […], "as_role": [roles]}`: every one of them is needed). The engine's own bookkeeping (`_loops`, which holds the lists being
//! looped over, and `_sources`) is never rendered.

use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use super::engine::{Inner, ctx_of};
use super::store::Instance;
use crate::auth::{Caller, Decision};
use crate::schema::definition::logic_vars;

/// Note where the value of `vars.<name>` came from (see the module comment).
pub(crate) fn note_source(vars: &mut Map<String, Value>, name: &str, source: Option<Value>) {
    let sources = vars.entry("_sources").or_insert_with(|| json!({}));
    if let Some(o) = sources.as_object_mut() {
        match source {
            Some(s) => {
                o.insert(name.to_owned(), s);
            }
            None => {
                o.remove(name);
            }
        }
    }
}

/// The records of `form` (a query node's result).
pub(crate) fn records_of(form: &str) -> Value {
    json!({"records": form})
}

/// The fields an expression over an instance's context reads, as a source: `record.<path>`
/// of the instance's form, and whatever the variables it reads came from. None when it
/// reads no field.
pub(crate) fn source_of(expr: &Value, inst: &Instance) -> Option<Value> {
    let mut names = Vec::new();
    logic_vars(expr, &mut names);
    let sources = &inst.vars["vars"]["_sources"];
    // A loop over a query's list, as it is: its items are records of that form.
    if let Some(Value::String(n)) = expr.get("var")
        && let Some(v) = n.strip_prefix("vars.")
        && sources[v]["records"].is_string()
    {
        return Some(sources[v].clone());
    }
    let mut reads: Vec<Value> = Vec::new();
    let mut roles: Vec<Value> = Vec::new();
    for n in names {
        if let Some(path) = n.strip_prefix("record.") {
            if let Some(form) = &inst.form
                && path != "id"
            {
                reads.push(json!([form, path]));
            }
        } else if n == "record" {
            if let Some(form) = &inst.form {
                reads.push(json!([form, "*"]));
            }
        } else if let Some(rest) = n.strip_prefix("vars.").or((n == "vars").then_some("")) {
            let var = rest.split('.').next().unwrap_or("");
            let mut inherit = |s: &Value| {
                if let Some(f) = s["records"].as_str() {
                    reads.push(json!([f, "*"]));
                }
                for r in s["reads"].as_array().into_iter().flatten() {
                    reads.push(r.clone());
                }
                roles.extend(roles_of(s).into_iter().map(Value::String));
            };
            if var.is_empty() {
                for s in sources.as_object().into_iter().flatten().map(|(_, s)| s) {
                    inherit(s);
                }
            } else {
                inherit(&sources[var]);
            }
        }
    }
    reads.dedup();
    roles.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    roles.dedup();
    match (reads.is_empty(), roles.is_empty()) {
        (true, true) => None,
        (_, true) => Some(json!({"reads": reads})),
        _ => Some(json!({"reads": reads, "as_role": roles})),
    }
}

/// The roles a value was computed as: a report's `as_role` (text), or those a value
/// computed from reports carries (a list).
fn roles_of(source: &Value) -> Vec<String> {
    match &source["as_role"] {
        Value::String(r) => vec![r.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The rendering context of a message for `who` (None: nobody it could be rendered for,
/// so no field of any form): the record through their mask and the variables as above.
pub(crate) async fn context_for(
    inner: &Inner,
    inst: &Instance,
    data: &Value,
    who: Option<&Caller>,
) -> Value {
    let mut decisions: HashMap<String, Option<Arc<Decision>>> = HashMap::new();
    let sources = inst.vars["vars"]["_sources"].clone();
    let mut forms: Vec<String> = inst.form.iter().cloned().collect();
    for (_, s) in sources.as_object().into_iter().flatten() {
        if let Some(f) = s["records"].as_str() {
            forms.push(f.to_owned());
        }
        for r in s["reads"].as_array().into_iter().flatten() {
            if let Some(f) = r[0].as_str() {
                forms.push(f.to_owned());
            }
        }
    }
    for f in forms {
        if decisions.contains_key(&f) {
            continue;
        }
        let d = match who {
            Some(c) => inner
                .auth
                .decide(c, &inst.app, &f)
                .await
                .ok()
                .filter(|d| d.allows("read")),
            None => None,
        };
        decisions.insert(f, d);
    }
    let mut seen = data.clone();
    if let Some(form) = &inst.form {
        match decisions.get(form).cloned().flatten() {
            Some(d) => d.project(&mut seen),
            None => seen = json!({}),
        }
    }
    // Report results, by the role they were run as: may `who` see them?
    let mut holds: HashMap<String, bool> = HashMap::new();
    for (_, s) in sources.as_object().into_iter().flatten() {
        for role in roles_of(s) {
            if holds.contains_key(&role) {
                continue;
            }
            let ok = match who {
                Some(c) => inner
                    .auth
                    .holds_role(c, &inst.app, &role)
                    .await
                    .unwrap_or(false),
                None => false,
            };
            holds.insert(role, ok);
        }
    }
    let mut ctx = ctx_of(inst, &seen);
    if let Some(vars) = ctx["vars"].as_object_mut() {
        vars.remove("_loops");
        vars.remove("_sources");
        for (name, s) in sources.as_object().into_iter().flatten() {
            let roles = roles_of(s);
            let keep = if !roles.iter().all(|r| holds.get(r).copied().unwrap_or(false)) {
                false
            } else if let Some(f) = s["records"].as_str() {
                match (decisions.get(f).cloned().flatten(), vars.get_mut(name)) {
                    (Some(d), Some(v)) => {
                        match v {
                            Value::Array(items) => items.iter_mut().for_each(|r| project(&d, r)),
                            one => project(&d, one),
                        }
                        true
                    }
                    _ => false,
                }
            } else {
                s["reads"].as_array().into_iter().flatten().all(|r| {
                    let (Some(f), Some(path)) = (r[0].as_str(), r[1].as_str()) else {
                        return false;
                    };
                    match decisions.get(f).cloned().flatten() {
                        Some(d) if path == "*" => d.read.is_full(),
                        Some(d) => d.require_read(path, "").is_ok(),
                        None => false,
                    }
                })
            };
            if !keep {
                vars.remove(name);
            }
        }
    }
    ctx
}

/// A record of a query's list as the recipient may see it (its id stays).
fn project(d: &Decision, record: &mut Value) {
    let id = record.get("id").cloned();
    d.project(record);
    if let (Some(id), Some(o)) = (id, record.as_object_mut()) {
        o.insert("id".into(), id);
    }
}

/// The variables of `inst` whose values `who` may not see (see [`context_for`]).
pub(crate) async fn hidden_vars(inner: &Inner, inst: &Instance, who: &Caller) -> Vec<String> {
    let ctx = context_for(inner, inst, &Value::Null, Some(who)).await;
    inst.vars["vars"]["_sources"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
        .filter(|name| ctx["vars"].get(name.as_str()).is_none())
        .cloned()
        .collect()
}
