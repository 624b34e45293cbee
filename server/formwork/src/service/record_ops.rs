//! Record writes as operations of the single writer: each runs inside the writer's
//! transaction, numbers serial fields, checks references and unique fields, writes the row
//! and its operation-log entry together.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::error::{DomainError, DomainResult};
use crate::schema::definition::CompiledForm;
use crate::schema::serial::SerialPattern;
use crate::store::oplog::{Actor, Entry};
use crate::store::records::{self, RecordRow};
use crate::store::writer::{Batch, WriteOp};

use super::record_checks::{
    check_references, check_references_all, check_unique, check_unique_all,
};

/// The caller's row scope as SQL (see `AuthService::row_scope`). A create or update that
/// would leave the record outside it is refused inside the same transaction, so no role
/// can write a record it could not then read (a sales rep filing a contract for another
/// rep's customer, an engineer assigning an order to someone else).
#[derive(Debug)]
pub struct RowScope {
    pub sql: String,
    pub params: Vec<sea_orm::Value>,
}

impl RowScope {
    pub fn new(sql: Option<String>, params: crate::query::sql::Params) -> Option<Arc<RowScope>> {
        sql.map(|sql| {
            Arc::new(RowScope {
                sql,
                params: params.0,
            })
        })
    }
}

/// Refuse (403, rule `row_scope`) when record `id` is not within `scope`.
async fn ensure_in_scope(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    id: i64,
    scope: &RowScope,
    prefix: &str,
) -> DomainResult<()> {
    let found = records::get_scoped(
        txn,
        batch.backend,
        &form.app,
        &form.key,
        id,
        Some(scope.sql.clone()),
        scope.params.clone(),
    )
    .await?;
    if found.is_none() {
        return Err(DomainError::forbidden(
            &format!("{prefix}/data"),
            "row_scope",
            "the record would be outside the rows your roles allow",
        ));
    }
    Ok(())
}

/// A record to create, already validated.
#[derive(Clone)]
pub struct NewData {
    pub data: Value,
    pub serials: Vec<(String, SerialPattern)>,
    pub reason: Option<String>,
    /// The creator's row scope; the new record must fall inside it.
    pub scope: Option<Arc<RowScope>>,
    /// The data already rendered for the insert and the log (an import renders it beside
    /// the writer); dropped when a serial number changes the data.
    pub rendered: Option<Rendered>,
}

/// A new record's data as text: [`records::stored_text`] and the log's canonical JSON.
#[derive(Clone)]
pub struct Rendered {
    pub stored: String,
    pub canonical: String,
}

impl Rendered {
    pub fn of(backend: crate::store::db::Backend, data: &Value) -> Rendered {
        Rendered {
            stored: records::stored_text(backend, data),
            canonical: crate::store::oplog::canonical(data),
        }
    }
}

/// A new version of an existing record, validated against the version read as `base`.
#[derive(Clone)]
pub struct ChangedData {
    pub id: i64,
    pub data: Value,
    pub base_row_version: i64,
    pub if_match: Option<i64>,
    pub reason: Option<String>,
    /// The writer's row scope; the changed record must stay inside it.
    pub scope: Option<Arc<RowScope>>,
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
    if bulk {
        format!("/items/{i}")
    } else {
        String::new()
    }
}

/// A create's share of a group run: its items and who creates them.
struct CreatePart {
    items: Vec<NewData>,
    actor: Actor,
}

impl WriteOp for CreateRecords {
    fn group_key(&self) -> Option<String> {
        Some(format!(
            "create {}/{}@{} {}",
            self.form.app, self.form.key, self.form.version, self.today
        ))
    }

    fn group_part(&self) -> Option<Box<dyn std::any::Any + Send + Sync>> {
        Some(Box::new(CreatePart {
            items: self.items.clone(),
            actor: self.actor.clone(),
        }))
    }

