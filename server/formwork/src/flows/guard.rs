//! Before-write guards: flows with a `before_write` trigger run synchronously inside the
//! writer's transaction, right after the record is written and before anything commits.
//! They may query records, compute variables, branch, and end — or `reject` the write with
//! a message (422, rule `guard`, nothing written). Only these nodes are allowed in a guard
//! (the publish check enforces it): start, query, set_var, branch, reject, end.

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};

use super::{context, truthy};
use crate::error::{DomainError, DomainResult};
use crate::query::fields::Scope;
use crate::query::filter::Filter;
use crate::query::sql::{Params, compile};
use crate::schema::model::FormModel;
use crate::service::prepare::compute;
use crate::store::writer::Batch;

pub const GUARD_NODES: &[&str] = &["start", "query", "set_var", "branch", "reject", "end"];

/// Replace the context variables (`record.*`, `vars.*`, `initiator`, `task.*`, `today`, `now`) of
/// a query filter by their values; the other variables name fields of the queried form.
fn substitute(v: &Value, ctx: &Value) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("var") => {
            let name = match &o["var"] {
                Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or(""),
                other => other.as_str().unwrap_or(""),
            };
            if is_context_var(name) {
                compute(v, ctx).unwrap_or(Value::Null)
            } else {
                v.clone()
            }
        }
        Value::Object(o) => {
            let out = Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), substitute(x, ctx)))
                    .collect(),
            );
            // A value computed from the context alone (e.g. `{"add_days": [{"var":
            // "today"}, -90]}`) becomes a constant the filter compares fields with.
            match o.keys().next().map(String::as_str) {
                Some(
                    "add_days" | "days_between" | "hours_between" | "minutes_between" | "+" | "-"
                    | "*" | "/" | "cat",
                ) if o.len() == 1 && !has_var(&out) => compute(&out, ctx).unwrap_or(Value::Null),
                _ => out,
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, ctx)).collect()),
        other => other.clone(),
    }
}

fn has_var(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.contains_key("var") || o.values().any(has_var),
        Value::Array(a) => a.iter().any(has_var),
        _ => false,
    }
}

pub fn is_context_var(name: &str) -> bool {
    name == "initiator"
        || name == "today"
        || name == "now"
        || ["record.", "vars.", "task."]
            .iter()
            .any(|p| name.starts_with(p))
        || name == "record"
        || name == "vars"
}

/// Records of `form` matching `filter` (context variables substituted), as data objects
/// with their `id`, newest first, at most `limit`; date-time literals in `tz`.
#[allow(clippy::too_many_arguments)]
pub async fn query(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
    form: &str,
    filter: &Value,
    limit: i64,
    ctx: &Value,
    tz: chrono_tz::Tz,
) -> DomainResult<Vec<Value>> {
    let row = txn
        .query_one_raw(batch.stmt(
            "SELECT v.definition FROM forms f JOIN form_versions v ON v.app = f.app AND v.form = f.key AND v.version = f.published_version WHERE f.app = $1 AND f.key = $2",
            vec![app.into(), form.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("form {app}/{form}")))?;
    let def: Value = serde_json::from_str(&row.try_get::<String>("", "definition")?)
        .map_err(|e| DomainError::Internal(e.into()))?;
    let model = FormModel::from_schema(&def["schema"]);
    let logic = substitute(filter, ctx);
    let mut parsed = Filter::parse(&logic, &Scope::Root(&model), "/filter")?;
    // Date-time literals (and `now`, substituted above) as the values are stored.
    parsed.in_zone(tz);
    if parsed.has_ref() {
        // A query node runs under no caller's row scope: another form's records are read
        // with a query node of their own.
        return Err(DomainError::bad_request(
            "/filter",
            "filter",
            "a query node's filter cannot use ref; query the referenced form in a node of its own",
        ));
    }
    let mut params = Params::default();
    let cond = compile(batch.backend, &parsed, &mut params);
    let sql = format!(
        "SELECT id, data FROM records WHERE {} AND deleted_at IS NULL AND ({cond}) ORDER BY id DESC LIMIT {}",
        crate::store::records::form_scope(app, form),
        limit.clamp(1, 1000)
    );
    let rows = txn.query_all_raw(batch.stmt(&sql, params.0)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut data = crate::store::records::data_of(batch.backend, &r)?;
        if let Some(o) = data.as_object_mut() {
            o.insert("id".into(), json!(r.try_get::<i64>("", "id")?));
        }
        out.push(data);
    }
    Ok(out)
}

/// Run a guard flow over a written record; Err (422 `guard`) when it rejects the write.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
    flow: &str,
    def: &Value,
    id: i64,
    data: &Value,
    user: &str,
    today: &str,
    tz: chrono_tz::Tz,
    pointer: &str,
) -> DomainResult<()> {
    let mut vars = json!({});
    let mut node_id = def["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["type"] == "start")
        .and_then(|n| n["id"].as_str())
        .unwrap_or("start")
        .to_owned();
    for _ in 0..200 {
        let mut ctx = context(id, data, &vars, user, &Value::Null);
        ctx["today"] = json!(today);
        ctx["now"] = json!(batch.now);
        let node = super::engine::node_of(def, &node_id)
            .cloned()
            .unwrap_or_default();
        let outs = super::engine::edges_from(def, &node_id);
        let next = |outs: &[&serde_json::Map<String, Value>]| {
            outs.first()
                .and_then(|e| e.get("to"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
        let to = match kind {
            "start" => next(&outs),
            "query" => {
                let found = query(
                    txn,
                    batch,
                    app,
                    node.get("form").and_then(Value::as_str).unwrap_or(""),
                    node.get("filter").unwrap_or(&json!({"and": []})),
                    node.get("limit").and_then(Value::as_i64).unwrap_or(100),
                    &ctx,
                    tz,
                )
                .await?;
                vars[node.get("name").and_then(Value::as_str).unwrap_or(&node_id)] =
                    Value::Array(found);
                next(&outs)
            }
            "set_var" => {
                let v =
                    compute(node.get("value").unwrap_or(&Value::Null), &ctx).unwrap_or(Value::Null);
                vars[node.get("name").and_then(Value::as_str).unwrap_or(&node_id)] = v;
                next(&outs)
            }
            "branch" => {
                let mut chosen = None;
                for e in &outs {
                    if let Some(w) = e.get("when")
                        && truthy(&compute(w, &ctx).unwrap_or(Value::Null))
                    {
                        chosen = e.get("to").and_then(Value::as_str).map(str::to_owned);
                        break;
                    }
                }
                chosen.or_else(|| {
                    outs.iter()
                        .find(|e| e.get("default") == Some(&Value::Bool(true)))
                        .and_then(|e| e.get("to"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            }
            "reject" => {
                let template = node
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("refused by a rule");
                let message = super::engine::render_strict(template, &ctx)
                    .unwrap_or_else(|_| template.to_owned());
                return Err(DomainError::invalid_one(
                    &format!("{pointer}/data"),
                    "guard",
                    format!("{message} ({flow})"),
                ));
            }
            _ => return Ok(()), // end
        };
        match to {
            Some(t) => node_id = t,
            None => return Ok(()),
        }
    }
    Err(DomainError::Internal(anyhow::anyhow!(
        "guard {flow} did not finish in 200 steps"
    )))
}
