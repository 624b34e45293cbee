//! The record service: every entry point (API, bulk, import, later flows) writes records
//! through here, so validation, server-assigned fields and the operation log always apply.

use serde_json::Value;
use std::sync::Arc;

use super::forms::FormService;
use super::prepare::{WriteBody, merge_patch, parse_body, prepare};
use super::record_ops::{
    ChangedData, CreateRecords, Lifecycle, NewData, RowScope, SetDeleted, UpdateRecords,
};
use crate::auth::{AuthService, Caller, Decision};
use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::definition::escape;
use crate::schema::model::FormModel;
use crate::store::db::Db;
use crate::store::records::{self, RecordRow};
use crate::store::writer::Writer;

pub use super::listing::ListQuery;

pub const MAX_PAGE: usize = 1000;
pub const MAX_BULK: usize = 1000;

#[derive(Clone)]
pub struct RecordService {
    pub(super) db: Db,
    pub(super) writer: Writer,
    pub(super) forms: FormService,
    pub(super) auth: AuthService,
}

impl RecordService {
    pub fn new(db: Db, writer: Writer, forms: FormService, auth: AuthService) -> Self {
        RecordService {
            db,
            writer,
            forms,
            auth,
        }
    }

    /// The app's date on the server's clock (serial-number periods, `today` in rules).
    pub async fn today(&self, app: &str) -> DomainResult<chrono::NaiveDate> {
        Ok(self.today_in(app).await?.0)
    }

    /// The app's date on the server's clock, and its time zone (date-times are written in it).
    pub async fn today_in(&self, app: &str) -> DomainResult<(chrono::NaiveDate, chrono_tz::Tz)> {
        let tz = self.forms.zone(app).await?;
        Ok((self.db.clock.utc().with_timezone(&tz).date_naive(), tz))
    }

    pub async fn create(
        &self,
        app: &str,
        form: &str,
        body: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let mut created = self
            .create_many(app, form, vec![body], caller, false)
            .await?;
        Ok(created.pop().unwrap_or(Value::Null))
    }