    /// Creates of one form from many requests, checked and written together.
    fn apply_group<'a>(
        &'a self,
        parts: Vec<Box<dyn std::any::Any + Send + Sync>>,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Vec<Value>>> {
        Box::pin(async move {
            let mut sizes = Vec::with_capacity(parts.len());
            let mut items = Vec::new();
            for part in parts {
                let part = part.downcast::<CreatePart>().map_err(|_| {
                    DomainError::Internal(anyhow::anyhow!("a create group holds another operation"))
                })?;
                sizes.push(part.items.len());
                items.extend(part.items.into_iter().map(|i| (i, part.actor.clone())));
            }
            let prefix = |i: usize| format!("/items/{i}");
            let mut rows = create_all_by(txn, batch, &self.form, items, self.today, &prefix)
                .await?
                .into_iter();
            Ok(sizes
                .into_iter()
                .map(|n| {
                    let created: Vec<Value> = rows.by_ref().take(n).map(|r| r.to_api()).collect();
                    Value::Array(created)
                })
                .collect())
        })
    }

    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let bulk = self.bulk;
            let prefix = move |i: usize| item_prefix(bulk, i);
            let rows = create_all(
                txn,
                batch,
                &self.form,
                self.items.clone(),
                &self.actor,
                self.today,
                &prefix,
            )
            .await?;
            Ok(Value::Array(rows.iter().map(RecordRow::to_api).collect()))
        })
    }
}

/// Create records inside the writer's transaction, set-based: references, files and unique
/// values are checked for all items before anything is written; serial numbers are drawn
/// per period in one statement; rows and their log entries go in with multi-row INSERTs.
/// `prefix(i)` is item i's pointer prefix in the request.
pub async fn create_all(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    form: &CompiledForm,
    items: Vec<NewData>,
    actor: &Actor,
    today: chrono::NaiveDate,
    prefix: &(dyn Fn(usize) -> String + Sync),
) -> DomainResult<Vec<RecordRow>> {
    let items = items.into_iter().map(|i| (i, actor.clone())).collect();
    create_all_by(txn, batch, form, items, today, prefix).await
}

/// [`create_all`] with each record's own actor (records from several requests).
pub async fn create_all_by(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    form: &CompiledForm,
    items: Vec<(NewData, Actor)>,
    today: chrono::NaiveDate,
    prefix: &(dyn Fn(usize) -> String + Sync),
) -> DomainResult<Vec<RecordRow>> {
    let (mut items, actors): (Vec<NewData>, Vec<Actor>) = items.into_iter().unzip();
    let datas: Vec<&Value> = items.iter().map(|i| &i.data).collect();
    check_references_all(txn, batch, form, &datas, prefix).await?;
    if form.model.holds_files() {
        for (i, d) in datas.iter().enumerate() {
            crate::service::files::check_files(txn, batch, form, d, &prefix(i)).await?;
        }
    }
    check_unique_all(txn, batch, form, &datas, prefix).await?;
    assign_serials(txn, batch, form, &mut items, today).await?;
    let rows: Vec<records::NewRow> = items
        .iter()
        .zip(&actors)
        .map(|(i, a)| records::NewRow {
            data: &i.data,
            text: i.rendered.as_ref().map(|r| r.stored.as_str()),
            actor: a.user.as_str(),
            dept: a.department.as_deref(),
        })
        .collect();
    let ids = records::insert_all(
        txn,
        batch.backend,
        &form.app,
        &form.key,
        form.version,
        &rows,
        &batch.now,
    )
    .await?;
    drop(rows);
    for (i, (id, item)) in ids.iter().zip(&items).enumerate() {
        if let Some(scope) = &item.scope {
            ensure_in_scope(txn, batch, form, *id, scope, &prefix(i)).await?;
        }
    }
    let events: Vec<crate::flows::RecordEvent> = ids
        .iter()
        .zip(&items)
        .zip(&actors)
        .enumerate()
        .map(|(i, ((id, item), actor))| crate::flows::RecordEvent {
            id: *id,
            data: &item.data,
            before: None,
            actor,
            pointer: prefix(i),
            deleted: false,
        })
        .collect();
    crate::flows::fire(txn, batch, form, &events).await?;
    let mut rows = Vec::with_capacity(items.len());
    for ((id, item), actor) in ids.into_iter().zip(items).zip(&actors) {
        let after = match item.rendered {
            Some(r) => r.canonical,
            None => crate::store::oplog::canonical(&item.data),
        };
        batch.log_created(actor, &form.app, &form.key, id, after, item.reason);
        rows.push(RecordRow {
            id,
            form_version: form.version,
            data: item.data,
            owner_user: Some(actor.user.clone()),
            owner_dept: actor.department.clone(),
            created_by: actor.user.clone(),
            created_at: batch.now.clone(),
            updated_by: actor.user.clone(),
            updated_at: batch.now.clone(),
            row_version: 1,
            deleted_at: None,
        });
    }
    batch.spill(txn).await?;
    Ok(rows)
}

