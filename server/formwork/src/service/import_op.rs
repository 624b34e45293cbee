//! Writing a checked import: every spooled record in one transaction of the writer.

use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc::Sender;

use super::import::read_spool;
use super::record_ops::{NewData, Rendered, RowScope, bump_serial, create_all, serial_scope};
use crate::error::{DomainError, DomainResult};
use crate::schema::definition::CompiledForm;
use crate::schema::serial::SerialPattern;
use crate::store::db::Backend;
use crate::store::oplog::{Actor, Entry};
use crate::store::writer::{Batch, WriteOp};

/// Records checked and written together (one reference query per target and chunk).
const CHUNK: usize = 1000;

pub struct ImportRecords {
    pub form: Arc<CompiledForm>,
    pub spool: PathBuf,
    pub actor: Actor,
    pub today: chrono::NaiveDate,
    pub file_name: Option<String>,
    /// The importer's row scope: every new record must fall inside it.
    pub scope: Option<Arc<RowScope>>,
}

impl WriteOp for ImportRecords {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let mut count = 0usize;
            let (mut first, mut last) = (None, None);
            // Reading the spool back and rendering each record's text run on their own
            // thread, a few chunks ahead: the writer's task only waits for the database and
            // chains the log (two cores: one for SQLite, one for the rest).
            // Serial numbers are drawn there too, from counters read (and held) here first
            // and moved on by the numbers drawn once every record is written.
            let mut numbering = Vec::new();
            for f in self.form.model.fields.values() {
                let Some(pattern) = f
                    .serial
                    .as_deref()
                    .and_then(|p| SerialPattern::parse(p).ok())
                else {
                    continue;
                };
                let scope = serial_scope(&self.form, &f.key, &pattern, self.today);
                let last = bump_serial(txn, batch, &scope, 0).await?;
                numbering.push(Numbering {
                    key: f.key.clone(),
                    pattern,
                    scope,
                    last,
                    drawn: 0,
                });
            }
            let (tx, mut rx) = tokio::sync::mpsc::channel(2);
            let reader = Reader {
                form: self.form.clone(),
                backend: batch.backend,
                scope: self.scope.clone(),
                today: self.today,
                numbering,
            };
            let spool = self.spool.clone();
            let producer = tokio::task::spawn_blocking(move || reader.run(&spool, tx));
            while let Some(chunk) = rx.recv().await {
                let chunk = chunk.map_err(|e| DomainError::Internal(e.into()))?;
                let base = count;
                let prefix = move |i: usize| format!("/rows/{}", base + i + 1);
                let rows = create_all(
                    txn,
                    batch,
                    &self.form,
                    chunk,
                    &self.actor,
                    self.today,
                    &prefix,
                )
                .await?;
                first = first.or(rows.first().map(|r| r.id));
                last = rows.last().map(|r| r.id).or(last);
                count += rows.len();
                // The crash test stops here: rows written, the transaction not committed.
                crate::flows::failpoint("import_chunk_written");
            }
            let numbering = producer
                .await
                .map_err(|e| DomainError::Internal(e.into()))?;
            for n in numbering.iter().filter(|n| n.drawn > 0) {
                bump_serial(txn, batch, &n.scope, n.drawn).await?;
            }
            batch
                .log(txn, Entry {
                    actor: self.actor.clone(),
                    action: "record.import",
                    app: Some(self.form.app.clone()),
                    form: Some(self.form.key.clone()),
                    record_id: None,
                    before: None,
                    after: Some(json!({"file": self.file_name, "rows": count, "first_id": first, "last_id": last})),
                    reason: None,
                })
                .await?;
            Ok(json!({"imported": count, "first_id": first, "last_id": last}))
        })
    }
}

/// A serial field's numbers for the import: drawn after `last`, in file order.
struct Numbering {
    key: String,
    pattern: SerialPattern,
    scope: String,
    last: i64,
    drawn: i64,
}

/// Reads the spool back for the writer (see [`ImportRecords`]).
struct Reader {
    form: Arc<CompiledForm>,
    backend: Backend,
    scope: Option<Arc<RowScope>>,
    today: chrono::NaiveDate,
    numbering: Vec<Numbering>,
}

impl Reader {
    /// Send the spooled records in chunks of [`CHUNK`], serial numbers drawn and each
    /// record's text rendered. Stops at the first error (sent on) or when the writer stops
    /// listening; returns the numbers drawn.
    fn run(mut self, spool: &Path, tx: Sender<std::io::Result<Vec<NewData>>>) -> Vec<Numbering> {
        let records = match read_spool(spool) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return self.numbering;
            }
        };
        let mut chunk: Vec<NewData> = Vec::with_capacity(CHUNK);
        for rec in records {
            let rec = match rec {
                Ok(rec) => rec,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return self.numbering;
                }
            };
            match self.record(rec) {
                Ok(r) => chunk.push(r),
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return self.numbering;
                }
            }
            if chunk.len() == CHUNK
                && tx
                    .blocking_send(Ok(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))))
                    .is_err()
            {
                return self.numbering;
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Ok(chunk));
        }
        self.numbering
    }

    fn record(&mut self, rec: Value) -> std::io::Result<NewData> {
        let Value::Object(mut rec) = rec else {
            return Err(std::io::Error::other("a spooled record is not an object"));
        };
        let mut data = rec.remove("data").unwrap_or(Value::Null);
        let mut serials = Vec::new();
        for key in rec
            .get("serials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(key) = key.as_str() else { continue };
            match self.numbering.iter_mut().find(|n| n.key == key) {
                Some(n) => {
                    n.drawn += 1;
                    data[key] = Value::String(n.pattern.render(self.today, n.last + n.drawn));
                }
                // Not a serial field of this form version (cannot happen: the spool was
                // checked against it); left to the writer, as for any other create.
                None => {
                    if let Some(pattern) = self
                        .form
                        .model
                        .field(key)
                        .and_then(|f| f.serial.as_deref())
                        .and_then(|p| SerialPattern::parse(p).ok())
                    {
                        serials.push((key.to_owned(), pattern));
                    }
                }
            }
        }
        let rendered = serials
            .is_empty()
            .then(|| Rendered::of(self.backend, &data));
        Ok(NewData {
            data,
            serials,
            reason: Some("import".into()),
            scope: self.scope.clone(),
            rendered,
        })
    }
}
