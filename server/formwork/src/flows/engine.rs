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

mod control;
mod resume;
mod tasks;
mod work;

use resume::{cancel_children, resume_parent};
pub(crate) use resume::{lock_waiting, resume_waiting};
use tasks::fire_timer;
pub(crate) use tasks::{add_tasks, announce_task, decide_node, insert_task};

/// A step's state, handed to the function of the token's node (`control`, `work`).
struct At<'a> {
    inner: &'a Arc<Inner>,
    txn: &'a DatabaseTransaction,
    batch: &'a mut Batch,
    inst: Instance,
    token: i64,
    node_id: String,
    node: Map<String, Value>,
    def: &'a Value,
    /// The record's data as the flow sees it (null for nodes that only move tokens).
    data: Value,
    /// The node's outgoing edges, and the target of the first.
    outs: Vec<&'a Map<String, Value>>,
    single: Vec<String>,
    actor: Actor,
    /// The app's time zone.
    tz: chrono_tz::Tz,
    kind: &'a str,
}

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
    /// This server process, as the history of a timer it fired names it (several
    /// processes share the work on PostgreSQL).
    pub worker: String,
}

/// A name for this server process: its process id and a random part (process ids repeat
/// across hosts and restarts). Nothing about the host, since instance histories show it.
fn worker_name() -> String {
    format!("{}-{:08x}", std::process::id(), rand::random::<u32>())
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
                worker: worker_name(),
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
        // The crash tests stop here: this pass's steps are committed, the rest of the due
        // tokens are not run yet.
        super::failpoint("flow_pass_committed");
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

/// How deep sub-flows may nest (a guard against flows that start each other in a ring).
const MAX_SUBFLOW_DEPTH: i64 = 8;

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
    let at = At {
        inner,
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        def: &def,
        data,
        outs,
        single,
        actor,
        tz,
        kind: &kind,
    };
    match kind.as_str() {
        "start" | "parallel" => control::pass_through(at).await,
        "end" => control::end(at).await,
        "branch" => control::branch(at).await,
        "join" => control::join(at).await,
        "approval" | "task" => work::assign(at).await,
        "delay" => control::delay(at).await,
        "update_record" => work::update_record(at).await,
        "create_record" => work::create_record(at).await,
        "notify"
            if at
                .node
                .get("channel")
                .and_then(Value::as_str)
                .is_some_and(|c| c != "inbox") =>
        {
            work::notify_outside(at).await
        }
        "http" | "report" => work::effect(at).await,
        "notify" | "cc" => work::notify(at).await,
        "query" | "users" => work::query(at).await,
        "loop" => control::each(at).await,
        "subflow" => control::subflow(at).await,
        "set_var" => control::set_var(at).await,
        other => Err(DomainError::Internal(anyhow::anyhow!(
            "unknown node type {other}"
        ))),
    }
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
