//! The flow engine: a worker that finds due tokens (ready, or waiting with a deadline or
//! timer that fell due) and moves each through its node in one writer transaction,
//! together with the record writes, tasks, inbox messages and log entries of that step.
//! State is only in the database, so a restart resumes where it stopped; a timer that fell
//! due while the server was down fires on the first pass after start, once (the step
//! re-reads the token inside the transaction and does nothing if it moved on).

use futures::future::BoxFuture;
use handlebars::Handlebars;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub(crate) use super::assignees::resolve;
use super::definition::duration_minutes;
use super::store::{self, Instance};
use super::{context, flow_actor, log_entry, truthy};
use crate::auth::AuthService;
use crate::config::{FlowSettings, SmtpSettings};
use crate::error::{DomainError, DomainResult};
use crate::service::forms::FormService;
use crate::service::prepare::compute;
use crate::service::record_ops::{create_in_txn, patch_in_txn};
use crate::service::records::RecordService;
use crate::store::db::Db;
use crate::store::oplog::Actor;
use crate::store::writer::{Batch, WriteOp, Writer};

pub(crate) struct Inner {
    pub db: Db,
    pub writer: Writer,
    pub forms: FormService,
    pub records: RecordService,
    pub auth: AuthService,
    pub wake: Notify,
    pub outbox_wake: Notify,
    /// Each app's time zone as steps last read it, with when (re-read after a minute).
    pub time_zones:
        std::sync::Mutex<std::collections::HashMap<String, (chrono_tz::Tz, std::time::Instant)>>,
    /// Published flow versions read by steps (immutable, so cached for this server).
    pub definitions: std::sync::Mutex<std::collections::HashMap<(String, String, i64), Value>>,
    pub flow_settings: FlowSettings,
    pub smtp: SmtpSettings,
    /// Report nodes run reports (set at start-up: the report service comes later).
    pub reports: std::sync::OnceLock<crate::reports::ReportService>,
}

#[derive(Clone)]
pub struct FlowEngine {
    pub(crate) inner: Arc<Inner>,
}

/// How often the worker looks for due tokens when nobody woke it.
const POLL: Duration = Duration::from_millis(250);

impl FlowEngine {
    pub fn new(
        db: Db,
        writer: Writer,
        forms: FormService,
        records: RecordService,
        auth: AuthService,
        flow_settings: FlowSettings,
        smtp: SmtpSettings,
    ) -> Self {
        FlowEngine {
            inner: Arc::new(Inner {
                db,
                writer,
                forms,
                records,
                auth,
                wake: Notify::new(),
                outbox_wake: Notify::new(),
                definitions: Default::default(),
                time_zones: Default::default(),
                flow_settings,
                smtp,
                reports: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The report service report nodes use.
    pub fn set_reports(&self, reports: crate::reports::ReportService) {
        let _ = self.inner.reports.set(reports);
    }

    /// Run the outbox delivery worker until the writer closes.
    pub fn spawn_outbox(&self) -> tokio::task::JoinHandle<()> {
        super::outbox::spawn(self.inner.clone())
    }

    /// Look for due work now (after a task action or a manual start).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Run the worker until the writer closes (server shutdown).
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = inner.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
                if inner.writer.is_closed() {
                    break;
                }
                if let Err(e) = run_due(&inner).await {
                    tracing::warn!(error = %e, "flow worker pass failed");
                }
            }
        })
    }
}

impl Inner {
    /// The app's time zone ("today" of conditions), cached for a minute: a step runs often,
    /// an app's time zone changes rarely.
    async fn app_tz(
        &self,
        txn: &DatabaseTransaction,
        batch: &Batch,
        app: &str,
    ) -> DomainResult<chrono_tz::Tz> {
        let fresh = Duration::from_secs(60);
        if let Some((tz, at)) = self
            .time_zones
            .lock()
            .ok()
            .and_then(|m| m.get(app).copied())
            && at.elapsed() < fresh
        {
            return Ok(tz);
        }
        let tz = super::timers::app_tz(txn, batch, app).await?;
        if let Ok(mut m) = self.time_zones.lock() {
            m.insert(app.to_owned(), (tz, std::time::Instant::now()));
        }
        Ok(tz)
    }
}

/// One pass: date and schedule timers that fell due, then every due token, oldest first.
async fn run_due(inner: &Arc<Inner>) -> DomainResult<()> {
    for t in super::timers::due(&inner.db).await? {
        let what = format!("{}/{} {:?}", t.app, t.flow, t.record);
        if let Err(e) = inner.writer.submit(super::timers::Fire(t)).await {
            tracing::warn!(timer = %what, error = %e, "a flow timer could not start its flow");
            if e.is_retryable() {
                return Err(e);
            }
        }
    }
    // Steps make new ready tokens; keep going while there is work, so an instance runs
    // from node to node without waiting for the next poll. All due tokens of a pass are
    // submitted at once: the writer commits them together (group commit).
    let mut last: Vec<i64> = Vec::new();
    loop {
        let now = inner.db.clock.now();
        let rows = inner
            .db
            .query_all(
                "SELECT id FROM flow_tokens WHERE status = 'ready' OR (status = 'waiting' AND due_at IS NOT NULL AND due_at <= $1) ORDER BY id LIMIT 500",
                vec![now.into()],
            )
            .await?;
        let mut tokens = rows
            .iter()
            .map(|r| r.try_get::<i64>("", "id"))
            .collect::<Result<Vec<i64>, _>>()?;
        if tokens.is_empty() || tokens == last {
            // Nothing due, or nothing moved (another process holds these tokens).
            return Ok(());
        }
        last = tokens.clone();
        if inner.db.backend == crate::store::db::Backend::Postgres {
            // Several processes see the same due list: start each at a different place so
            // they mostly claim different tokens instead of queueing for the same rows.
            let k = rand::random_range(0..tokens.len());
            tokens.rotate_left(k);
        }
        let results = futures::future::join_all(tokens.iter().map(|&token| {
            inner.writer.submit(Step {
                inner: inner.clone(),
                token,
                chain: true,
            })
        }))
        .await;
        for (token, result) in tokens.into_iter().zip(results) {
            let Err(e) = result else { continue };
            // Busy or unreachable database: nothing of the step stands; the token is still
            // due and the next pass runs it again. The instance does not fail for it.
            if e.is_retryable() {
                return Err(e);
            }
            // A chained run is all or nothing, so a failure further down the chain undid
            // the steps before it: run this token's own step alone. If that succeeds, the
            // failing node's token is ready and fails on its own in the loop's next round,
            // so the failure is pinned to the node where it happened.
            match inner
                .writer
                .submit(Step {
                    inner: inner.clone(),
                    token,
                    chain: false,
                })
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_retryable() => return Err(e),
                Err(e) => {
                    tracing::warn!(token, error = %e, "flow step failed; the instance stops");
                    inner
                        .writer
                        .submit(Fail {
                            token,
                            error: e.to_string(),
                        })
                        .await?;
                }
            }
        }
    }
}

