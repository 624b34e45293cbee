//! The single writer with group commit.
//!
//! Every write in the process is a [`WriteOp`] sent to one task that owns the write
//! connection. It takes whatever operations are queued (up to `max_batch`), runs each in
//! its own savepoint inside one transaction (`BEGIN IMMEDIATE` on SQLite), appends their
//! operation-log entries to the hash chain, commits once, and only then answers each
//! caller. One fsync serves many writes; a failing operation rolls back alone; an answer
//! means the write is durable.

use futures::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::db::{Backend, Db};
use super::oplog::{Entry, StoredEntry, canonical, chain_hash};
use crate::error::{DomainError, DomainResult};

/// A unit of work for the writer. `apply` runs inside the writer's transaction.
pub trait WriteOp: Send + 'static {
    fn apply<'a>(self: Box<Self>, txn: &'a DatabaseTransaction, batch: &'a mut Batch)
    -> BoxFuture<'a, DomainResult<Value>>;
}

/// State shared by the operations of one transaction.
pub struct Batch {
    pub backend: Backend,
    /// The transaction's timestamp (RFC 3339 UTC), used for every row it writes.
    pub now: String,
    head_seq: i64,
    head_hash: String,
}

impl Batch {
    pub fn stmt(&self, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.backend.db_backend(), sql, values)
    }

    /// Append an entry to the operation log, chained to the previous one.
    pub async fn log(&mut self, txn: &DatabaseTransaction, e: Entry) -> DomainResult<()> {
        let seq = self.head_seq + 1;
        let before = e.before.as_ref().map(canonical);
        let after = e.after.as_ref().map(canonical);
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
        txn.execute_raw(self.stmt(
            "INSERT INTO oplog (seq, at, actor, address, client, action, app, form, record_id, before, after, reason, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            vec![
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
        ))
        .await?;
        self.head_seq = seq;
        self.head_hash = hash;
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

    /// Run an operation and wait until it is committed (or refused).
    pub async fn submit(&self, op: impl WriteOp) -> DomainResult<Value> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request { op: Box::new(op), reply })
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
        commit_batch(&db, batch).await;
    }
}

async fn begin(db: &Db) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.write.begin_with_options(options).await
}

async fn commit_batch(db: &Db, requests: Vec<Request>) {
    let outcome = run_batch(db, requests).await;
    match outcome {
        Ok(answers) => {
            for (reply, result) in answers {
                let _ = reply.send(result);
            }
        }
        Err((replies, err)) => {
            tracing::error!(error = %err, "write batch failed");
            for reply in replies {
                let _ = reply.send(Err(clone_failure(&err)));
            }
        }
    }
}

fn clone_failure(err: &DomainError) -> DomainError {
    match err {
        DomainError::Unavailable(m) => DomainError::Unavailable(m.clone()),
        other => DomainError::Internal(anyhow::anyhow!("write failed: {other}")),
    }
}

type Answers = Vec<(oneshot::Sender<DomainResult<Value>>, DomainResult<Value>)>;
type Failure = (Vec<oneshot::Sender<DomainResult<Value>>>, DomainError);

async fn run_batch(db: &Db, requests: Vec<Request>) -> Result<Answers, Failure> {
    let single = requests.len() == 1;
    let txn = match begin(db).await {
        Ok(t) => t,
        Err(e) => return Err((requests.into_iter().map(|r| r.reply).collect(), e.into())),
    };
    let mut batch = match load_head(db.backend, &txn).await {
        Ok(b) => b,
        Err(e) => return Err((requests.into_iter().map(|r| r.reply).collect(), e)),
    };
    let mut answers: Answers = Vec::with_capacity(requests.len());
    let mut pending = requests.into_iter();
    let mut fatal: Option<DomainError> = None;
    for req in pending.by_ref() {
        if !single {
            if let Err(e) = txn.execute_unprepared("SAVEPOINT fw_op").await {
                answers.push((req.reply, Err(DomainError::Unavailable(String::new()))));
                fatal = Some(e.into());
                break;
            }
        }
        let (seq, hash) = (batch.head_seq, batch.head_hash.clone());
        let result = req.op.apply(&txn, &mut batch).await;
        let step = match (&result, single) {
            (_, true) => Ok(()),
            (Ok(_), false) => txn.execute_unprepared("RELEASE SAVEPOINT fw_op").await.map(|_| ()),
            (Err(_), false) => txn
                .execute_unprepared("ROLLBACK TO SAVEPOINT fw_op; RELEASE SAVEPOINT fw_op")
                .await
                .map(|_| ()),
        };
        if result.is_err() {
            batch.head_seq = seq;
            batch.head_hash = hash;
        }
        if let Err(DomainError::Unavailable(m)) = &result {
            fatal = Some(DomainError::Unavailable(m.clone()));
        }
        answers.push((req.reply, result));
        if let Err(e) = step {
            fatal = Some(e.into());
        }
        if fatal.is_some() {
            break;
        }
    }
    let mut replies_of_rest: Vec<_> = pending.map(|r| r.reply).collect();
    if let Some(err) = fatal {
        let _ = txn.rollback().await;
        replies_of_rest.extend(answers.into_iter().map(|(r, _)| r));
        return Err((replies_of_rest, err));
    }
    if single && answers.first().is_some_and(|(_, r)| r.is_err()) {
        let _ = txn.rollback().await;
        return Ok(answers);
    }
    let stored = txn
        .execute_raw(batch.stmt(
            "UPDATE oplog_head SET seq = $1, hash = $2 WHERE id = 1",
            vec![batch.head_seq.into(), batch.head_hash.clone().into()],
        ))
        .await;
    let committed = match stored {
        Ok(_) => txn.commit().await,
        Err(e) => Err(e),
    };
    match committed {
        Ok(()) => Ok(answers),
        Err(e) => Err((answers.into_iter().map(|(r, _)| r).collect(), e.into())),
    }
}

async fn load_head(backend: Backend, txn: &DatabaseTransaction) -> DomainResult<Batch> {
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
        now: crate::time::now(),
        head_seq: row.try_get("", "seq")?,
        head_hash: row.try_get("", "hash")?,
    })
}
