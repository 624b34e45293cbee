//! The single writer with group commit.
//!
//! Every write in the process is a [`WriteOp`] sent to one task that owns the write
//! connection. It takes whatever operations are queued (up to `max_batch`), runs them in
//! one transaction (`BEGIN IMMEDIATE` on SQLite), appends their operation-log entries to
//! the hash chain (written with multi-row INSERTs at the end), commits once, and only then
//! answers each caller. One fsync serves many writes; an answer means the write is durable.
//! When one operation fails, the transaction is rolled back, that caller gets its error and
//! the rest run again in a fresh transaction.

use futures::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde_json::Value;
use std::any::Any;
use tokio::sync::{mpsc, oneshot};

use super::db::{Backend, Db};
use super::oplog::{Entry, StoredEntry, canonical, chain_hash};
use crate::error::{DomainError, DomainResult};

/// A unit of work for the writer. `apply` runs inside the writer's transaction; it may be
/// run again in a fresh transaction when another operation of its batch fails, so it must
/// have no effects outside the database.
pub trait WriteOp: Send + Sync + 'static {
    /// Operations that can run as one (creates of the same form) name a group; the writer
    /// runs consecutive operations of one group through the first one's [`apply_group`].
    fn group_key(&self) -> Option<String> {
        None
    }

    /// This operation's share of a group run.
    fn group_part(&self) -> Option<Box<dyn Any + Send + Sync>> {
        None
    }

    /// Run a group's parts as one; one result per part, in order. On error the writer
    /// rolls back and runs the group's operations one by one to find the failing one.
    fn apply_group<'a>(
        &'a self,
        _parts: Vec<Box<dyn Any + Send + Sync>>,
        _txn: &'a DatabaseTransaction,
        _batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Vec<Value>>> {
        Box::pin(async {
            Err(DomainError::Internal(anyhow::anyhow!(
                "this operation cannot run in a group"
            )))
        })
    }

    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>>;
}

/// An operation-log row waiting for the batch's commit: its 14 column values as JSON.
struct PendingLog {
    values: Vec<Value>,
}

/// Log rows per INSERT; the rows travel as one JSON array parameter.
const LOG_CHUNK: usize = 1000;

/// State shared by the operations of one transaction.
pub struct Batch {
    pub backend: Backend,
    /// The transaction's timestamp (RFC 3339 UTC), used for every row it writes.
    pub now: String,
    head_seq: i64,
    head_hash: String,
    logs: Vec<PendingLog>,
    /// Set by a write to users, sessions, tokens, departments, roles or policies: the
    /// identity generation moves once the batch is committed (store::generation).
    pub identity_changed: bool,
    /// Append-only rows written with one multi-row INSERT per table before the commit
    /// (see [`Batch::defer`]).
    deferred: std::sync::Mutex<Vec<(&'static DeferredTable, Vec<Value>)>>,
    /// Flow tokens made ready in this transaction, `(token, instance, node)`, so a flow
    /// step can go on with them without looking them up (flows::engine).
    pub ready_tokens: std::sync::Mutex<Vec<(i64, i64, String)>>,
}

/// A table whose rows may wait until the end of the transaction: nothing reads them back
/// inside it, or whatever does calls [`Batch::write_deferred`] first. Columns are
/// integers (`true`) or text.
pub struct DeferredTable {
    pub table: &'static str,
    pub columns: &'static [(&'static str, bool)],
}