/// Most steps one chained [`Step`] takes in its transaction; the rest of the instance's
/// ready tokens wait for the next round (a loop of automatic nodes cannot hold the writer).
const CHAIN_LIMIT: usize = 64;

/// One token's step and, with `chain`, the steps of the tokens it made ready in the same
/// instance, and theirs, up to [`CHAIN_LIMIT`]: an instance runs through its automatic
/// nodes to its next wait state (task, timer, outbox effect, end) in one transaction.
/// Chaining only saves round trips: every step writes the same token rows, history and log
/// entries as alone, and the transaction commits them together or not at all.
struct Step {
    inner: Arc<Inner>,
    token: i64,
    chain: bool,
}

impl WriteOp for Step {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            // The tokens each step makes ready (`store::insert_token` notes them in the
            // batch): this transaction's own rows, so no other process can hold them.
            let fresh = |batch: &Batch| {
                batch
                    .ready_tokens
                    .lock()
                    .map(|mut r| std::mem::take(&mut *r))
                    .unwrap_or_default()
            };
            fresh(batch);
            step(&self.inner, txn, batch, self.token, None).await?;
            let mut taken = 1;
            while self.chain && taken < CHAIN_LIMIT {
                let next = fresh(batch);
                if next.is_empty() {
                    break;
                }
                // Past the limit, the rest stay ready in the database for the next round.
                for (token, instance, node) in next.into_iter().take(CHAIN_LIMIT - taken) {
                    step(&self.inner, txn, batch, token, Some((instance, node))).await?;
                    taken += 1;
                }
            }
            Ok(Value::Null)
        })
    }
}

/// Marks the instance of a token whose step failed as failed (with the error), so it is
/// not retried forever; open tasks are cancelled.
struct Fail {
    token: i64,
    error: String,
}

impl WriteOp for Fail {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let Some(row) = txn
                .query_one_raw(batch.stmt(
                    "SELECT instance_id, node FROM flow_tokens WHERE id = $1",
                    vec![self.token.into()],
                ))
                .await?
            else {
                return Ok(Value::Null);
            };
            let id: i64 = row.try_get("", "instance_id")?;
            let node: String = row.try_get("", "node")?;
            let inst = store::instance(txn, batch.backend, id).await?;
            end_instance(
                txn,
                batch,
                &inst,
                "failed",
                Some(&self.error),
                Some(&node),
                &Actor::system(),
            )
            .await?;
            Ok(Value::Null)
        })
    }
}

/// Stop an instance: status, end time, live tokens done, open tasks cancelled, history, log.
pub(crate) async fn end_instance(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    status: &str,
    error: Option<&str>,
    node: Option<&str>,
    actor: &Actor,
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "UPDATE flow_instances SET status = $2, error = $3, ended_at = $4 WHERE id = $1",
        vec![
            inst.id.into(),
            status.into(),
            error.map(str::to_owned).into(),
            batch.now.clone().into(),
        ],
    ))
    .await?;
    txn.execute_raw(batch.stmt(
        "UPDATE flow_tokens SET status = 'done', due_at = NULL WHERE instance_id = $1 AND status IN ('ready', 'waiting', 'joined')",
        vec![inst.id.into()],
    ))
    .await?;
    txn.execute_raw(batch.stmt(
        "UPDATE flow_tasks SET status = 'cancelled', completed_at = $2 WHERE instance_id = $1 AND status IN ('open', 'queued')",
        vec![inst.id.into(), batch.now.clone().into()],
    ))
    .await?;
    store::step(
        txn,
        batch,
        inst,
        node,
        status,
        &actor.user,
        json!({"error": error}),
    )
    .await?;
    let action: &'static str = match status {
        "completed" => "flow.complete",
        "cancelled" => "flow.cancel",
        _ => "flow.fail",
    };
    let parent = inst.vars.get("_parent").cloned();
    batch
        .log(
            txn,
            log_entry(
                actor,
                action,
                &inst.app,
                inst.form.as_deref(),
                inst.record_id,
                json!({"instance": inst.id, "flow": inst.flow, "error": error}),
                None,
            ),
        )
        .await?;
    if let Some(p) = parent.filter(Value::is_object) {
        resume_parent(txn, batch, inst, status, error, p).await?;
    }
    cancel_children(txn, batch, inst, actor).await?;
    Ok(())
}

/// An instance that ends takes the sub-flows it is waiting for with it (a cancelled
/// parent leaves no orphans); sub-flows started without waiting run on.
fn cancel_children<'a>(
    txn: &'a DatabaseTransaction,
    batch: &'a mut Batch,
    inst: &'a Instance,
    actor: &'a Actor,
) -> BoxFuture<'a, DomainResult<()>> {
    Box::pin(async move {
        // The subflow node lists the children it waits for in `_waits_for`; an instance
        // that never waited on one costs nothing here.
        let children: Vec<i64> = inst.vars["_waits_for"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        for child in children {
            let c = store::instance(txn, batch.backend, child).await?;
            if c.status == "running" && c.vars["_parent"]["instance"].as_i64() == Some(inst.id) {
                let why = format!("cancelled with its parent {} #{}", inst.flow, inst.id);
                end_instance(txn, batch, &c, "cancelled", Some(&why), None, actor).await?;
            }
        }
        Ok(())
    })
}

/// How deep sub-flows may nest (a guard against flows that start each other in a ring).
const MAX_SUBFLOW_DEPTH: i64 = 8;

