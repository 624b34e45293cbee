//! SQL of the flow tables, inside the writer's transaction or on a read connection.

use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};
use serde_json::{Value, json};

use crate::error::{DomainError, DomainResult};
use crate::store::db::Backend;
use crate::store::oplog::Actor;
use crate::store::writer::{Batch, DeferredTable};

pub struct NewInstance<'a> {
    pub app: &'a str,
    pub flow: &'a str,
    pub version: i64,
    pub form: Option<&'a str>,
    pub record_id: Option<i64>,
    pub initiator: &'a str,
    pub start: &'a str,
    /// A sub-flow's key: at most one running instance of this flow per key.
    pub correlation: Option<&'a str>,
}

/// Insert an instance, its start token and the first history step; log `flow.start`.
pub async fn start_instance(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    n: NewInstance<'_>,
    actor: &Actor,
) -> DomainResult<i64> {
    let row = txn
        .query_one_raw(batch.stmt(
            "INSERT INTO flow_instances (app, flow, version, form, record_id, status, vars, initiator, started_at, correlation) \
             VALUES ($1, $2, $3, $4, $5, 'running', '{}', $6, $7, $8) RETURNING id",
            vec![
                n.app.into(),
                n.flow.into(),
                n.version.into(),
                n.form.into(),
                n.record_id.into(),
                n.initiator.into(),
                batch.now.clone().into(),
                n.correlation.map(str::to_owned).into(),
            ],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no instance id returned")))?;
    let id: i64 = row.try_get("", "id")?;
    insert_token(txn, batch, id, n.start, None, "ready", None).await?;
    // The start is logged as `flow.start` below; its history line needs no entry of its own.
    history(
        txn,
        batch,
        id,
        Some(n.start),
        "started",
        &actor.user,
        &json!({"flow": n.flow, "version": n.version}),
    )
    .await?;
    batch
        .log(
            txn,
            super::log_entry(
                actor,
                "flow.start",
                n.app,
                n.form,
                n.record_id,
                json!({"instance": id, "flow": n.flow, "version": n.version}),
                None,
            ),
        )
        .await?;
    Ok(id)
}

pub async fn insert_token(
    txn: &DatabaseTransaction,
    batch: &Batch,
    instance: i64,
    node: &str,
    from: Option<&str>,
    status: &str,
    due_at: Option<String>,
) -> DomainResult<i64> {
    let row = txn
        .query_one_raw(batch.stmt(
            "INSERT INTO flow_tokens (instance_id, node, status, from_node, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            vec![
                instance.into(),
                node.into(),
                status.into(),
                from.map(str::to_owned).into(),
                due_at.into(),
                batch.now.clone().into(),
            ],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no token id returned")))?;
    let id: i64 = row.try_get("", "id")?;
    if status == "ready"
        && let Ok(mut ready) = batch.ready_tokens.lock()
    {
        ready.push((id, instance, node.to_owned()));
    }
    Ok(id)
}

pub async fn set_token(
    txn: &DatabaseTransaction,
    batch: &Batch,
    token: i64,
    status: &str,
    due_at: Option<String>,
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "UPDATE flow_tokens SET status = $2, due_at = $3 WHERE id = $1",
        vec![token.into(), status.into(), due_at.into()],
    ))
    .await?;
    Ok(())
}

async fn history(
    txn: &DatabaseTransaction,
    batch: &Batch,
    instance: i64,
    node: Option<&str>,
    action: &str,
    actor: &str,
    detail: &Value,
) -> DomainResult<()> {
    let _ = txn;
    batch.defer(
        &FLOW_STEPS,
        vec![
            json!(instance),
            json!(batch.now),
            json!(node),
            json!(action),
            json!(actor),
            json!(detail.to_string()),
        ],
    );
    Ok(())
}

/// History lines are written at the end of the step's transaction, all at once; the one
/// reader inside a transaction (a task's `return`) writes them first.
pub static FLOW_STEPS: DeferredTable = DeferredTable {
    table: "flow_steps",
    columns: &[
        ("instance_id", true),
        ("at", false),
        ("node", false),
        ("action", false),
        ("actor", false),
        ("detail", false),
    ],
};

/// One line of an instance's history, also written to the operation log (`flow.step`),
/// so the tamper-evident log holds every step and decision of every flow.
pub async fn step(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &Instance,
    node: Option<&str>,
    action: &str,
    actor: &str,
    detail: Value,
) -> DomainResult<()> {
    history(txn, batch, inst.id, node, action, actor, &detail).await?;
    let who = if actor.starts_with("flow:") {
        super::flow_actor(&inst.flow)
    } else {
        Actor {
            user: actor.to_owned(),
            department: None,
            address: None,
            client: Some("formwork flow".into()),
        }
    };
    batch
        .log(
            txn,
            super::log_entry(
                &who,
                "flow.step",
                &inst.app,
                inst.form.as_deref(),
                inst.record_id,
                json!({"instance": inst.id, "flow": inst.flow, "node": node, "action": action, "detail": detail}),
                None,
            ),
        )
        .await
}

pub async fn inbox(
    txn: &DatabaseTransaction,
    batch: &Batch,
    user: &str,
    instance: i64,
    task: Option<i64>,
    title: &str,
    body: &str,
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "INSERT INTO inbox (username, instance_id, task_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        vec![user.into(), instance.into(), task.into(), title.into(), body.into(), batch.now.clone().into()],
    ))
    .await?;
    Ok(())
}