/// Number the serial fields of new records: one counter statement per field and period.
async fn assign_serials(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    items: &mut [NewData],
    today: chrono::NaiveDate,
) -> DomainResult<()> {
    let mut fields: Vec<(String, SerialPattern)> = Vec::new();
    for item in items.iter() {
        for (k, p) in &item.serials {
            if !fields.iter().any(|(f, _)| f == k) {
                fields.push((k.clone(), p.clone()));
            }
        }
    }
    for (key, pattern) in fields {
        let wanted: Vec<usize> = (0..items.len())
            .filter(|i| items[*i].serials.iter().any(|(k, _)| *k == key))
            .collect();
        let n = wanted.len() as i64;
        let last = bump_serial(txn, batch, &serial_scope(form, &key, &pattern, today), n).await?;
        for (offset, i) in wanted.into_iter().enumerate() {
            items[i].data[&key] =
                Value::String(pattern.render(today, last - n + 1 + offset as i64));
            items[i].rendered = None;
        }
    }
    Ok(())
}

/// The counter a serial field numbers from in `today`'s period.
pub fn serial_scope(
    form: &CompiledForm,
    key: &str,
    pattern: &SerialPattern,
    today: chrono::NaiveDate,
) -> String {
    format!(
        "{}/{}/{}/{}",
        form.app,
        form.key,
        key,
        pattern.period(today)
    )
}

/// Add `n` to a serial counter and return its new value (the last number drawn). With
/// `n = 0` it reads the counter and holds it to the end of the transaction (the row lock
/// on PostgreSQL; the single writer on SQLite).
pub async fn bump_serial(
    txn: &DatabaseTransaction,
    batch: &Batch,
    scope: &str,
    n: i64,
) -> DomainResult<i64> {
    let row = txn
        .query_one_raw(batch.stmt(
            "INSERT INTO serial_counters (scope, value) VALUES ($1, $2) \
             ON CONFLICT (scope) DO UPDATE SET value = serial_counters.value + $2 RETURNING value",
            vec![scope.into(), n.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("serial counter returned nothing")))?;
    Ok(row.try_get("", "value")?)
}

/// Only an operation-log entry (exports, and other reads that must leave a trace).
pub struct LogOnly(pub Entry);

impl WriteOp for LogOnly {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            batch.log(txn, self.0.clone()).await?;
            Ok(Value::Null)
        })
    }
}

impl WriteOp for UpdateRecords {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let form = &self.form;
            let mut out = Vec::with_capacity(self.items.len());
            for (i, item) in self.items.iter().enumerate() {
                let prefix = item_prefix(self.bulk, i);
                let cur = live_row(txn, batch, form, item.id).await?;
                if cur.row_version != item.base_row_version {
                    return Err(DomainError::Stale {
                        current: cur.row_version,
                    });
                }
                if let Some(expected) = item.if_match
                    && expected != cur.row_version
                {
                    return Err(DomainError::Stale {
                        current: cur.row_version,
                    });
                }
                check_references(txn, batch, form, &item.data, &prefix).await?;
                crate::service::files::check_files(txn, batch, form, &item.data, &prefix).await?;
                check_unique(txn, batch, form, &item.data, Some(item.id), &prefix).await?;
                let mut row = cur.clone();
                row.data = item.data.clone();
                row.form_version = form.version;
                row.updated_by = self.actor.user.clone();
                row.updated_at = batch.now.clone();
                row.row_version += 1;
                if !records::update(txn, batch.backend, &row).await? {
                    return Err(DomainError::Stale {
                        current: cur.row_version,
                    });
                }
                if let Some(scope) = &item.scope {
                    ensure_in_scope(txn, batch, form, row.id, scope, &prefix).await?;
                }
                crate::flows::fire(
                    txn,
                    batch,
                    form,
                    &[crate::flows::RecordEvent {
                        id: row.id,
                        data: &row.data,
                        before: Some(&cur.data),
                        actor: &self.actor,
                        pointer: prefix.clone(),
                        deleted: false,
                    }],
                )
                .await?;
                batch
                    .log(
                        txn,
                        Entry {
                            actor: self.actor.clone(),
                            action: "record.update",
                            app: Some(form.app.clone()),
                            form: Some(form.key.clone()),
                            record_id: Some(row.id),
                            before: Some(cur.data),
                            after: Some(row.data.clone()),
                            reason: item.reason.clone(),
                        },
                    )
                    .await?;
                out.push(row.to_api());
            }
            Ok(Value::Array(out))
        })
    }
}