impl Batch {
    pub fn stmt(&self, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.backend.db_backend(), sql, values)
    }

    /// Append an entry to the operation log, chained to the previous one. It is written
    /// with the batch, in the same transaction.
    /// The chain head so far in this transaction: the last entry's seq and hash.
    pub fn head(&self) -> (i64, &str) {
        (self.head_seq, &self.head_hash)
    }

    pub async fn log(&mut self, _txn: &DatabaseTransaction, e: Entry) -> DomainResult<()> {
        let before = e.before.as_ref().map(canonical);
        let after = e.after.as_ref().map(canonical);
        self.append(
            e.actor,
            e.action,
            e.app,
            e.form,
            e.record_id,
            before,
            after,
            e.reason,
        );
        Ok(())
    }

    /// The log entry of a created record whose canonical JSON is already at hand.
    pub fn log_created(
        &mut self,
        actor: &crate::store::oplog::Actor,
        app: &str,
        form: &str,
        id: i64,
        after: String,
        reason: Option<String>,
    ) {
        self.append(
            actor.clone(),
            "record.create",
            Some(app.to_owned()),
            Some(form.to_owned()),
            Some(id),
            None,
            Some(after),
            reason,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn append(
        &mut self,
        actor: crate::store::oplog::Actor,
        action: &'static str,
        app: Option<String>,
        form: Option<String>,
        record_id: Option<i64>,
        before: Option<String>,
        after: Option<String>,
        reason: Option<String>,
    ) {
        let e = Entry {
            actor,
            action,
            app,
            form,
            record_id,
            before: None,
            after: None,
            reason,
        };
        let seq = self.head_seq + 1;
        let stored = StoredEntry {
            seq,
            at: &self.now,
            actor: &e.actor.user,
            address: e.actor.address.as_deref(),
            client: e.actor.client.as_deref(),
            action: e.action,
            app: e.app.as_deref(),
            form: e.form.as_deref(),
            record_id: e.record_id,
            before: before.as_deref(),
            after: after.as_deref(),
            reason: e.reason.as_deref(),
        };
        let hash = chain_hash(&self.head_hash, &stored);
        self.logs.push(PendingLog {
            values: vec![
                seq.into(),
                self.now.clone().into(),
                e.actor.user.into(),
                e.actor.address.into(),
                e.actor.client.into(),
                e.action.into(),
                e.app.into(),
                e.form.into(),
                e.record_id.into(),
                before.into(),
                after.into(),
                e.reason.into(),
                self.head_hash.clone().into(),
                hash.clone().into(),
            ],
        });
        self.head_seq = seq;
        self.head_hash = hash;
    }

    /// A row for `table`, written before the commit together with the others of its table
    /// (one statement instead of one per row). `values` are in the table's column order.
    pub fn defer(&self, table: &'static DeferredTable, values: Vec<Value>) {
        if let Ok(mut d) = self.deferred.lock() {
            d.push((table, values));
        }
    }

    /// Write the deferred rows now (before reading such a table inside the transaction).
    pub async fn write_deferred(&self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        let rows = match self.deferred.lock() {
            Ok(mut d) => std::mem::take(&mut *d),
            Err(_) => return Ok(()),
        };
        let mut tables: Vec<&'static DeferredTable> = Vec::new();
        for (t, _) in &rows {
            if !tables.iter().any(|x| std::ptr::eq(*x, *t)) {
                tables.push(t);
            }
        }
        for t in tables {
            let names: Vec<&str> = t.columns.iter().map(|(n, _)| *n).collect();
            let picks: Vec<String> = t
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, int))| match (self.backend, int) {
                    (Backend::Sqlite, _) => format!("value ->> {i}"),
                    (Backend::Postgres, true) => format!("(e->>{i})::bigint"),
                    (Backend::Postgres, false) => format!("e->>{i}"),
                })
                .collect();
            let sql = match self.backend {
                Backend::Sqlite => format!(
                    "INSERT INTO {} ({}) SELECT {} FROM json_each($1)",
                    t.table,
                    names.join(", "),
                    picks.join(", ")
                ),
                Backend::Postgres => format!(
                    "INSERT INTO {} ({}) SELECT {} FROM jsonb_array_elements($1::jsonb) AS e",
                    t.table,
                    names.join(", "),
                    picks.join(", ")
                ),
            };
            let mine: Vec<Value> = rows
                .iter()
                .filter(|(x, _)| std::ptr::eq(*x, t))
                .map(|(_, v)| Value::Array(v.clone()))
                .collect();
            for chunk in mine.chunks(LOG_CHUNK) {
                txn.execute_raw(self.stmt(
                    &sql,
                    vec![crate::store::records::json_param(
                        self.backend,
                        &Value::Array(chunk.to_vec()),
                    )],
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Write pending log entries (and deferred rows) early when many have gathered (large
    /// imports that start flows), so they do not pile up in memory; still inside the
    /// batch's transaction.
    pub async fn spill(&mut self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        if self.deferred.lock().map(|d| d.len()).unwrap_or(0) >= LOG_CHUNK {
            self.write_deferred(txn).await?;
        }
        if self.logs.len() < LOG_CHUNK {
            return Ok(());
        }
        self.write_logs(txn).await
    }

    async fn flush(&mut self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        self.write_deferred(txn).await?;
        self.write_logs(txn).await?;
        txn.execute_raw(self.stmt(
            "UPDATE oplog_head SET seq = $1, hash = $2 WHERE id = 1",
            vec![self.head_seq.into(), self.head_hash.clone().into()],
        ))
        .await?;
        Ok(())
    }

    async fn write_logs(&mut self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        let sql = match self.backend {
            Backend::Sqlite => {
                // jsonb_each over a JSONB array hands each row over as JSONB: no re-parsing per column.
                "INSERT INTO oplog (seq, at, actor, address, client, action, app, form, record_id, before, after, reason, prev_hash, hash) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, \
                 value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13 FROM jsonb_each(jsonb($1))"
            }
            Backend::Postgres => {
                "INSERT INTO oplog (seq, at, actor, address, client, action, app, form, record_id, before, after, reason, prev_hash, hash) \
                 SELECT (e->>0)::bigint, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, (e->>8)::bigint, e->>9, e->>10, e->>11, e->>12, e->>13 \
                 FROM jsonb_array_elements($1::text::jsonb) AS e"
            }
        };
        for chunk in std::mem::take(&mut self.logs).chunks(LOG_CHUNK) {
            // Written as text straight from the entries (no copy of their values).
            let rows: Vec<&Vec<Value>> = chunk.iter().map(|l| &l.values).collect();
            let text = serde_json::to_string(&rows)
                .map_err(|e| sea_orm::DbErr::Custom(format!("log rows: {e}")))?;
            txn.execute_raw(self.stmt(sql, vec![text.into()])).await?;
        }
        Ok(())
    }
}

struct Request {
    op: Box<dyn WriteOp>,
    reply: oneshot::Sender<DomainResult<Value>>,
}

/// Handle for submitting writes; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Request>,
}

impl Writer {
    /// Start the writer task. It ends when every `Writer` handle is dropped and the queue is
    /// drained, so in-flight writes finish on shutdown.
    pub fn start(db: Db, max_batch: usize) -> (Writer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(max_batch.max(1) * 8);
        let handle = tokio::spawn(run(db, rx, max_batch.max(1)));
        (Writer { tx }, handle)
    }

    /// True once the writer task has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Run an operation and wait until it is committed (or refused).
    pub async fn submit(&self, op: impl WriteOp) -> DomainResult<Value> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request {
                op: Box::new(op),
                reply,
            })
            .await
            .map_err(|_| DomainError::Unavailable("the server is shutting down".into()))?;
        rx.await
            .map_err(|_| DomainError::Unavailable("the writer stopped".into()))?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Request>, max_batch: usize) {
    let mut queue = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        queue.push(first);
        while queue.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => queue.push(r),
                Err(_) => break,
            }
        }
        let batch: Vec<Request> = std::mem::take(&mut queue);
        run_batch(&db, batch).await;
    }
}