    /// Create records all-or-nothing; with `bulk`, pointers are prefixed `/items/N`.
    pub async fn create_many(
        &self,
        app: &str,
        form: &str,
        bodies: Vec<Value>,
        caller: &Caller,
        bulk: bool,
    ) -> DomainResult<Vec<Value>> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("create")?;
        let scope = self.write_scope(caller, app, form).await?;
        let (today, tz) = self.today_in(app).await?;
        let mut items = Vec::with_capacity(bodies.len());
        let mut details = Vec::new();
        let mut refused = Vec::new();
        for (i, body) in bodies.into_iter().enumerate() {
            let prefix = if bulk {
                format!("/items/{i}")
            } else {
                String::new()
            };
            match parse_body(body, &prefix).and_then(|WriteBody { mut data, reason }| {
                refused.extend(guard_write(
                    &decision,
                    &compiled.model,
                    &data,
                    &mut data.clone(),
                    None,
                    &prefix,
                ));
                let serials = prepare(&compiled, &mut data, None, today, tz, &prefix)?;
                Ok(NewData {
                    data,
                    serials,
                    reason,
                    scope: scope.clone(),
                    rendered: None,
                })
            }) {
                Ok(item) => items.push(item),
                Err(e) => collect(e, &mut details)?,
            }
        }
        forbid_any(refused)?;
        if !details.is_empty() {
            return Err(DomainError::invalid(details));
        }
        let out = self
            .writer
            .submit(CreateRecords {
                form: compiled,
                items,
                actor: caller.actor.clone(),
                today,
                bulk,
            })
            .await?;
        Ok(project_all(&decision, into_vec(out)))
    }

    /// The caller's row scope for writes (None: all rows).
    pub(super) async fn write_scope(
        &self,
        caller: &Caller,
        app: &str,
        form: &str,
    ) -> DomainResult<Option<Arc<RowScope>>> {
        let mut params = crate::query::sql::Params::default();
        let sql = self
            .auth
            .row_scope(caller, app, form, self.db.backend, &mut params)
            .await?;
        Ok(RowScope::new(sql, params))
    }

    /// One record as the caller may see it (404 when out of their rows).
    pub async fn get(
        &self,
        app: &str,
        form: &str,
        id: i64,
        include_deleted: bool,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("read")?;
        let row = self.fetch(app, form, id, include_deleted, caller).await?;
        let mut v = row.to_api();
        decision.project(&mut v["data"]);
        Ok(v)
    }

    /// The stored record if it is in the caller's rows (unprojected: for the service only).
    pub(super) async fn fetch(
        &self,
        app: &str,
        form: &str,
        id: i64,
        include_deleted: bool,
        caller: &Caller,
    ) -> DomainResult<RecordRow> {
        self.forms.current(app, form).await?;
        let mut params = crate::query::sql::Params::default();
        let scope = self
            .auth
            .row_scope(caller, app, form, self.db.backend, &mut params)
            .await?;
        records::get_scoped(
            &self.db.read,
            self.db.backend,
            app,
            form,
            id,
            scope,
            params.0,
        )
        .await?
        .filter(|r| include_deleted || r.deleted_at.is_none())
        .ok_or_else(|| DomainError::NotFound(format!("record {id}")))
    }

    /// Replace (`merge = false`) or merge-patch (`merge = true`) a record's data.
    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        &self,
        app: &str,
        form: &str,
        id: i64,
        body: Value,
        if_match: Option<i64>,
        merge: bool,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let WriteBody { data, reason } = parse_body(body, "")?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("update")?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let compiled = self.forms.current(app, form).await?;
            let cur = self.fetch(app, form, id, false, caller).await?;
            if let Some(expected) = if_match
                && expected != cur.row_version
            {
                return Err(DomainError::Stale {
                    current: cur.row_version,
                });
            }
            let mut new_data = if merge {
                let mut d = cur.data.clone();
                merge_patch(&mut d, &data);
                d
            } else {
                data.clone()
            };
            forbid_any(guard_write(
                &decision,
                &compiled.model,
                &data,
                &mut new_data,
                Some(&cur.data),
                "",
            ))?;
            let (today, tz) = self.today_in(app).await?;
            let serials = prepare(&compiled, &mut new_data, Some(&cur.data), today, tz, "")?;
            debug_assert!(serials.is_empty() || cur.data.is_object());
            let op = UpdateRecords {
                form: compiled,
                items: vec![ChangedData {
                    id,
                    data: new_data,
                    base_row_version: cur.row_version,
                    if_match,
                    reason: reason.clone(),
                    scope: self.write_scope(caller, app, form).await?,
                }],
                actor: caller.actor.clone(),
                bulk: false,
            };
            match self.writer.submit(op).await {
                Err(DomainError::Stale { .. }) if if_match.is_none() && attempts < 5 => continue,
                other => {
                    return other.map(|v| {
                        project_all(&decision, into_vec(v))
                            .pop()
                            .unwrap_or(Value::Null)
                    });
                }
            }
        }
    }

    /// Update several records all-or-nothing: items are `{"id", "data", "row_version"?}`.
    pub async fn update_many(
        &self,
        app: &str,
        form: &str,
        items: Vec<Value>,
        merge: bool,
        caller: &Caller,
    ) -> DomainResult<Vec<Value>> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("update")?;
        let scope = self.write_scope(caller, app, form).await?;
        let (today, tz) = self.today_in(app).await?;
        let mut changes = Vec::with_capacity(items.len());
        let mut details = Vec::new();
        let mut refused = Vec::new();
        for (i, mut item) in items.into_iter().enumerate() {
            let prefix = format!("/items/{i}");
            let id = item
                .as_object_mut()
                .and_then(|o| o.remove("id"))
                .and_then(|v| v.as_i64());
            let expected = item
                .as_object_mut()
                .and_then(|o| o.remove("row_version"))
                .and_then(|v| v.as_i64());
            let Some(id) = id else {
                details.push(Detail::new(
                    format!("{prefix}/id"),
                    "required",
                    "each update names the record id",
                ));
                continue;
            };
            let step = async {
                let WriteBody { data, reason } = parse_body(item, &prefix)?;
                let cur = self
                    .fetch(app, form, id, false, caller)
                    .await
                    .map_err(|_| {
                        DomainError::invalid_one(
                            &format!("{prefix}/id"),
                            "exists",
                            format!("there is no record {id}"),
                        )
                    })?;
                let mut new_data = if merge {
                    let mut d = cur.data.clone();
                    merge_patch(&mut d, &data);
                    d
                } else {
                    data.clone()
                };
                let denied = guard_write(
                    &decision,
                    &compiled.model,
                    &data,
                    &mut new_data,
                    Some(&cur.data),
                    &prefix,
                );
                prepare(
                    &compiled,
                    &mut new_data,
                    Some(&cur.data),
                    today,
                    tz,
                    &prefix,
                )?;
                Ok::<_, DomainError>((
                    ChangedData {
                        id,
                        data: new_data,
                        base_row_version: cur.row_version,
                        if_match: expected,
                        reason,
                        scope: scope.clone(),
                    },
                    denied,
                ))
            };
            match step.await {
                Ok((c, denied)) => {
                    changes.push(c);
                    refused.extend(denied);
                }
                Err(e) => collect(e, &mut details)?,
            }
        }
        forbid_any(refused)?;
        if !details.is_empty() {
            return Err(DomainError::invalid(details));
        }
        let out = self
            .writer
            .submit(UpdateRecords {
                form: compiled,
                items: changes,
                actor: caller.actor.clone(),
                bulk: true,
            })
            .await?;
        Ok(project_all(&decision, into_vec(out)))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn set_deleted(
        &self,
        app: &str,
        form: &str,
        id: i64,
        if_match: Option<i64>,
        change: Lifecycle,
        reason: Option<String>,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("delete")?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            // The row must be in the caller's scope; its version pins the check to the write.
            let cur = self.fetch(app, form, id, true, caller).await?;
            let op = SetDeleted {
                form: compiled.clone(),
                id,
                if_match: if_match.or(Some(cur.row_version)),
                change,
                actor: caller.actor.clone(),
                reason: reason.clone(),
            };
            match self.writer.submit(op).await {
                Err(DomainError::Stale { .. }) if if_match.is_none() && attempts < 5 => continue,
                other => {
                    return other.map(|mut v| {
                        decision.project(&mut v["data"]);
                        v
                    });
                }
            }
        }
    }
}