/// A sub-flow ended: its parent's waiting token moves on. `vars.<name>` of the parent gets
/// `{status, error?, vars}` (the child's variables); a completed child follows the edge
/// (or the `completed` one), a failed or cancelled one the `failed` edge, and without one
/// the parent fails too.
fn resume_parent<'a>(
    txn: &'a DatabaseTransaction,
    batch: &'a mut Batch,
    child: &'a Instance,
    status: &'a str,
    error: Option<&'a str>,
    p: Value,
) -> BoxFuture<'a, DomainResult<()>> {
    Box::pin(async move {
        let (Some(pid), Some(token), Some(node_id)) = (
            p["instance"].as_i64(),
            p["token"].as_i64(),
            p["node"].as_str(),
        ) else {
            return Ok(());
        };
        let waits = lock_waiting(txn, batch, token).await?;
        let mut parent = store::instance(txn, batch.backend, pid).await?;
        if parent.status != "running" || !waits {
            return Ok(());
        }
        let mut child_vars = child.vars["vars"].clone();
        if let Some(o) = child_vars.as_object_mut() {
            o.retain(|k, _| !k.starts_with('_'));
        }
        let ok = status == "completed";
        resume_waiting(
            txn,
            batch,
            &mut parent,
            token,
            node_id,
            Resumed {
                ok,
                ok_outcome: "completed",
                result: json!({"instance": child.id, "status": status, "error": error, "vars": child_vars}),
                action: if ok {
                    "subflow_completed"
                } else {
                    "subflow_failed"
                },
                detail: json!({"instance": child.id, "status": status}),
                failure: format!(
                    "sub-flow {} #{} {status}{}",
                    child.flow,
                    child.id,
                    error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
            },
        )
        .await
    })
}

/// Lock a token and say whether it still waits: a result that arrives twice, or after the
/// instance moved on, changes nothing.
pub(crate) async fn lock_waiting(
    txn: &DatabaseTransaction,
    batch: &Batch,
    token: i64,
) -> DomainResult<bool> {
    let lock = store::for_update(batch.backend);
    let row = txn
        .query_one_raw(batch.stmt(
            &format!("SELECT status FROM flow_tokens WHERE id = $1{lock}"),
            vec![token.into()],
        ))
        .await?;
    Ok(match row {
        Some(t) => t.try_get::<String>("", "status")? == "waiting",
        None => false,
    })
}

/// What a node that waited on something outside the step (an HTTP answer, a sub-flow)
/// got back.
pub(crate) struct Resumed<'a> {
    pub ok: bool,
    /// The edge outcome a success follows (an edge without outcome serves too).
    pub ok_outcome: &'a str,
    /// Kept in `vars.<name>` (the node's `name`, else its id).
    pub result: Value,
    /// The history step's action and detail.
    pub action: &'a str,
    pub detail: Value,
    /// The instance's error when there is no edge to follow.
    pub failure: String,
}

/// The waiting token at `node_id` moves on with what came back: the result goes into the
/// variables, then the edge of the outcome (`failed` for a failure) is followed; a failure
/// with no `failed` edge fails the instance.
pub(crate) async fn resume_waiting(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &mut Instance,
    token: i64,
    node_id: &str,
    r: Resumed<'_>,
) -> DomainResult<()> {
    let def = store::definition(txn, batch.backend, &inst.app, &inst.flow, inst.version).await?;
    let node = node_of(&def, node_id).cloned().unwrap_or_default();
    let name = node
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(node_id)
        .to_owned();
    // A report's result is what its role may see: only its holders see it (flows::mask).
    let source = match (
        node.get("type").and_then(Value::as_str),
        node.get("as_role"),
    ) {
        (Some("report"), Some(role)) => Some(json!({"as_role": role})),
        _ => None,
    };
    let vars = vars_mut(inst);
    vars.insert(name.clone(), r.result);
    super::mask::note_source(vars, &name, source);
    save_vars(txn, batch, inst).await?;
    let outs = edges_from(&def, node_id);
    let want = if r.ok { r.ok_outcome } else { "failed" };
    let next = outs
        .iter()
        .find(|e| e.get("outcome").and_then(Value::as_str) == Some(want))
        .or_else(|| outs.iter().find(|e| r.ok && e.get("outcome").is_none()))
        .map(|e| target(e));
    let actor = flow_actor(&inst.flow);
    match next {
        Some(to) => {
            store::set_token(txn, batch, token, "done", None).await?;
            store::step(
                txn,
                batch,
                inst,
                Some(node_id),
                r.action,
                &actor.user,
                r.detail,
            )
            .await?;
            store::insert_token(txn, batch, inst.id, &to, Some(node_id), "ready", None).await?;
            Ok(())
        }
        None => {
            end_instance(
                txn,
                batch,
                inst,
                "failed",
                Some(&r.failure),
                Some(node_id),
                &actor,
            )
            .await
        }
    }
}

pub(crate) fn node_of<'a>(def: &'a Value, id: &str) -> Option<&'a Map<String, Value>> {
    def["nodes"]
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .find(|n| n.get("id").and_then(Value::as_str) == Some(id))
}

pub(crate) fn edges_from<'a>(def: &'a Value, id: &str) -> Vec<&'a Map<String, Value>> {
    def["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .filter(|e| e.get("from").and_then(Value::as_str) == Some(id))
        .collect()
}

fn target(e: &Map<String, Value>) -> String {
    e.get("to").and_then(Value::as_str).unwrap_or("").to_owned()
}

/// The instant a `delay … until` value names: Ok(None) for null (no wait), None when it is
/// neither a datetime (RFC 3339) nor a date (start of that day in `tz`).
fn until_instant(v: &Value, tz: chrono_tz::Tz) -> Option<Option<String>> {
    let s = match v {
        Value::Null => return Some(None),
        Value::String(s) => s,
        _ => return None,
    };
    let at = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&chrono::Utc)
    } else {
        let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        day.and_hms_opt(0, 0, 0)?
            .and_local_timezone(tz)
            .earliest()?
            .with_timezone(&chrono::Utc)
    };
    Some(Some(
        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    ))
}

