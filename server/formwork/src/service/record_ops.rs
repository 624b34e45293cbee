//! Record writes as operations of the single writer: each runs inside the writer's
//! transaction, numbers serial fields, checks references and unique fields, writes the row
//! and its operation-log entry together.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::definition::{CompiledForm, escape};
use crate::schema::serial::SerialPattern;
use crate::store::oplog::{Actor, Entry};
use crate::store::records::{self, NewRecord, RecordRow, form_scope};
use crate::store::writer::{Batch, WriteOp};
use crate::query::sql::{Params, bind, data_expr};
use crate::query::fields::{Col, FieldRef};

/// A record to create, already validated.
pub struct NewData {
    pub data: Value,
    pub serials: Vec<(String, SerialPattern)>,
    pub reason: Option<String>,
}

/// A new version of an existing record, validated against the version read as `base`.
pub struct ChangedData {
    pub id: i64,
    pub data: Value,
    pub base_row_version: i64,
    pub if_match: Option<i64>,
    pub reason: Option<String>,
}

pub struct CreateRecords {
    pub form: Arc<CompiledForm>,
    pub items: Vec<NewData>,
    pub actor: Actor,
    pub today: chrono::NaiveDate,
    /// All-or-nothing bulk: pointers get `/items/N` in front.
    pub bulk: bool,
}

pub struct UpdateRecords {
    pub form: Arc<CompiledForm>,
    pub items: Vec<ChangedData>,
    pub actor: Actor,
    pub bulk: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Delete,
    Restore,
}

pub struct SetDeleted {
    pub form: Arc<CompiledForm>,
    pub id: i64,
    pub if_match: Option<i64>,
    pub change: Lifecycle,
    pub actor: Actor,
    pub reason: Option<String>,
}

fn item_prefix(bulk: bool, i: usize) -> String {
    if bulk { format!("/items/{i}") } else { String::new() }
}

impl WriteOp for CreateRecords {
    fn apply<'a>(self: Box<Self>, txn: &'a DatabaseTransaction, batch: &'a mut Batch) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(self.items.len());
            for (i, item) in self.items.into_iter().enumerate() {
                let prefix = item_prefix(self.bulk, i);
                let row = create_one(txn, batch, &self.form, item, &self.actor, self.today, &prefix).await?;
                out.push(row.to_api());
            }
            Ok(Value::Array(out))
        })
    }
}

/// Create one record inside the writer's transaction: number serial fields, check
/// references and unique fields, insert, log.
pub async fn create_one(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    form: &CompiledForm,
    mut item: NewData,
    actor: &Actor,
    today: chrono::NaiveDate,
    prefix: &str,
) -> DomainResult<RecordRow> {
    for (key, pattern) in &item.serials {
        let n = next_serial(txn, batch, form, key, pattern, today).await?;
        item.data[key] = Value::String(pattern.render(today, n));
    }
    check_references(txn, batch, form, &item.data, prefix).await?;
    crate::service::files::check_files(txn, batch, form, &item.data, prefix).await?;
    check_unique(txn, batch, form, &item.data, None, prefix).await?;
    let row = records::insert(txn, batch.backend, &NewRecord {
        app: &form.app,
        form: &form.key,
        form_version: form.version,
        data: &item.data,
        owner_user: Some(&actor.user),
        owner_dept: None,
        actor: &actor.user,
        now: &batch.now,
    })
    .await?;
    batch
        .log(txn, Entry {
            actor: actor.clone(),
            action: "record.create",
            app: Some(form.app.clone()),
            form: Some(form.key.clone()),
            record_id: Some(row.id),
            before: None,
            after: Some(row.data.clone()),
            reason: item.reason,
        })
        .await?;
    Ok(row)
}

/// Only an operation-log entry (exports, and other reads that must leave a trace).
pub struct LogOnly(pub Entry);

