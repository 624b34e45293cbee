//! The record service: every entry point (API, bulk, import, later flows) writes records
//! through here, so validation, server-assigned fields and the operation log always apply.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::forms::FormService;
use super::prepare::{WriteBody, merge_patch, parse_body, prepare};
use super::record_ops::{
    ChangedData, CreateRecords, Lifecycle, NewData, SetDeleted, UpdateRecords,
};
use crate::error::{Detail, DomainError, DomainResult};
use crate::store::db::Db;
use crate::store::oplog::Actor;
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
    zones: Arc<RwLock<HashMap<String, chrono_tz::Tz>>>,
}

impl RecordService {
    pub fn new(db: Db, writer: Writer, forms: FormService) -> Self {
        RecordService {
            db,
            writer,
            forms,
            zones: Default::default(),
        }
    }

    pub(super) async fn today(&self, app: &str) -> DomainResult<chrono::NaiveDate> {
        let cached = self.zones.read().ok().and_then(|m| m.get(app).copied());
        let tz = match cached {
            Some(tz) => tz,
            None => {
                let def = self.forms.get_app(app).await?;
                let tz = def
                    .get("time_zone")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(chrono_tz::UTC);
                if let Ok(mut m) = self.zones.write() {
                    m.insert(app.to_owned(), tz);
                }
                tz
            }
        };
        Ok(chrono::Utc::now().with_timezone(&tz).date_naive())
    }

    pub async fn create(
        &self,
        app: &str,
        form: &str,
        body: Value,
        actor: &Actor,
    ) -> DomainResult<Value> {
        let mut created = self
            .create_many(app, form, vec![body], actor, false)
            .await?;
        Ok(created.pop().unwrap_or(Value::Null))
    }

    /// Create records all-or-nothing; with `bulk`, pointers are prefixed `/items/N`.
    pub async fn create_many(
        &self,
        app: &str,
        form: &str,
        bodies: Vec<Value>,
        actor: &Actor,
        bulk: bool,
    ) -> DomainResult<Vec<Value>> {
        let compiled = self.forms.current(app, form).await?;
        let today = self.today(app).await?;
        let mut items = Vec::with_capacity(bodies.len());
        let mut details = Vec::new();
        for (i, body) in bodies.into_iter().enumerate() {
            let prefix = if bulk {
                format!("/items/{i}")
            } else {
                String::new()
            };
            match parse_body(body, &prefix).and_then(|WriteBody { mut data, reason }| {
                let serials = prepare(&compiled, &mut data, None, today, &prefix)?;
                Ok(NewData {
                    data,
                    serials,
                    reason,
                })
            }) {
                Ok(item) => items.push(item),
                Err(e) => collect(e, &mut details)?,
            }
        }
        if !details.is_empty() {
            return Err(DomainError::invalid(details));
        }
        let out = self
            .writer
            .submit(CreateRecords {
                form: compiled,
                items,
                actor: actor.clone(),
                today,
                bulk,
            })
            .await?;
        Ok(into_vec(out))
    }

    pub async fn get(
        &self,
        app: &str,
        form: &str,
        id: i64,
        include_deleted: bool,
    ) -> DomainResult<RecordRow> {
        self.forms.current(app, form).await?;
        records::get(&self.db.read, self.db.backend, app, form, id)
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
        actor: &Actor,
    ) -> DomainResult<Value> {
        let WriteBody { data, reason } = parse_body(body, "")?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let compiled = self.forms.current(app, form).await?;
            let cur = self.get(app, form, id, false).await?;
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
            let today = self.today(app).await?;
            let serials = prepare(&compiled, &mut new_data, Some(&cur.data), today, "")?;
            debug_assert!(serials.is_empty() || cur.data.is_object());
            let op = UpdateRecords {
                form: compiled,
                items: vec![ChangedData {
                    id,
                    data: new_data,
                    base_row_version: cur.row_version,
                    if_match,
                    reason: reason.clone(),
                }],
                actor: actor.clone(),
                bulk: false,
            };
            match self.writer.submit(op).await {
                Err(DomainError::Stale { .. }) if if_match.is_none() && attempts < 5 => continue,
                other => return other.map(|v| into_vec(v).pop().unwrap_or(Value::Null)),
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
        actor: &Actor,
    ) -> DomainResult<Vec<Value>> {
        let compiled = self.forms.current(app, form).await?;
        let today = self.today(app).await?;
        let mut changes = Vec::with_capacity(items.len());
        let mut details = Vec::new();
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
                let cur = self.get(app, form, id, false).await.map_err(|_| {
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
                    data
                };
                prepare(&compiled, &mut new_data, Some(&cur.data), today, &prefix)?;
                Ok::<_, DomainError>(ChangedData {
                    id,
                    data: new_data,
                    base_row_version: cur.row_version,
                    if_match: expected,
                    reason,
                })
            };
            match step.await {
                Ok(c) => changes.push(c),
                Err(e) => collect(e, &mut details)?,
            }
        }
        if !details.is_empty() {
            return Err(DomainError::invalid(details));
        }
        let out = self
            .writer
            .submit(UpdateRecords {
                form: compiled,
                items: changes,
                actor: actor.clone(),
                bulk: true,
            })
            .await?;
        Ok(into_vec(out))
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
        actor: &Actor,
    ) -> DomainResult<Value> {
        let compiled = self.forms.current(app, form).await?;
        self.writer
            .submit(SetDeleted {
                form: compiled,
                id,
                if_match,
                change,
                actor: actor.clone(),
                reason,
            })
            .await
    }
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