impl WriteOp for SetDeleted {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let form = &self.form;
            let cur = records::get(txn, batch.backend, &form.app, &form.key, self.id)
                .await?
                .ok_or_else(|| DomainError::NotFound(format!("record {}", self.id)))?;
            let deleted = cur.deleted_at.is_some();
            match (self.change, deleted) {
                (Lifecycle::Delete, true) => {
                    return Err(DomainError::NotFound(format!("record {}", self.id)));
                }
                (Lifecycle::Restore, false) => {
                    return Err(DomainError::conflict(
                        format!("record {} is not deleted", self.id),
                        vec![],
                    ));
                }
                _ => {}
            }
            if let Some(expected) = self.if_match
                && expected != cur.row_version
            {
                return Err(DomainError::Stale {
                    current: cur.row_version,
                });
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
                return Err(DomainError::Stale {
                    current: cur.row_version,
                });
            }
            let action = match self.change {
                Lifecycle::Delete => "record.delete",
                Lifecycle::Restore => "record.restore",
            };
            batch
                .log(
                    txn,
                    Entry {
                        actor: self.actor.clone(),
                        action,
                        app: Some(form.app.clone()),
                        form: Some(form.key.clone()),
                        record_id: Some(row.id),
                        before: Some(json!({"deleted_at": cur.deleted_at})),
                        after: Some(json!({"deleted_at": row.deleted_at})),
                        reason: self.reason.clone(),
                    },
                )
                .await?;
            if self.change == Lifecycle::Delete {
                crate::flows::fire(
                    txn,
                    batch,
                    form,
                    &[crate::flows::RecordEvent {
                        id: row.id,
                        data: &row.data,
                        before: Some(&row.data),
                        actor: &self.actor,
                        pointer: String::new(),
                        deleted: true,
                    }],
                )
                .await?;
            }
            Ok(row.to_api())
        })
    }
}

/// Merge-patch a live record inside a running transaction (flow steps): server fields
/// filled, validated against the current version, written with its log entry, flow
/// triggers fired — the same path as an API update, under the flow's identity.
#[allow(clippy::too_many_arguments)]
pub async fn patch_in_txn(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    form: Arc<CompiledForm>,
    id: i64,
    patch: &Value,
    actor: &Actor,
    (today, tz): (chrono::NaiveDate, chrono_tz::Tz),
    reason: Option<String>,
    guard: Option<&crate::auth::decision::Decision>,
) -> DomainResult<Value> {
    let cur = live_row(txn, batch, &form, id).await?;
    let mut data = cur.data.clone();
    super::prepare::merge_patch(&mut data, patch);
    if let Some(d) = guard {
        // A person's edit (a flow task): the same field and column rules as the API's
        // PATCH, against the stored record of this transaction.
        super::records::forbid_any(super::records::guard_write(
            d,
            &form.model,
            patch,
            &mut data,
            Some(&cur.data),
            "",
        ))?;
    }
    super::prepare::prepare(&form, &mut data, Some(&cur.data), today, tz, "")?;
    let op = UpdateRecords {
        form,
        items: vec![ChangedData {
            id,
            data,
            base_row_version: cur.row_version,
            if_match: None,
            reason,
            scope: None,
        }],
        actor: actor.clone(),
        bulk: false,
    };
    let mut out = op.apply(txn, batch).await?;
    Ok(out
        .as_array_mut()
        .and_then(|a| a.pop())
        .unwrap_or(Value::Null))
}

/// Create a record inside a running transaction (flow steps); returns its id.
pub async fn create_in_txn(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    form: &CompiledForm,
    mut data: Value,
    actor: &Actor,
    (today, tz): (chrono::NaiveDate, chrono_tz::Tz),
    reason: Option<String>,
) -> DomainResult<i64> {
    let serials = super::prepare::prepare(form, &mut data, None, today, tz, "")?;
    let rows = create_all(
        txn,
        batch,
        form,
        vec![NewData {
            data,
            serials,
            reason,
            scope: None,
            rendered: None,
        }],
        actor,
        today,
        &|_| String::new(),
    )
    .await?;
    Ok(rows.first().map(|r| r.id).unwrap_or_default())
}

async fn live_row(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    id: i64,
) -> DomainResult<RecordRow> {
    records::get(txn, batch.backend, &form.app, &form.key, id)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| DomainError::NotFound(format!("record {id}")))
}