/// Fields the caller may not write, as 403 details. `sent` is the data as the client sent
/// it; `new_data` the data to be stored, where fields the caller can neither read nor write
/// and did not send keep their stored values (a client cannot send back what it never saw).
pub(super) fn guard_write(
    d: &Decision,
    model: &FormModel,
    sent: &Value,
    new_data: &mut Value,
    cur: Option<&Value>,
    prefix: &str,
) -> Vec<Detail> {
    let mut out = Vec::new();
    if d.write.is_full() && d.read.is_full() {
        return out;
    }
    let server = |k: &str| model.field(k).is_some_and(|f| f.is_server_assigned());
    let empty = serde_json::Map::new();
    let sent = sent.as_object().unwrap_or(&empty);
    let mut refuse = |k: &str| {
        out.push(Detail::new(
            format!("{prefix}/data/{}", escape(k)),
            "field_write",
            format!("you may not write the field {k}"),
        ))
    };
    match cur {
        None => {
            for k in sent.keys() {
                if !server(k) && !d.can_write(k) {
                    refuse(k);
                }
            }
        }
        Some(cur) => {
            let cur_o = cur.as_object().unwrap_or(&empty);
            let mut keys: Vec<String> = cur_o.keys().cloned().collect();
            if let Some(n) = new_data.as_object() {
                keys.extend(n.keys().filter(|k| !cur_o.contains_key(*k)).cloned());
            }
            for k in keys {
                if server(&k) || d.can_write(&k) {
                    continue;
                }
                if !d.can_read(&k) && !sent.contains_key(&k) {
                    if let (Some(n), Some(v)) = (new_data.as_object_mut(), cur_o.get(&k)) {
                        n.insert(k.clone(), v.clone());
                    }
                    continue;
                }
                // A sub-table with hidden columns, sent back as the caller sees it: the
                // stored rows, hidden values and all, stay.
                if let Some(stored) = cur_o.get(&k)
                    && d.hidden_columns(&k).next().is_some()
                    && new_data.get(&k) == Some(&without_columns(stored, d.hidden_columns(&k)))
                {
                    if let Some(n) = new_data.as_object_mut() {
                        n.insert(k.clone(), stored.clone());
                    }
                    continue;
                }
                if cur_o.get(&k) != new_data.get(&k) {
                    refuse(&k);
                }
            }
        }
    }
    // Columns the caller may read but not change, in sub-tables they may write: rows may
    // be edited in their other columns, removed or added, but the column's values stay the
    // stored ones, in their order (sub-table rows have no identity of their own, so "the
    // same row" is "the next stored value"); an added row leaves it empty.
    if let Some(n) = new_data.as_object() {
        for (table, rows) in n {
            let Value::Array(rows) = rows else { continue };
            if !d.can_write(table) {
                continue;
            }
            let before: &[Value] = cur
                .and_then(|c| c.get(table))
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice);
            for column in d.fixed_columns(table) {
                let mut stored = before
                    .iter()
                    .filter_map(|r| r.get(column).filter(|v| !v.is_null()));
                for (i, row) in rows.iter().enumerate() {
                    let Some(v) = row.get(column).filter(|v| !v.is_null()) else {
                        continue;
                    };
                    if !stored.any(|s| s == v) {
                        out.push(Detail::new(
                            format!("{prefix}/data/{}/{i}/{}", escape(table), escape(column)),
                            "field_write",
                            format!("you may not write the field {table}.{column}"),
                        ));
                        break;
                    }
                }
            }
        }
    }
    out
}

/// Sub-table rows without some of their columns.
fn without_columns<'a>(rows: &Value, columns: impl Iterator<Item = &'a str>) -> Value {
    let columns: Vec<&str> = columns.collect();
    let mut rows = rows.clone();
    if let Value::Array(a) = &mut rows {
        for row in a {
            if let Value::Object(r) = row {
                r.retain(|k, _| !columns.contains(&k.as_str()));
            }
        }
    }
    rows
}

pub(super) fn forbid_any(details: Vec<Detail>) -> DomainResult<()> {
    if details.is_empty() {
        return Ok(());
    }
    let message = match details.as_slice() {
        [one] => format!("{}: {}", one.pointer, one.message),
        many => format!("{} fields you may not write; see details", many.len()),
    };
    Err(DomainError::Forbidden { message, details })
}

/// Records as the caller may see them.
pub(super) fn project_all(d: &Decision, mut items: Vec<Value>) -> Vec<Value> {
    for i in &mut items {
        d.project(&mut i["data"]);
    }
    items
}

fn into_vec(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}

/// Gather validation details across items; other errors end the request.
fn collect(e: DomainError, details: &mut Vec<Detail>) -> DomainResult<()> {
    match e {
        DomainError::Invalid { details: d, .. } => {
            details.extend(d);
            Ok(())
        }
        other => Err(other),
    }
}
