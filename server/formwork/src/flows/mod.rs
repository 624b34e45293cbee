//! Flows: durable node graphs (docs/flows.md). Definitions are checked in `definition`;
//! `fire` starts instances inside the transaction of the record write that triggers them;
//! the `engine` moves tokens through the graph, one writer transaction per step; the
//! `service` is what the API calls.

mod assignees;
pub mod cron;
pub mod definition;
pub mod engine;
pub mod guard;
mod mask;
pub mod outbox;
mod preview;
pub mod service;
mod store;
pub mod timers;

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};

use crate::error::DomainResult;
use crate::schema::definition::CompiledForm;
use crate::service::prepare::compute;
use crate::store::oplog::{Actor, Entry};
use crate::store::writer::Batch;

pub use engine::FlowEngine;
pub use service::FlowService;

/// One written record, as a trigger sees it.
pub struct RecordEvent<'a> {
    pub id: i64,
    pub data: &'a Value,
    /// The data before an update; None for a create.
    pub before: Option<&'a Value>,
    pub actor: &'a Actor,
    /// Where the record is in the request (`/items/3` in a bulk write), for guard errors.
    pub pointer: String,
    /// A soft delete (`data` is the record as it was).
    pub deleted: bool,
}

/// Start the flows whose trigger matches these writes, in the writer's transaction: an
/// instance row, a ready token at its start node, a history step and a log entry. The
/// engine picks the token up after the commit; if the write rolls back, so does the start.
pub async fn fire(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    form: &CompiledForm,
    events: &[RecordEvent<'_>],
) -> DomainResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = txn
        .query_all_raw(batch.stmt(
            "SELECT flow, version, trigger FROM flow_triggers WHERE app = $1 AND form = $2 ORDER BY flow",
            vec![form.app.clone().into(), form.key.clone().into()],
        ))
        .await?;
    // The app's date for conditions and guards, read at most once per call.
    let mut today: Option<(String, chrono_tz::Tz)> = None;
    for row in rows {
        let flow: String = row.try_get("", "flow")?;
        let version: i64 = row.try_get("", "version")?;
        let text: String = row.try_get("", "trigger")?;
        let trigger: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let kind = trigger["type"].as_str().unwrap_or("");
        if kind == "date_field" && events.iter().all(|e| e.deleted) {
            for e in events {
                timers::forget(txn, batch, &form.app, &flow, e.id).await?;
            }
            continue;
        }
        if kind == "before_write" && events.iter().any(|e| e.deleted) {
            continue;
        }
        if kind == "before_write" {
            let def = store::definition(txn, batch.backend, &form.app, &flow, version).await?;
            let (today, tz) = app_today(txn, batch, &form.app, &mut today).await?;
            for e in events {
                let changed = match (e.before, trigger["fields"].as_array()) {
                    (Some(b), Some(fields)) if !fields.is_empty() => fields
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|f| b.get(f) != e.data.get(f)),
                    _ => true,
                };
                if !changed {
                    continue;
                }
                let mut ctx = context(e.id, e.data, &json!({}), &e.actor.user, &Value::Null);
                ctx["today"] = json!(today);
                ctx["now"] = json!(batch.now);
                if let Some(c) = trigger.get("condition")
                    && !truthy(&compute(c, &ctx).unwrap_or(Value::Null))
                {
                    continue;
                }
                guard::run(
                    txn,
                    batch,
                    &form.app,
                    &flow,
                    &def,
                    e.id,
                    e.data,
                    &e.actor.user,
                    &today,
                    tz,
                    &e.pointer,
                )
                .await?;
            }
            continue;
        }
        if kind == "date_field" {
            for e in events {
                timers::replan(
                    txn, batch, &form.app, &flow, &trigger, e.id, e.data, e.before,
                )
                .await?;
            }
            continue;
        }
        for e in events {
            let matches = match (kind, e.before) {
                ("record_deleted", _) => e.deleted,
                _ if e.deleted => false,
                ("record_created", None) => true,
                ("record_updated", Some(before)) => match trigger["fields"].as_array() {
                    Some(fields) if !fields.is_empty() => fields
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|f| before.get(f) != e.data.get(f)),
                    _ => before != e.data,
                },
                _ => false,
            };
            if !matches {
                continue;
            }
            if let Some(c) = trigger.get("condition") {
                let mut ctx = context(e.id, e.data, &json!({}), &e.actor.user, &Value::Null);
                ctx["today"] = json!(app_today(txn, batch, &form.app, &mut today).await?.0);
                ctx["now"] = json!(batch.now);
                if !truthy(&compute(c, &ctx).unwrap_or(Value::Null)) {
                    continue;
                }
            }
            let start = trigger["start"].as_str().unwrap_or("start").to_owned();
            store::start_instance(
                txn,
                batch,
                store::NewInstance {
                    app: &form.app,
                    flow: &flow,
                    version,
                    form: Some(&form.key),
                    record_id: Some(e.id),
                    initiator: &e.actor.user,
                    start: &start,
                    correlation: None,
                },
                e.actor,
            )
            .await?;
        }
    }
    Ok(())
}

/// The app's date at the batch's time (`today` of conditions) and its time zone, read once into
/// `cache`.
async fn app_today(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
    cache: &mut Option<(String, chrono_tz::Tz)>,
) -> DomainResult<(String, chrono_tz::Tz)> {
    if let Some(t) = cache {
        return Ok(t.clone());
    }
    let tz = timers::app_tz(txn, batch, app).await?;
    let t = crate::time::parse(&batch.now)
        .with_timezone(&tz)
        .date_naive()
        .to_string();
    *cache = Some((t.clone(), tz));
    Ok((t, tz))
}

/// The data conditions, values and templates see.
pub fn context(id: i64, data: &Value, vars: &Value, initiator: &str, task: &Value) -> Value {
    let mut record = data.clone();
    if let Some(o) = record.as_object_mut() {
        o.insert("id".into(), json!(id));
    }
    json!({"record": record, "vars": vars, "initiator": initiator, "task": task})
}

/// JSON Logic truthiness.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// A log entry of a flow event (start, step, task action, cancel).
pub(crate) fn log_entry(
    actor: &Actor,
    action: &'static str,
    app: &str,
    form: Option<&str>,
    record: Option<i64>,
    after: Value,
    reason: Option<String>,
) -> Entry {
    Entry {
        actor: actor.clone(),
        action,
        app: Some(app.to_owned()),
        form: form.map(str::to_owned),
        record_id: record,
        before: None,
        after: Some(after),
        reason,
    }
}

/// The identity a flow acts as when it writes records.
pub fn flow_actor(flow: &str) -> Actor {
    Actor {
        user: format!("flow:{flow}"),
        department: None,
        address: None,
        client: Some("formwork flow".into()),
    }
}

/// `FORMWORK_FAILPOINT=<name>` aborts the process at that point: the crash tests use it to
/// kill the server between two steps that must survive a crash (docs/flows.md).
pub(crate) fn failpoint(name: &str) {
    static POINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if POINT
        .get_or_init(|| std::env::var("FORMWORK_FAILPOINT").ok())
        .as_deref()
        == Some(name)
    {
        eprintln!("formwork: failpoint {name}: aborting");
        std::process::abort();
    }
}