impl WriteOp for LogOnly {
    fn apply<'a>(self: Box<Self>, txn: &'a DatabaseTransaction, batch: &'a mut Batch) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            batch.log(txn, self.0).await?;
            Ok(Value::Null)
        })
    }
}

impl WriteOp for UpdateRecords {
    fn apply<'a>(self: Box<Self>, txn: &'a DatabaseTransaction, batch: &'a mut Batch) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let form = &self.form;
            let mut out = Vec::with_capacity(self.items.len());
            for (i, item) in self.items.into_iter().enumerate() {
                let prefix = item_prefix(self.bulk, i);
                let cur = live_row(txn, batch, form, item.id).await?;
                if cur.row_version != item.base_row_version {
                    return Err(DomainError::Stale { current: cur.row_version });
                }
                if let Some(expected) = item.if_match {
                    if expected != cur.row_version {
                        return Err(DomainError::Stale { current: cur.row_version });
                    }
                }
                check_references(txn, batch, form, &item.data, &prefix).await?;
                crate::service::files::check_files(txn, batch, form, &item.data, &prefix).await?;
                check_unique(txn, batch, form, &item.data, Some(item.id), &prefix).await?;
                let mut row = cur.clone();
                row.data = item.data;
                row.form_version = form.version;
                row.updated_by = self.actor.user.clone();
                row.updated_at = batch.now.clone();
                row.row_version += 1;
                if !records::update(txn, batch.backend, &row).await? {
                    return Err(DomainError::Stale { current: cur.row_version });
                }
                batch
                    .log(txn, Entry {
                        actor: self.actor.clone(),
                        action: "record.update",
                        app: Some(form.app.clone()),
                        form: Some(form.key.clone()),
                        record_id: Some(row.id),
                        before: Some(cur.data),
                        after: Some(row.data.clone()),
                        reason: item.reason,
                    })
                    .await?;
                out.push(row.to_api());
            }
            Ok(Value::Array(out))
        })
    }
}

impl WriteOp for SetDeleted {
    fn apply<'a>(self: Box<Self>, txn: &'a DatabaseTransaction, batch: &'a mut Batch) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let form = &self.form;
            let cur = records::get(txn, batch.backend, &form.app, &form.key, self.id)
                .await?
                .ok_or_else(|| DomainError::NotFound(format!("record {}", self.id)))?;
            let deleted = cur.deleted_at.is_some();
            match (self.change, deleted) {
                (Lifecycle::Delete, true) => return Err(DomainError::NotFound(format!("record {}", self.id))),
                (Lifecycle::Restore, false) => {
                    return Err(DomainError::conflict(format!("record {} is not deleted", self.id), vec![]));
                }
                _ => {}
            }
            if let Some(expected) = self.if_match {
                if expected != cur.row_version {
                    return Err(DomainError::Stale { current: cur.row_version });
                }
            }
            if self.change == Lifecycle::Restore {
                check_unique(txn, batch, form, &cur.data, Some(cur.id), "").await?;
            }
            let mut row = cur.clone();
            row.deleted_at = (self.change == Lifecycle::Delete).then(|| batch.now.clone());
            row.updated_by = self.actor.user.clone();
            row.updated_at = batch.now.clone();
            row.row_version += 1;
            if !records::update(txn, batch.backend, &row).await? {
                return Err(DomainError::Stale { current: cur.row_version });
            }
            let action = match self.change {
                Lifecycle::Delete => "record.delete",
                Lifecycle::Restore => "record.restore",
            };
            batch
                .log(txn, Entry {
                    actor: self.actor,
                    action,
                    app: Some(form.app.clone()),
                    form: Some(form.key.clone()),
                    record_id: Some(row.id),
                    before: Some(json!({"deleted_at": cur.deleted_at})),
                    after: Some(json!({"deleted_at": row.deleted_at})),
                    reason: self.reason,
                })
                .await?;
            Ok(row.to_api())
        })
    }
}