/// `minutes` after the transaction's time (the server's clock).
pub(crate) fn due_in(batch: &Batch, minutes: f64) -> String {
    let at = crate::time::parse(&batch.now)
        + chrono::Duration::milliseconds((minutes * 60_000.0) as i64);
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The trigger record's current data, also when it was deleted since (a record-deleted
/// flow reads what was deleted; writes to it are still refused).
pub(crate) async fn record_data(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
) -> DomainResult<Value> {
    let (Some(form), Some(id)) = (&inst.form, inst.record_id) else {
        return Ok(Value::Null);
    };
    Ok(
        crate::store::records::get(txn, batch.backend, &inst.app, form, id)
            .await?
            .map(|r| r.data)
            .unwrap_or(Value::Null),
    )
}

pub(crate) fn ctx_of(inst: &Instance, data: &Value) -> Value {
    let mut ctx = context(
        inst.record_id.unwrap_or(0),
        data,
        &inst.vars["vars"],
        &inst.initiator,
        &inst.vars["task"],
    );
    ctx["today"] = json!(inst.today);
    ctx["now"] = json!(inst.now);
    ctx
}

/// Continue from `from` to each target: new ready tokens.
async fn go(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    from: &str,
    targets: &[String],
) -> DomainResult<()> {
    for t in targets {
        store::insert_token(txn, batch, inst.id, t, Some(from), "ready", None).await?;
    }
    Ok(())
}

/// The usual end of a step: the token is done, the history says what happened, and the
/// instance moves on to `next`.
#[allow(clippy::too_many_arguments)]
async fn pass_on(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    action: &str,
    actor: &str,
    detail: Value,
    next: &[String],
) -> DomainResult<()> {
    store::set_token(txn, batch, token, "done", None).await?;
    store::step(txn, batch, inst, Some(node_id), action, actor, detail).await?;
    go(txn, batch, inst, node_id, next).await
}

/// Complete the instance when it has no live token left.
async fn finish_check(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
) -> DomainResult<()> {
    let row = txn
        .query_one_raw(batch.stmt(
            "SELECT COUNT(*) AS n FROM flow_tokens WHERE instance_id = $1 AND status IN ('ready', 'waiting', 'joined')",
            vec![inst.id.into()],
        ))
        .await?;
    let n: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
    if n == 0 {
        end_instance(
            txn,
            batch,
            inst,
            "completed",
            None,
            None,
            &flow_actor(&inst.flow),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn save_vars(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "UPDATE flow_instances SET vars = $2 WHERE id = $1",
        vec![inst.id.into(), inst.vars.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// The flow's label (zh-CN first), or its key.
fn flow_label(def: &Value, key: &str) -> String {
    def.as_object()
        .map(|d| label_text(d, key))
        .unwrap_or_else(|| key.to_owned())
}

pub(crate) fn label_text(node: &Map<String, Value>, id: &str) -> String {
    node.get("label")
        .and_then(|l| l.get("zh-CN").or_else(|| l.get("en")))
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_owned()
}

/// Open tasks for `users` at this token; an inbox message for each.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_tasks(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &Map<String, Value>,
    users: &[String],
    due: Option<String>,
) -> DomainResult<()> {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or("task");
    // Sequential: one assignee at a time, in order; the others wait as `queued`.
    let sequential = node.get("mode").and_then(Value::as_str) == Some("sequential");
    for (i, u) in users.iter().enumerate() {
        let status = if sequential && i > 0 {
            "queued"
        } else {
            "open"
        };
        insert_task(
            txn,
            batch,
            inst,
            token,
            node_id,
            node,
            kind,
            u,
            status,
            due.clone(),
            None,
        )
        .await?;
    }
    Ok(())
}

/// A task for `user` at this token and node; an open one is announced in their inbox
/// (`from`: who handed it over). A `queued` one waits for its turn silently.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_task(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &Map<String, Value>,
    kind: &str,
    user: &str,
    status: &str,
    due: Option<String>,
    from: Option<&str>,
) -> DomainResult<i64> {
    let row = txn
        .query_one_raw(batch.stmt(
            "INSERT INTO flow_tasks (instance_id, token_id, node, kind, assignee, status, created_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            vec![inst.id.into(), token.into(), node_id.into(), kind.into(), user.into(), status.into(), batch.now.clone().into(), due.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no task id")))?;
    let task: i64 = row.try_get("", "id")?;
    if status == "open" {
        announce_task(txn, batch, inst, node_id, node, user, task, from).await?;
    }
    Ok(task)
}

/// The inbox message of a task that is now open for `user`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn announce_task(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    node_id: &str,
    node: &Map<String, Value>,
    user: &str,
    task: i64,
    from: Option<&str>,
) -> DomainResult<()> {
    let title = label_text(node, node_id);
    let body = match from {
        Some(by) => format!("{} #{} ({by})", inst.flow, inst.id),
        None => format!("{} #{}", inst.flow, inst.id),
    };
    store::inbox(
        txn,
        batch,
        user,
        inst.id,
        Some(task),
        &format!("待办 / New task: {title}"),
        &body,
    )
    .await
}

/// Move one token through its node. `made`: the token's instance and node when this
/// transaction made it ready (nothing to claim or re-check).
async fn step(
    inner: &Arc<Inner>,
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    token: i64,
    made: Option<(i64, String)>,
) -> DomainResult<()> {
    // Several server processes (PostgreSQL) may pick the same due token: the first claims
    // its row for this transaction and the others pass it by (SKIP LOCKED) and take other
    // work. If the claiming process dies, its transaction rolls back, the lock goes, and
    // the token is due again for everyone. The status re-check below makes a step that
    // another process already committed a no-op. (SQLite has one writer.)
    let (instance_id, node_id, timer) = match made {
        Some((instance, node)) => (instance, node, false),
        None => {
            let lock = store::claim(batch.backend);
            let Some(row) = txn
                .query_one_raw(batch.stmt(
                    &format!(
                        "SELECT instance_id, node, status, due_at FROM flow_tokens WHERE id = $1{lock}"
                    ),
                    vec![token.into()],
                ))
                .await?
            else {
                return Ok(());
            };
            let status: String = row.try_get("", "status")?;
            let due_at: Option<String> = row.try_get("", "due_at")?;
            let timer =
                status == "waiting" && due_at.as_deref().is_some_and(|d| d <= batch.now.as_str());
            if status != "ready" && !timer {
                return Ok(()); // someone else moved it on
            }
            (
                row.try_get::<i64>("", "instance_id")?,
                row.try_get::<String>("", "node")?,
                timer,
            )
        }
    };
    let mut inst = store::instance(txn, batch.backend, instance_id).await?;
    if inst.status != "running" {
        store::set_token(txn, batch, token, "done", None).await?;
        return Ok(());
    }
    let tz = inner.app_tz(txn, batch, &inst.app).await?;
    inst.now = batch.now.clone();
    inst.today = crate::time::parse(&batch.now)
        .with_timezone(&tz)
        .date_naive()
        .to_string();
    let key = (inst.app.clone(), inst.flow.clone(), inst.version);
    let cached = inner
        .definitions
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned());
    let def = match cached {
        Some(d) => d,
        None => {
            let d =
                store::definition(txn, batch.backend, &inst.app, &inst.flow, inst.version).await?;
            if let Ok(mut m) = inner.definitions.lock() {
                if m.len() > 1000 {
                    m.clear();
                }
                m.insert(key, d.clone());
            }
            d
        }
    };
    let node = node_of(&def, &node_id)
        .ok_or_else(|| {
            DomainError::Internal(anyhow::anyhow!(
                "node {node_id} is not in {} v{}",
                inst.flow,
                inst.version
            ))
        })?
        .clone();
    let kind = node
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    // Nodes that only move tokens do not read the record.
    let data = if !timer && matches!(kind.as_str(), "start" | "end" | "parallel" | "join") {
        Value::Null
    } else {
        record_data(txn, batch, &inst).await?
    };
    let actor = flow_actor(&inst.flow);
    let outs = edges_from(&def, &node_id);
    let single: Vec<String> = outs.iter().take(1).map(|e| target(e)).collect();

    if timer {
        return fire_timer(
            inner, txn, batch, &mut inst, token, &node_id, &node, &kind, &data, &outs,
        )
        .await;
    }
    match kind.as_str() {
        "start" | "parallel" => {
            store::set_token(txn, batch, token, "done", None).await?;
            let all: Vec<String> = outs.iter().map(|e| target(e)).collect();
            go(txn, batch, &inst, &node_id, &all).await?;
        }
        "end" => {
            store::set_token(txn, batch, token, "done", None).await?;
            store::step(
                txn,
                batch,
                &inst,
                Some(&node_id),
                "ended",
                &actor.user,
                json!({}),
            )
            .await?;
            if node.get("terminate") == Some(&Value::Bool(true)) {
                // Explicit termination: the instance ends here; other branches, their
                // open tasks and timers are withdrawn.
                end_instance(txn, batch, &inst, "completed", None, Some(&node_id), &actor).await?;
            } else {
                finish_check(txn, batch, &inst).await?;
            }
        }
        "branch" => {
            // Exclusive: the first edge whose condition holds. Multi-choice (`multi`): every
            // such edge. Neither: the default edge.
            let multi = node.get("multi") == Some(&Value::Bool(true));
            let ctx = ctx_of(&inst, &data);
            let mut chosen: Vec<String> = Vec::new();
            for e in &outs {
                if let Some(w) = e.get("when") {
                    let v = compute(w, &ctx).map_err(|m| {
                        DomainError::invalid_one("", "condition", format!("branch {node_id}: {m}"))
                    })?;
                    if truthy(&v) {
                        chosen.push(target(e));
                        if !multi {
                            break;
                        }
                    }
                }
            }
            if chosen.is_empty()
                && let Some(e) = outs
                    .iter()
                    .find(|e| e.get("default") == Some(&Value::Bool(true)))
            {
                chosen.push(target(e));
            }
            if multi {
                // A join with `{"activated_by": this node}` waits for exactly these.
                let vars = vars_mut(&mut inst);
                let act = vars.entry("_activated").or_insert_with(|| json!({}));
                if let Some(o) = act.as_object_mut() {
                    o.insert(node_id.clone(), json!(chosen.len()));
                }
                save_vars(txn, batch, &inst).await?;
            }
            store::set_token(txn, batch, token, "done", None).await?;
            let detail = if multi {
                json!({"to": chosen})
            } else {
                json!({"to": chosen.first()})
            };
            store::step(
                txn,
                batch,
                &inst,
                Some(&node_id),
                "branched",
                &actor.user,
                detail,
            )
            .await?;
            go(txn, batch, &inst, &node_id, &chosen).await?;
            finish_check(txn, batch, &inst).await?;
        }
        "join" => {
            let fired = txn
                .query_one_raw(batch.stmt("SELECT id FROM flow_tokens WHERE instance_id = $1 AND node = $2 AND status = 'fired'", vec![inst.id.into(), node_id.clone().into()]))
                .await?
                .is_some();
            if fired {
                store::set_token(txn, batch, token, "done", None).await?;
                finish_check(txn, batch, &inst).await?;
                return Ok(());
            }
            store::set_token(txn, batch, token, "joined", None).await?;
            let incoming = def["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["to"] == json!(node_id))
                .count() as i64;
            let activated_by = node
                .get("mode")
                .and_then(|m| m.get("activated_by"))
                .and_then(Value::as_str);
            let needed = match (node.get("mode"), activated_by) {
                // Structured synchronizing merge: as many as the multi-choice activated.
                (_, Some(b)) => inst.vars["vars"]["_activated"][b]
                    .as_i64()
                    .unwrap_or(incoming),
                (Some(Value::String(m)), _) if m == "any" => 1,
                (Some(Value::Object(m)), _) => {
                    m.get("n").and_then(Value::as_i64).unwrap_or(incoming)
                }
                _ => incoming,
            };
            let row = txn
                .query_one_raw(batch.stmt("SELECT COUNT(*) AS n FROM flow_tokens WHERE instance_id = $1 AND node = $2 AND status = 'joined'", vec![inst.id.into(), node_id.clone().into()]))
                .await?;
            let arrived: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
            if arrived >= needed {
                txn.execute_raw(batch.stmt("UPDATE flow_tokens SET status = 'done' WHERE instance_id = $1 AND node = $2 AND status = 'joined'", vec![inst.id.into(), node_id.clone().into()]))
                    .await?;
                if needed < incoming && activated_by.is_none() {
                    // Later arrivals are absorbed by this marker.
                    store::insert_token(txn, batch, inst.id, &node_id, None, "fired", None).await?;
                }
                store::step(
                    txn,
                    batch,
                    &inst,
                    Some(&node_id),
                    "joined",
                    &actor.user,
                    json!({"arrived": arrived}),
                )
                .await?;
                go(txn, batch, &inst, &node_id, &single).await?;
            }
        }
        "approval" | "task" => {
            let users = resolve(
                txn,
                batch,
                &inst,
                &data,
                node.get("assignee").unwrap_or(&Value::Null),
            )
            .await?;
            if users.is_empty() {
                return Err(DomainError::invalid_one(
                    "",
                    "assignee",
                    format!("the assignee of {node_id} resolves to nobody"),
                ));
            }
            let due = node
                .get("deadline")
                .and_then(Value::as_object)
                .and_then(duration_minutes)
                .map(|m| due_in(batch, m));
            add_tasks(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                &node,
                &users,
                due.clone(),
            )
            .await?;
            store::set_token(txn, batch, token, "waiting", due).await?;
            store::step(
                txn,
                batch,
                &inst,
                Some(&node_id),
                "assigned",
                &actor.user,
                json!({"to": users}),
            )
            .await?;
        }
        "delay" => {
            // A duration, or wait until a date / datetime (`until`, JSON Logic; a date means
            // the start of that day in the app's time zone; null or past: no wait).
            let (due, detail) = match node.get("until") {
                Some(u) => {
                    let v = compute(u, &ctx_of(&inst, &data))
                        .map_err(|m| DomainError::invalid_one("/until", "value", m))?;
                    let due = until_instant(&v, tz).ok_or_else(|| {
                        DomainError::invalid_one(
                            "/until",
                            "date",
                            format!("{node_id}: until gives {v}, not a date or datetime"),
                        )
                    })?;
                    let due = due.unwrap_or_else(|| batch.now.clone());
                    (due.clone(), json!({"until": due}))
                }
                None => {
                    let minutes = duration_minutes(&node).unwrap_or(0.0);
                    (due_in(batch, minutes), json!({"minutes": minutes}))
                }
            };
            store::set_token(txn, batch, token, "waiting", Some(due)).await?;
            store::step(
                txn,
                batch,
                &inst,
                Some(&node_id),
                "waiting",
                &actor.user,
                detail,
            )
            .await?;
        }
        "update_record" => {
            let ctx = ctx_of(&inst, &data);
            let mut patch = Map::new();
            for (f, v) in node
                .get("set")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let value = compute(v, &ctx)
                    .map_err(|m| DomainError::invalid_one(&format!("/set/{f}"), "value", m))?;
                patch.insert(f.clone(), value);
            }
            let (form, id) = match node.get("form").and_then(Value::as_str) {
                Some(other) => {
                    let id = compute(node.get("record").unwrap_or(&Value::Null), &ctx)
                        .ok()
                        .and_then(|v| v.as_i64())
                        .ok_or_else(|| {
                            DomainError::invalid_one(
                                "/record",
                                "record",
                                format!("{node_id}: record does not give a record id"),
                            )
                        })?;
                    (other.to_owned(), id)
                }
                None => match (inst.form.clone(), inst.record_id) {
                    (Some(f), Some(id)) => (f, id),
                    _ => {
                        return Err(DomainError::invalid_one(
                            "",
                            "record",
                            "this instance has no record to update",
                        ));
                    }
                },
            };
            let compiled = inner.forms.current(&inst.app, &form).await?;
            let today = inner.records.today(&inst.app).await?;
            patch_in_txn(
                txn,
                batch,
                compiled,
                id,
                &Value::Object(patch.clone()),
                &actor,
                today,
                Some(format!("flow {} #{}", inst.flow, inst.id)),
                None,
            )
            .await?;
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                "updated",
                &actor.user,
                json!({"form": form, "id": id, "set": patch}),
                &single,
            )
            .await?;
        }
        "create_record" => {
            let ctx = ctx_of(&inst, &data);
            let target_form = node
                .get("form")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut new = Map::new();
            for (f, v) in node
                .get("data")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let value = compute(v, &ctx)
                    .map_err(|m| DomainError::invalid_one(&format!("/data/{f}"), "value", m))?;
                // A value that comes out null leaves the field empty (the form's default).
                if !value.is_null() {
                    new.insert(f.clone(), value);
                }
            }
            let compiled = inner.forms.current(&inst.app, &target_form).await?;
            let today = inner.records.today(&inst.app).await?;
            let id = create_in_txn(
                txn,
                batch,
                &compiled,
                Value::Object(new),
                &actor,
                today,
                Some(format!("flow {} #{}", inst.flow, inst.id)),
            )
            .await?;
            vars_mut(&mut inst).insert(node_id.clone(), json!(id));
            save_vars(txn, batch, &inst).await?;
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                "created",
                &actor.user,
                json!({"form": target_form, "id": id}),
                &single,
            )
            .await?;
        }
        "notify"
            if node
                .get("channel")
                .and_then(Value::as_str)
                .is_some_and(|c| c != "inbox") =>
        {
            let detail =
                super::outbox::notify_node(inner, txn, batch, &inst, token, &node_id, &node, &data)
                    .await?;
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                "notified",
                &actor.user,
                detail,
                &single,
            )
            .await?;
        }
        "http" | "report" => {
            let detail = if kind == "report" {
                super::outbox::report_node(txn, batch, &inst, token, &node_id, &node).await?
            } else {
                super::outbox::http_node(inner, txn, batch, &inst, token, &node_id, &node, &data)
                    .await?
            };
            inner.outbox_wake.notify_one();
            store::set_token(txn, batch, token, "waiting", None).await?;
            store::step(
                txn,
                batch,
                &inst,
                Some(&node_id),
                "requested",
                &actor.user,
                detail,
            )
            .await?;
        }
        "notify" | "cc" => {
            let users = resolve(
                txn,
                batch,
                &inst,
                &data,
                node.get("to").unwrap_or(&Value::Null),
            )
            .await?;
            // A copy (抄送) names the flow when it has no title of its own.
            let default_title = if kind == "cc" {
                format!("抄送 / CC: {}", flow_label(&def, &inst.flow))
            } else {
                String::new()
            };
            for u in &users {
                // Rendered through the recipient's own field mask: the record and the
                // variables computed from records (flows::mask).
                let caller = inner.auth.caller_for(u).await.ok();
                let ctx = super::mask::context_for(inner, &inst, &data, caller.as_ref()).await;
                let title = match node.get("title").and_then(Value::as_str) {
                    Some(t) => render(t, &ctx),
                    None => default_title.clone(),
                };
                let body = render(node.get("body").and_then(Value::as_str).unwrap_or(""), &ctx);
                store::inbox(txn, batch, u, inst.id, None, &title, &body).await?;
                if kind == "cc" {
                    // The copy lets the recipient follow the instance ("CC'd to me").
                    store::cc(txn, batch, u, inst.id, &node_id).await?;
                }
            }
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                if kind == "cc" { "copied" } else { "notified" },
                &actor.user,
                json!({"to": users}),
                &single,
            )
            .await?;
        }
        "query" | "users" => {
            let found = if kind == "query" {
                let ctx = ctx_of(&inst, &data);
                super::guard::query(
                    txn,
                    batch,
                    &inst.app,
                    node.get("form").and_then(Value::as_str).unwrap_or(""),
                    node.get("filter").unwrap_or(&json!({"and": []})),
                    node.get("limit").and_then(Value::as_i64).unwrap_or(100),
                    &ctx,
                )
                .await?
            } else {
                super::assignees::listed(
                    txn,
                    batch,
                    &inst,
                    &data,
                    node.get("of").unwrap_or(&Value::Null),
                )
                .await?
            };
            // The list goes into vars.<name>; the history says how many.
            let name = node
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&node_id)
                .to_owned();
            let n = found.len();
            let source = (kind == "query").then(|| {
                super::mask::records_of(node.get("form").and_then(Value::as_str).unwrap_or(""))
            });
            let vars = vars_mut(&mut inst);
            vars.insert(name.clone(), Value::Array(found));
            super::mask::note_source(vars, &name, source);
            save_vars(txn, batch, &inst).await?;
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                if kind == "query" { "queried" } else { "listed" },
                &actor.user,
                json!({"name": name, "found": n}),
                &single,
            )
            .await?;
        }
        "loop" => {
            // State in vars._loops.<node>: the list and the next position. A token
            // arriving with no state starts the loop; one coming back takes the next item.
            let as_name = node
                .get("as")
                .and_then(Value::as_str)
                .unwrap_or("item")
                .to_owned();
            let state = inst.vars["vars"]["_loops"][&node_id].clone();
            let (items, pos) = if state.is_object() {
                (
                    state["items"].as_array().cloned().unwrap_or_default(),
                    state["next"].as_u64().unwrap_or(0) as usize,
                )
            } else {
                let ctx = ctx_of(&inst, &data);
                let list = compute(node.get("over").unwrap_or(&Value::Null), &ctx)
                    .map_err(|m| DomainError::invalid_one("/over", "value", m))?;
                (
                    match list {
                        Value::Array(a) => a,
                        Value::Null => Vec::new(),
                        other => vec![other],
                    },
                    0,
                )
            };
            let each = outs
                .iter()
                .find(|e| e.get("each") == Some(&Value::Bool(true)))
                .map(|e| target(e));
            let done = outs
                .iter()
                .find(|e| e.get("each") != Some(&Value::Bool(true)))
                .map(|e| target(e));
            let item_source =
                super::mask::source_of(node.get("over").unwrap_or(&Value::Null), &inst);
            let vars = vars_mut(&mut inst);
            super::mask::note_source(vars, &as_name, item_source);
            let loops = vars
                .entry("_loops")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or_else(|| {
                    DomainError::Internal(anyhow::anyhow!("vars._loops is not an object"))
                })?;
            let (action, next, detail) = if pos < items.len() {
                loops.insert(node_id.clone(), json!({"items": items, "next": pos + 1}));
                let item = items[pos].clone();
                vars.insert(as_name.clone(), item);
                vars.insert(format!("{as_name}_index"), json!(pos));
                ("iterated", each, json!({"index": pos, "of": items.len()}))
            } else {
                loops.remove(&node_id);
                ("looped", done, json!({"count": items.len()}))
            };
            save_vars(txn, batch, &inst).await?;
            let next: Vec<String> = next.into_iter().collect();
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                action,
                &actor.user,
                detail,
                &next,
            )
            .await?;
        }
        "subflow" => {
            // Start the child instance in this transaction; this token waits until the
            // child ends (end_instance resumes it).
            let child_flow = node.get("flow").and_then(Value::as_str).unwrap_or("");
            let depth = inst.vars["_parent"]["depth"].as_i64().unwrap_or(0) + 1;
            if depth > MAX_SUBFLOW_DEPTH {
                return Err(DomainError::invalid_one(
                    "/flow",
                    "subflow",
                    format!("sub-flows nest deeper than {MAX_SUBFLOW_DEPTH} levels"),
                ));
            }
            let row = txn
                .query_one_raw(batch.stmt(
                    "SELECT published_version FROM flows WHERE app = $1 AND key = $2",
                    vec![inst.app.clone().into(), child_flow.into()],
                ))
                .await?;
            let version: Option<i64> = row
                .map(|r| r.try_get("", "published_version"))
                .transpose()?
                .flatten();
            let Some(version) = version else {
                return Err(DomainError::invalid_one(
                    "/flow",
                    "exists",
                    format!("{child_flow} is not a published flow"),
                ));
            };
            let child_def =
                store::definition(txn, batch.backend, &inst.app, child_flow, version).await?;
            let start = child_def["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|n| n["type"] == "start")
                .and_then(|n| n["id"].as_str())
                .unwrap_or("start")
                .to_owned();
            let ctx = ctx_of(&inst, &data);
            let (form, record) = match node.get("form").and_then(Value::as_str) {
                Some(f) => {
                    let id = compute(node.get("record").unwrap_or(&Value::Null), &ctx)
                        .ok()
                        .and_then(|v| v.as_i64());
                    (Some(f.to_owned()), id)
                }
                None => (inst.form.clone(), inst.record_id),
            };
            let mut input = Map::new();
            for (k, v) in node
                .get("input")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                input.insert(
                    k.clone(),
                    compute(v, &ctx).map_err(|m| {
                        DomainError::invalid_one(&format!("/input/{k}"), "value", m)
                    })?,
                );
            }
            // `wait: false` starts the child and moves on; `key` keeps one running child
            // per key (a second start with the same key is skipped).
            let wait = node.get("wait") != Some(&Value::Bool(false));
            let key = match node.get("key") {
                Some(k) => Some(
                    match compute(k, &ctx)
                        .map_err(|m| DomainError::invalid_one("/key", "value", m))?
                    {
                        Value::String(s) => s,
                        other => other.to_string(),
                    },
                ),
                None => None,
            };
            if let Some(k) = &key
                && let Some(running) = txn
                    .query_one_raw(batch.stmt(
                        "SELECT id FROM flow_instances WHERE app = $1 AND flow = $2 AND correlation = $3 AND status = 'running'",
                        vec![inst.app.clone().into(), child_flow.into(), k.clone().into()],
                    ))
                    .await?
            {
                let running: i64 = running.try_get("", "id")?;
                let detail = json!({"flow": child_flow, "key": k, "running": running});
                if wait {
                    // Wait for the one that runs: resumed when it ends, like our own child.
                    return Err(DomainError::conflict(
                        format!("sub-flow {child_flow} with key {k} is already running (#{running}); only a sub-flow that is not waited for may share a key"),
                        vec![],
                    ));
                }
                pass_on(txn, batch, &inst, token, &node_id, "subflow_skipped", &actor.user, detail, &single).await?;
                return Ok(());
            }
            let child = store::start_instance(
                txn,
                batch,
                store::NewInstance {
                    app: &inst.app,
                    flow: child_flow,
                    version,
                    form: form.as_deref(),
                    record_id: record,
                    initiator: &inst.initiator,
                    start: &start,
                    correlation: key.as_deref(),
                },
                &actor,
            )
            .await?;
            let mut vars = json!({"vars": {"input": input}});
            if wait {
                vars["_parent"] =
                    json!({"instance": inst.id, "token": token, "node": node_id, "depth": depth});
            }
            txn.execute_raw(batch.stmt(
                "UPDATE flow_instances SET vars = $2 WHERE id = $1",
                vec![child.into(), vars.to_string().into()],
            ))
            .await?;
            let detail = json!({"flow": child_flow, "instance": child, "key": key});
            if wait {
                if let Some(o) = inst.vars.as_object_mut() {
                    let list = o.entry("_waits_for").or_insert_with(|| json!([]));
                    if let Some(a) = list.as_array_mut() {
                        a.push(json!(child));
                    }
                }
                save_vars(txn, batch, &inst).await?;
                store::set_token(txn, batch, token, "waiting", None).await?;
                store::step(
                    txn,
                    batch,
                    &inst,
                    Some(&node_id),
                    "subflow_started",
                    &actor.user,
                    detail,
                )
                .await?;
            } else {
                pass_on(
                    txn,
                    batch,
                    &inst,
                    token,
                    &node_id,
                    "subflow_started",
                    &actor.user,
                    detail,
                    &single,
                )
                .await?;
            }
        }
        "set_var" => {
            let ctx = ctx_of(&inst, &data);
            let name = node
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let expr = node.get("value").unwrap_or(&Value::Null);
            let v =
                compute(expr, &ctx).map_err(|m| DomainError::invalid_one("/value", "value", m))?;
            let source = super::mask::source_of(expr, &inst);
            let vars = vars_mut(&mut inst);
            vars.insert(name.clone(), v.clone());
            super::mask::note_source(vars, &name, source);
            save_vars(txn, batch, &inst).await?;
            pass_on(
                txn,
                batch,
                &inst,
                token,
                &node_id,
                "set",
                &actor.user,
                json!({name: v}),
                &single,
            )
            .await?;
        }
        other => {
            return Err(DomainError::Internal(anyhow::anyhow!(
                "unknown node type {other}"
            )));
        }
    }
    Ok(())
}

