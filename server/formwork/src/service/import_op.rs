//! Writing a checked import: every spooled record in one transaction of the writer.

use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

use super::import::read_spool;
use super::record_ops::{NewData, create_one};
use crate::error::{DomainError, DomainResult};
use crate::schema::definition::CompiledForm;
use crate::schema::serial::SerialPattern;
use crate::store::oplog::{Actor, Entry};
use crate::store::writer::{Batch, WriteOp};

pub struct ImportRecords {
    pub form: Arc<CompiledForm>,
    pub spool: PathBuf,
    pub actor: Actor,
    pub today: chrono::NaiveDate,
    pub file_name: Option<String>,
}

impl WriteOp for ImportRecords {
    fn apply<'a>(self: Box<Self>, txn: &'a DatabaseTransaction, batch: &'a mut Batch) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let io = |e: std::io::Error| DomainError::Internal(e.into());
            let mut count = 0usize;
            let (mut first, mut last) = (None, None);
            for (i, rec) in read_spool(&self.spool).map_err(io)?.enumerate() {
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
                let item = NewData { data: rec["data"].clone(), serials, reason: Some("import".into()) };
                let row = create_one(txn, batch, &self.form, item, &self.actor, self.today, &format!("/rows/{}", i + 1)).await?;
                first.get_or_insert(row.id);
                last = Some(row.id);
                count += 1;
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