async fn live_row(txn: &DatabaseTransaction, batch: &Batch, form: &CompiledForm, id: i64) -> DomainResult<RecordRow> {
    records::get(txn, batch.backend, &form.app, &form.key, id)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| DomainError::NotFound(format!("record {id}")))
}

/// The next counter value of a serial field for the day's period; rolls back with the write.
async fn next_serial(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    key: &str,
    pattern: &SerialPattern,
    today: chrono::NaiveDate,
) -> DomainResult<i64> {
    let scope = format!("{}/{}/{}/{}", form.app, form.key, key, pattern.period(today));
    let row = txn
        .query_one_raw(batch.stmt(
            "INSERT INTO serial_counters (scope, value) VALUES ($1, 1) \
             ON CONFLICT (scope) DO UPDATE SET value = serial_counters.value + 1 RETURNING value",
            vec![scope.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("serial counter returned nothing")))?;
    Ok(row.try_get("", "value")?)
}

/// Every reference (root fields and sub-table rows) names a live record of its target form.
async fn check_references(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    data: &Value,
    prefix: &str,
) -> DomainResult<()> {
    let mut wanted: BTreeMap<&str, Vec<(i64, String)>> = BTreeMap::new();
    for (table, f) in form.model.references() {
        let target = f.ref_form.as_deref().unwrap_or_default();
        match table {
            None => {
                if let Some(id) = data.get(&f.key).and_then(Value::as_i64) {
                    wanted.entry(target).or_default().push((id, format!("{prefix}/data/{}", escape(&f.key))));
                }
            }
            Some(t) => {
                for (i, row) in data.get(t).and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if let Some(id) = row.get(&f.key).and_then(Value::as_i64) {
                        wanted
                            .entry(target)
                            .or_default()
                            .push((id, format!("{prefix}/data/{}/{i}/{}", escape(t), escape(&f.key))));
                    }
                }
            }
        }
    }
    let mut details = Vec::new();
    for (target, refs) in wanted {
        let mut ids: Vec<i64> = refs.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let found = records::existing_ids(txn, batch.backend, &form.app, target, &ids).await?;
        for (id, ptr) in refs {
            if !found.contains(&id) {
                details.push(Detail::new(ptr, "reference", format!("there is no {target} record with id {id}")));
            }
        }
    }
    if details.is_empty() { Ok(()) } else { Err(DomainError::invalid(details)) }
}

/// `x-unique` fields hold a value no other live record of the form has.
async fn check_unique(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    data: &Value,
    except: Option<i64>,
    prefix: &str,
) -> DomainResult<()> {
    for f in form.model.fields.values().filter(|f| f.unique) {
        let Some(v) = data.get(&f.key).filter(|v| !v.is_null() && !v.is_object() && !v.is_array()) else {
            continue;
        };
        let mut params = Params::default();
        let field = FieldRef { col: Col::Data(vec![f.key.clone()]), ty: f.json_type, name: f.key.clone() };
        let p = bind(batch.backend, &field, v, &mut params);
        let expr = data_expr(batch.backend, std::slice::from_ref(&f.key), f.json_type);
        let not_self = match except {
            Some(id) => format!(" AND id <> {}", params.push(id)),
            None => String::new(),
        };
        let sql = format!(
            "SELECT id FROM records WHERE {} AND deleted_at IS NULL AND {expr} = {p}{not_self} LIMIT 1",
            form_scope(&form.app, &form.key)
        );
        if let Some(row) = txn.query_one_raw(batch.stmt(&sql, params.0)).await? {
            let other: i64 = row.try_get("", "id")?;
            return Err(DomainError::conflict(
                format!("{} {v} is already used by record {other}", f.key),
                vec![Detail::new(format!("{prefix}/data/{}", escape(&f.key)), "unique", format!("already used by record {other}"))],
            ));
        }
    }
    Ok(())
}
