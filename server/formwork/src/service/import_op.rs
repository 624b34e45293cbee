//! Writing a checked import: every spooled record in one transaction of the writer.

use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

use super::import::read_spool;
use super::record_ops::{NewData, create_all};
use crate::error::{DomainError, DomainResult};
use crate::schema::definition::CompiledForm;
use crate::schema::serial::SerialPattern;
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
    pub scope: Option<Arc<super::record_ops::RowScope>>,
}

impl WriteOp for ImportRecords {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let io = |e: std::io::Error| DomainError::Internal(e.into());
            let mut count = 0usize;
            let (mut first, mut last) = (None, None);
            let mut chunk: Vec<NewData> = Vec::with_capacity(CHUNK);
            let mut records = read_spool(&self.spool).map_err(io)?.peekable();
            while records.peek().is_some() {
                chunk.clear();
                for rec in records.by_ref().take(CHUNK) {
                    let rec = rec.map_err(io)?;
                    let serials = rec["serials"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|k| {
                            let key = k.as_str()?;
                            let pattern = self.form.model.field(key)?.serial.as_deref()?;
                            Some((key.to_owned(), SerialPattern::parse(pattern).ok()?))
                        })
                        .collect();
                    chunk.push(NewData {
                        data: rec["data"].clone(),
                        serials,
                        reason: Some("import".into()),
                        scope: self.scope.clone(),
                    });
                }
                let base = count;
                let prefix = move |i: usize| format!("/rows/{}", base + i + 1);
                let rows = create_all(
                    txn,
                    batch,
                    &self.form,
                    std::mem::take(&mut chunk),
                    &self.actor,
                    self.today,
                    &prefix,
                )
                .await?;
                first = first.or(rows.first().map(|r| r.id));
                last = rows.last().map(|r| r.id).or(last);
                count += rows.len();
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