/// A copy of the instance for `user` (a `cc` node): they may follow it from then on.
pub async fn cc(
    txn: &DatabaseTransaction,
    batch: &Batch,
    user: &str,
    instance: i64,
    node: &str,
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "INSERT INTO flow_cc (instance_id, username, node, created_at) VALUES ($1, $2, $3, $4)",
        vec![
            instance.into(),
            user.into(),
            node.into(),
            batch.now.clone().into(),
        ],
    ))
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub id: i64,
    pub app: String,
    pub flow: String,
    pub version: i64,
    pub form: Option<String>,
    pub record_id: Option<i64>,
    pub status: String,
    pub vars: Value,
    pub initiator: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub error: Option<String>,
    /// Today's date in the app's time zone, for conditions (`today`); set by the engine.
    pub today: String,
    /// The step's time (RFC 3339 UTC), for conditions (`now`); set by the engine.
    pub now: String,
}

pub const INSTANCE_COLUMNS: &str =
    "id, app, flow, version, form, record_id, status, vars, initiator, started_at, ended_at, error";

impl Instance {
    pub fn from_row(r: &QueryResult) -> Result<Instance, sea_orm::DbErr> {
        let vars: String = r.try_get("", "vars")?;
        Ok(Instance {
            id: r.try_get("", "id")?,
            app: r.try_get("", "app")?,
            flow: r.try_get("", "flow")?,
            version: r.try_get("", "version")?,
            form: r.try_get("", "form")?,
            record_id: r.try_get("", "record_id")?,
            status: r.try_get("", "status")?,
            vars: serde_json::from_str(&vars).unwrap_or_else(|_| json!({})),
            initiator: r.try_get("", "initiator")?,
            started_at: r.try_get("", "started_at")?,
            ended_at: r.try_get("", "ended_at")?,
            error: r.try_get("", "error")?,
            today: String::new(),
            now: String::new(),
        })
    }

    pub fn to_api(&self) -> Value {
        json!({"id": self.id, "app": self.app, "flow": self.flow, "version": self.version,
               "form": self.form, "record": self.record_id, "status": self.status,
               "initiator": self.initiator, "started_at": self.started_at,
               "ended_at": self.ended_at, "error": self.error, "vars": self.vars})
    }
}

fn stmt(backend: Backend, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
    sea_orm::Statement::from_sql_and_values(backend.db_backend(), sql, values)
}

/// ` FOR UPDATE` on PostgreSQL, where several server processes may pick the same row;
/// nothing on SQLite (one writer).
pub fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// Claim a row for this transaction or pass it by when another process holds it
/// (PostgreSQL); SQLite has one writer, so there is nobody to skip.
pub fn claim(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

pub async fn instance(
    conn: &impl ConnectionTrait,
    backend: Backend,
    id: i64,
) -> DomainResult<Instance> {
    let row = conn
        .query_one_raw(stmt(
            backend,
            &format!("SELECT {INSTANCE_COLUMNS} FROM flow_instances WHERE id = $1"),
            vec![id.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("flow instance {id}")))?;
    Ok(Instance::from_row(&row)?)
}

/// The published definition of a flow version.
pub async fn definition(
    conn: &impl ConnectionTrait,
    backend: Backend,
    app: &str,
    flow: &str,
    version: i64,
) -> DomainResult<Value> {
    let row = conn
        .query_one_raw(stmt(
            backend,
            "SELECT definition FROM flow_versions WHERE app = $1 AND flow = $2 AND version = $3",
            vec![app.into(), flow.into(), version.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("flow {app}/{flow} version {version}")))?;
    let text: String = row.try_get("", "definition")?;
    serde_json::from_str(&text).map_err(|e| DomainError::Internal(e.into()))
}

pub fn task_json(r: &QueryResult) -> Result<Value, sea_orm::DbErr> {
    Ok(json!({
        "id": r.try_get::<i64>("", "id")?,
        "instance": r.try_get::<i64>("", "instance_id")?,
        "node": r.try_get::<String>("", "node")?,
        "kind": r.try_get::<String>("", "kind")?,
        "assignee": r.try_get::<String>("", "assignee")?,
        "status": r.try_get::<String>("", "status")?,
        "comment": r.try_get::<Option<String>>("", "comment")?,
        "created_at": r.try_get::<String>("", "created_at")?,
        "due_at": r.try_get::<Option<String>>("", "due_at")?,
        "completed_at": r.try_get::<Option<String>>("", "completed_at")?,
        "completed_by": r.try_get::<Option<String>>("", "completed_by")?,
    }))
}

pub const TASK_COLUMNS: &str = "id, instance_id, token_id, node, kind, assignee, status, comment, created_at, due_at, completed_at, completed_by";
