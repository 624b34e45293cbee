//! Date-field and schedule triggers: durable plans in `flow_date_plans` and
//! `flow_schedules`, kept current by record writes and publishing, fired by the worker.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};

use super::cron::Cron;
use super::{context, store, truthy};
use crate::error::DomainResult;
use crate::service::prepare::compute;
use crate::store::db::Backend;
use crate::store::oplog::Actor;
use crate::store::writer::{Batch, WriteOp};

fn fmt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The app's time zone (UTC when unset or unknown).
pub async fn app_tz(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
) -> DomainResult<chrono_tz::Tz> {
    let row = txn
        .query_one_raw(batch.stmt(
            "SELECT definition FROM apps WHERE key = $1",
            vec![app.into()],
        ))
        .await?;
    let def: Value = match row {
        Some(r) => {
            serde_json::from_str(&r.try_get::<String>("", "definition")?).unwrap_or(Value::Null)
        }
        None => Value::Null,
    };
    Ok(crate::time::zone_of(&def))
}

/// When a date-field trigger is due for this value: the start of the date (in the app's
/// time zone) plus `offset_days`; for a date-time, the instant plus the offset. None when
/// there is nothing to plan: not a date, or both the date and the due time are past (a
/// warranty that ended last year gets no "30 days before" reminder; one ending in ten days
/// gets it at once).
pub fn due_for(
    value: &Value,
    offset_days: i64,
    tz: &chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<String> {
    let s = value.as_str()?;
    let at = if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()?
            .with_timezone(&Utc)
    } else {
        DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc)
    };
    let due = at + chrono::Duration::days(offset_days);
    // A date counts as not past for its whole day.
    let date_end = at + chrono::Duration::days(1);
    (due > now || date_end > now).then(|| fmt(due))
}

/// Keep the plan of one record current after a write: (re)planned when the date changes,
/// removed when it is cleared.
#[allow(clippy::too_many_arguments)]
pub async fn replan(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
    flow: &str,
    trigger: &Value,
    id: i64,
    data: &Value,
    before: Option<&Value>,
) -> DomainResult<()> {
    let field = trigger["field"].as_str().unwrap_or("");
    let now = data.get(field);
    if before.is_some_and(|b| b.get(field) == now) {
        return Ok(());
    }
    let tz = app_tz(txn, batch, app).await?;
    let clock = crate::time::parse(&batch.now);
    let due =
        now.and_then(|v| due_for(v, trigger["offset_days"].as_i64().unwrap_or(0), &tz, clock));
    txn.execute_raw(batch.stmt(
        "DELETE FROM flow_date_plans WHERE app = $1 AND flow = $2 AND record_id = $3",
        vec![app.into(), flow.into(), id.into()],
    ))
    .await?;
    if let Some(due) = due {
        txn.execute_raw(batch.stmt(
            "INSERT INTO flow_date_plans (app, flow, record_id, due_at) VALUES ($1, $2, $3, $4)",
            vec![app.into(), flow.into(), id.into(), due.into()],
        ))
        .await?;
    }
    Ok(())
}