pub(crate) fn vars_mut(inst: &mut Instance) -> &mut Map<String, Value> {
    if !inst.vars.is_object() {
        inst.vars = json!({});
    }
    let o = inst.vars.as_object_mut().expect("an object");
    if !o.get("vars").is_some_and(Value::is_object) {
        o.insert("vars".into(), json!({}));
    }
    o.get_mut("vars")
        .and_then(Value::as_object_mut)
        .expect("an object")
}

/// Strict Handlebars: a name that is missing (or hidden from the recipient) is an error,
/// shown in the message instead of an empty value.
pub(crate) fn render(template: &str, ctx: &Value) -> String {
    render_strict(template, ctx).unwrap_or_else(|e| format!("[{template}: {e}]"))
}

/// Strict Handlebars (no HTML escaping: messages are plain text; no helpers that run
/// code): Err names what could not be rendered.
pub(crate) fn render_strict(template: &str, ctx: &Value) -> Result<String, String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.render_template(template, ctx).map_err(|e| e.to_string())
}

/// A deadline or delay fell due.
#[allow(clippy::too_many_arguments)]
async fn fire_timer(
    _inner: &Arc<Inner>,
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &mut Instance,
    token: i64,
    node_id: &str,
    node: &Map<String, Value>,
    kind: &str,
    data: &Value,
    outs: &[&Map<String, Value>],
) -> DomainResult<()> {
    let actor = flow_actor(&inst.flow);
    if kind == "delay" {
        store::set_token(txn, batch, token, "done", None).await?;
        store::step(
            txn,
            batch,
            inst,
            Some(node_id),
            "timer",
            &actor.user,
            json!({}),
        )
        .await?;
        let next: Vec<String> = outs.iter().take(1).map(|e| target(e)).collect();
        return go(txn, batch, inst, node_id, &next).await;
    }
    let deadline = node.get("deadline").cloned().unwrap_or(Value::Null);
    let action = deadline["action"].as_str().unwrap_or("remind");
    store::step(
        txn,
        batch,
        inst,
        Some(node_id),
        "deadline",
        &actor.user,
        json!({"action": action}),
    )
    .await?;
    batch
        .log(
            txn,
            log_entry(
                &actor,
                "flow.deadline",
                &inst.app,
                inst.form.as_deref(),
                inst.record_id,
                json!({"instance": inst.id, "node": node_id, "action": action}),
                None,
            ),
        )
        .await?;
    match action {
        "auto_approve" | "auto_reject" => {
            let outcome = if action == "auto_approve" {
                "approved"
            } else {
                "rejected"
            };
            decide_node(
                txn,
                batch,
                inst,
                token,
                node_id,
                kind,
                outcome,
                None,
                &actor.user,
                outs,
            )
            .await
        }
        "escalate" => {
            let users = resolve(txn, batch, inst, data, &deadline["to"]).await?;
            add_tasks(txn, batch, inst, token, node_id, node, &users, None).await?;
            store::set_token(txn, batch, token, "waiting", None).await?;
            store::step(
                txn,
                batch,
                inst,
                Some(node_id),
                "escalated",
                &actor.user,
                json!({"to": users}),
            )
            .await
        }
        _ => {
            let rows = txn
                .query_all_raw(batch.stmt(
                    "SELECT assignee FROM flow_tasks WHERE token_id = $1 AND status = 'open'",
                    vec![token.into()],
                ))
                .await?;
            let title = label_text(node, node_id);
            for r in rows {
                let u: String = r.try_get("", "assignee")?;
                store::inbox(
                    txn,
                    batch,
                    &u,
                    inst.id,
                    None,
                    &format!("催办 / Reminder: {title}"),
                    &format!("{} #{}", inst.flow, inst.id),
                )
                .await?;
            }
            store::set_token(txn, batch, token, "waiting", None).await
        }
    }
}