async fn begin(db: &Db) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.write.begin_with_options(options).await
}

fn clone_failure(err: &DomainError) -> DomainError {
    match err {
        DomainError::Unavailable(m) => DomainError::Unavailable(m.clone()),
        DomainError::Busy(m) => DomainError::Busy(m.clone()),
        other => DomainError::Internal(anyhow::anyhow!("write failed: {other}")),
    }
}

fn fail_all(requests: Vec<Request>, err: &DomainError) {
    tracing::error!(error = %err, "write batch failed");
    for r in requests {
        let _ = r.reply.send(Err(clone_failure(err)));
    }
}

/// How long the writer keeps running a transaction the database refused as busy (see
/// [`DomainError::Busy`]) before it answers with that refusal, and the pause before the
/// first rerun (doubled each time).
const BUSY_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);
const BUSY_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Run the operations in one transaction. No savepoints: when an operation fails, the
/// transaction is rolled back, that operation is answered with its error, and the others
/// run again in a fresh transaction (failures are rare; savepoints cost on every write).
/// A transaction the database refuses as busy (another process's lock, a deadlock, a
/// serialization failure) is run again as a whole, after a pause, for up to
/// [`BUSY_WINDOW`]; only then do its callers get the refusal.
async fn run_batch(db: &Db, mut pending: Vec<Request>) {
    let mut grouping = true;
    let started = std::time::Instant::now();
    let mut pause = BUSY_PAUSE;
    while !pending.is_empty() {
        let txn = match begin(db).await {
            Ok(t) => t,
            Err(e) => {
                let e = DomainError::from(e);
                if again(&e, started, &mut pause).await {
                    continue;
                }
                return fail_all(pending, &e);
            }
        };
        let mut batch = match load_head(db, &txn).await {
            Ok(b) => b,
            Err(e) => {
                let _ = txn.rollback().await;
                if again(&e, started, &mut pause).await {
                    continue;
                }
                return fail_all(pending, &e);
            }
        };
        let mut results = Vec::with_capacity(pending.len());
        let mut failed = None;
        let mut group_failed = None;
        let mut i = 0;
        while i < pending.len() {
            let key = if grouping {
                pending[i].op.group_key()
            } else {
                None
            };
            let end = match &key {
                Some(k) => {
                    i + pending[i..]
                        .iter()
                        .take_while(|r| r.op.group_key().as_ref() == Some(k))
                        .count()
                }
                None => i + 1,
            };
            if end - i > 1 {
                let parts: Vec<_> = pending[i..end]
                    .iter()
                    .filter_map(|r| r.op.group_part())
                    .collect();
                match pending[i].op.apply_group(parts, &txn, &mut batch).await {
                    Ok(vs) if vs.len() == end - i => results.extend(vs),
                    Ok(_) => {
                        group_failed = Some(DomainError::Internal(anyhow::anyhow!(
                            "a group run answered the wrong number of parts"
                        )));
                        break;
                    }
                    Err(e) => {
                        group_failed = Some(e);
                        break;
                    }
                }
            } else {
                match pending[i].op.apply(&txn, &mut batch).await {
                    Ok(v) => results.push(v),
                    Err(e) => {
                        failed = Some((i, e));
                        break;
                    }
                }
            }
            i = end;
        }
        if let Some(err) = group_failed {
            let _ = txn.rollback().await;
            if again(&err, started, &mut pause).await {
                continue;
            }
            if err.is_retryable() {
                return fail_all(pending, &err);
            }
            // Find the failing operation by running the batch again without groups.
            grouping = false;
            continue;
        }
        if let Some((i, err)) = failed {
            let _ = txn.rollback().await;
            if again(&err, started, &mut pause).await {
                continue;
            }
            if err.is_retryable() {
                return fail_all(pending, &err);
            }
            let req = pending.remove(i);
            let _ = req.reply.send(Err(err));
            continue;
        }
        let t_flush = std::time::Instant::now();
        let committed = match batch.flush(&txn).await {
            Ok(()) => {
                let t_commit = std::time::Instant::now();
                let r = txn.commit().await;
                tracing::debug!(
                    ops = pending.len(),
                    flush_ms = (t_commit - t_flush).as_millis() as u64,
                    commit_ms = t_commit.elapsed().as_millis() as u64,
                    "batch committed"
                );
                r
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        };
        // After the commit, so that a process seeing the new generation reads the new rows;
        // after a failed commit too, in case it took effect.
        if batch.identity_changed {
            db.identity.bump();
        }
        match committed {
            Ok(()) => {
                for (req, result) in pending.into_iter().zip(results) {
                    let _ = req.reply.send(Ok(result));
                }
            }
            Err(e) => {
                // A commit refused as busy did not take effect (PostgreSQL rolls a failed
                // commit back; SQLite's transaction is rolled back when it is dropped).
                let e = DomainError::from(e);
                if again(&e, started, &mut pause).await {
                    continue;
                }
                fail_all(pending, &e)
            }
        }
        return;
    }
}

/// After a failed attempt: pause and say yes when `err` is a busy refusal and the window
/// since the batch's first attempt is still open.
async fn again(
    err: &DomainError,
    started: std::time::Instant,
    pause: &mut std::time::Duration,
) -> bool {
    if !matches!(err, DomainError::Busy(_)) || started.elapsed() + *pause > BUSY_WINDOW {
        return false;
    }
    tracing::info!(error = %err, pause_ms = pause.as_millis() as u64, "write refused as busy; running it again");
    tokio::time::sleep(*pause).await;
    *pause *= 2;
    true
}

async fn load_head(db: &Db, txn: &DatabaseTransaction) -> DomainResult<Batch> {
    let backend = db.backend;
    let sql = match backend {
        Backend::Sqlite => "SELECT seq, hash FROM oplog_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM oplog_head WHERE id = 1 FOR UPDATE",
    };
    let row = txn
        .query_one_raw(sea_orm::Statement::from_string(backend.db_backend(), sql))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("oplog_head is missing")))?;
    Ok(Batch {
        backend,
        now: db.clock.now(),
        head_seq: row.try_get("", "seq")?,
        head_hash: row.try_get("", "hash")?,
        logs: Vec::new(),
        identity_changed: false,
        deferred: Default::default(),
        ready_tokens: Default::default(),
    })
}