/// A deleted record's plan goes away.
pub async fn forget(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
    flow: &str,
    id: i64,
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "DELETE FROM flow_date_plans WHERE app = $1 AND flow = $2 AND record_id = $3",
        vec![app.into(), flow.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// On publish: plan every live record of the form (see `due_for`: records whose date and
/// due time are both past are left alone), or compute a schedule's next run.
pub async fn plan_on_publish(
    txn: &DatabaseTransaction,
    batch: &Batch,
    app: &str,
    flow: &str,
    trigger: &Value,
) -> DomainResult<()> {
    for t in ["flow_date_plans", "flow_schedules"] {
        txn.execute_raw(batch.stmt(
            &format!("DELETE FROM {t} WHERE app = $1 AND flow = $2"),
            vec![app.into(), flow.into()],
        ))
        .await?;
    }
    let tz = app_tz(txn, batch, app).await?;
    match trigger["type"].as_str() {
        Some("schedule") => {
            let cron = Cron::parse(trigger["cron"].as_str().unwrap_or(""))
                .map_err(|e| crate::error::DomainError::invalid_one("/trigger/cron", "cron", e))?;
            if let Some(next) = cron.next_after(crate::time::parse(&batch.now), &tz) {
                txn.execute_raw(batch.stmt(
                    "INSERT INTO flow_schedules (app, flow, next_at) VALUES ($1, $2, $3)",
                    vec![app.into(), flow.into(), fmt(next).into()],
                ))
                .await?;
            }
        }
        Some("date_field") => {
            let field = trigger["field"].as_str().unwrap_or("");
            let form = trigger["form"].as_str().unwrap_or("");
            let expr = match batch.backend {
                Backend::Sqlite => format!("json_extract(data, '$.{field}')"),
                Backend::Postgres => format!("data->>'{field}'"),
            };
            let rows = txn
                .query_all_raw(batch.stmt(
                    &format!("SELECT id, {expr} AS v FROM records WHERE app = $1 AND form = $2 AND deleted_at IS NULL AND {expr} IS NOT NULL"),
                    vec![app.into(), form.into()],
                ))
                .await?;
            let offset = trigger["offset_days"].as_i64().unwrap_or(0);
            for r in rows {
                let id: i64 = r.try_get("", "id")?;
                let v: String = r.try_get("", "v")?;
                if let Some(due) = due_for(&json!(v), offset, &tz, crate::time::parse(&batch.now)) {
                    txn.execute_raw(batch.stmt(
                        "INSERT INTO flow_date_plans (app, flow, record_id, due_at) VALUES ($1, $2, $3, $4)",
                        vec![app.into(), flow.into(), id.into(), due.into()],
                    ))
                    .await?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Due plans and schedules: (kind, app, flow, record or 0, due).
pub async fn due(db: &crate::store::db::Db) -> DomainResult<Vec<Timer>> {
    let now = db.clock.now();
    let mut out = Vec::new();
    for r in db
        .query_all("SELECT app, flow, record_id, due_at FROM flow_date_plans WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT 200", vec![now.clone().into()])
        .await?
    {
        out.push(Timer { app: r.try_get("", "app")?, flow: r.try_get("", "flow")?, record: Some(r.try_get("", "record_id")?), due: r.try_get("", "due_at")? });
    }
    for r in db
        .query_all(
            "SELECT app, flow, next_at FROM flow_schedules WHERE next_at <= $1",
            vec![now.into()],
        )
        .await?
    {
        out.push(Timer {
            app: r.try_get("", "app")?,
            flow: r.try_get("", "flow")?,
            record: None,
            due: r.try_get("", "next_at")?,
        });
    }
    Ok(out)
}

pub struct Timer {
    pub app: String,
    pub flow: String,
    pub record: Option<i64>,
    pub due: String,
}

/// Fire one due timer: mark it (a plan fired, a schedule moved to its next run from now —
/// so runs missed while down fire once, not once per missed run) and start an instance
/// of the flow's current version, in one transaction.
pub struct Fire(pub Timer);

impl WriteOp for Fire {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let t = &self.0;
            let flow = txn
                .query_one_raw(batch.stmt(
                    "SELECT published_version FROM flows WHERE app = $1 AND key = $2",
                    vec![t.app.clone().into(), t.flow.clone().into()],
                ))
                .await?;
            let Some(version) = flow.and_then(|r| {
                r.try_get::<Option<i64>>("", "published_version")
                    .ok()
                    .flatten()
            }) else {
                return Ok(Value::Null);
            };
            let def = store::definition(txn, batch.backend, &t.app, &t.flow, version).await?;
            let trigger = &def["trigger"];
            let start = def["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|n| n["type"] == "start")
                .and_then(|n| n["id"].as_str())
                .unwrap_or("start")
                .to_owned();
            let actor = Actor::system();
            match t.record {
                Some(id) => {
                    let r = txn
                        .execute_raw(batch.stmt(
                            "UPDATE flow_date_plans SET fired_at = $5 WHERE app = $1 AND flow = $2 AND record_id = $3 AND due_at = $4 AND fired_at IS NULL",
                            vec![t.app.clone().into(), t.flow.clone().into(), id.into(), t.due.clone().into(), batch.now.clone().into()],
                        ))
                        .await?;
                    if r.rows_affected() == 0 {
                        return Ok(Value::Null); // re-planned or fired meanwhile
                    }
                    let form = trigger["form"].as_str().unwrap_or("").to_owned();
                    let Some(rec) =
                        crate::store::records::get(txn, batch.backend, &t.app, &form, id)
                            .await?
                            .filter(|r| r.deleted_at.is_none())
                    else {
                        return Ok(Value::Null);
                    };
                    if let Some(c) = trigger.get("condition") {
                        let ctx = context(id, &rec.data, &json!({}), "system", &Value::Null);
                        if !truthy(&compute(c, &ctx).unwrap_or(Value::Null)) {
                            return Ok(Value::Null);
                        }
                    }
                    store::start_instance(
                        txn,
                        batch,
                        store::NewInstance {
                            app: &t.app,
                            flow: &t.flow,
                            version,
                            form: Some(&form),
                            record_id: Some(id),
                            initiator: "system",
                            start: &start,
                            correlation: None,
                        },
                        &actor,
                    )
                    .await?;
                }
                None => {
                    let tz = app_tz(txn, batch, &t.app).await?;
                    let next = Cron::parse(trigger["cron"].as_str().unwrap_or(""))
                        .ok()
                        .and_then(|c| c.next_after(crate::time::parse(&batch.now), &tz));
                    let r = txn
                        .execute_raw(batch.stmt(
                            "UPDATE flow_schedules SET next_at = $4 WHERE app = $1 AND flow = $2 AND next_at = $3",
                            vec![t.app.clone().into(), t.flow.clone().into(), t.due.clone().into(), next.map(fmt).unwrap_or_else(|| "9999".into()).into()],
                        ))
                        .await?;
                    if r.rows_affected() == 0 {
                        return Ok(Value::Null);
                    }
                    let form = trigger["form"].as_str();
                    store::start_instance(
                        txn,
                        batch,
                        store::NewInstance {
                            app: &t.app,
                            flow: &t.flow,
                            version,
                            form,
                            record_id: None,
                            initiator: "system",
                            start: &start,
                            correlation: None,
                        },
                        &actor,
                    )
                    .await?;
                }
            }
            Ok(Value::Null)
        })
    }
}