/// The node of a task is decided: cancel its other open tasks, remember the outcome, and
/// continue along the matching edge.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn decide_node(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &mut Instance,
    token: i64,
    node_id: &str,
    kind: &str,
    outcome: &str,
    comment: Option<&str>,
    by: &str,
    outs: &[&Map<String, Value>],
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "UPDATE flow_tasks SET status = 'cancelled', completed_at = $2 WHERE token_id = $1 AND status IN ('open', 'queued')",
        vec![token.into(), batch.now.clone().into()],
    ))
    .await?;
    store::set_token(txn, batch, token, "done", None).await?;
    if let Some(o) = inst.vars.as_object_mut() {
        o.insert(
            "task".into(),
            json!({"outcome": outcome, "comment": comment, "by": by, "node": node_id}),
        );
    } else {
        inst.vars =
            json!({"task": {"outcome": outcome, "comment": comment, "by": by, "node": node_id}});
    }
    save_vars(txn, batch, inst).await?;
    store::step(
        txn,
        batch,
        inst,
        Some(node_id),
        outcome,
        by,
        json!({"comment": comment}),
    )
    .await?;
    let next: Vec<String> = if kind == "approval" {
        outs.iter()
            .filter(|e| e.get("outcome").and_then(Value::as_str) == Some(outcome))
            .map(|e| target(e))
            .collect()
    } else {
        outs.iter().take(1).map(|e| target(e)).collect()
    };
    go(txn, batch, inst, node_id, &next).await?;
    finish_check(txn, batch, inst).await
}
