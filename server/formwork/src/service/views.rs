//! Saved list views (docs/api.md, "Saved views"): a list's filter, sort, columns and page
//! size under a name — a user's own, or shared by an administrator with everyone who may
//! read the form. A view is checked like the list request it stands for: it may only name
//! fields its author may read, and a shared view is listed only to callers who may read
//! every field it names (its filter could otherwise show them a hidden field's values).
//! One's own views are always listed; applying one is a list request like any other.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};
use serde_json::{Value, json};

use super::records::{MAX_PAGE, RecordService};
use crate::auth::{Caller, Decision};
use crate::error::{Detail, DomainError, DomainResult};
use crate::query::fields::{Scope, SysCol};
use crate::query::filter::Filter;
use crate::query::sort::parse_sort;
use crate::schema::definition::CompiledForm;
use crate::store::oplog::{Actor, Entry};
use crate::store::writer::{Batch, WriteOp};

const COLUMNS: &str = "id, owner, name, shared, spec, created_at, updated_at";
const MAX_NAME: usize = 100;

impl RecordService {
    /// The caller's views of a form and the shared ones they can use, by name.
    pub async fn views(&self, app: &str, form: &str, caller: &Caller) -> DomainResult<Value> {
        let (compiled, decision) = self.view_context(app, form, caller).await?;
        let rows = self
            .db
            .query_all(
                &format!(
                    "SELECT {COLUMNS} FROM saved_views WHERE app = $1 AND form = $2 AND (owner = $3 OR shared) ORDER BY name, id"
                ),
                vec![
                    app.into(),
                    form.into(),
                    caller.principal.username.clone().into(),
                ],
            )
            .await?;
        let mut items = Vec::new();
        for r in &rows {
            let view = view_json(r)?;
            // One's own views always (one wrote them); shared ones only when every field
            // they name is readable now.
            if view["owner"] == json!(caller.principal.username)
                || check_spec(&compiled, &decision, &view["spec"]).is_ok()
            {
                items.push(view);
            }
        }
        Ok(json!({"items": items}))
    }

    /// The shared views of a form, `{name, spec}` by name (an app package's
    /// `views/<form>.json`).
    pub async fn shared_views(&self, app: &str, form: &str) -> DomainResult<Vec<Value>> {
        let rows = self
            .db
            .query_all(
                "SELECT name, spec FROM saved_views WHERE app = $1 AND form = $2 AND shared ORDER BY name, id",
                vec![app.into(), form.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let spec: String = r.try_get("", "spec")?;
                Ok(json!({"name": r.try_get::<String>("", "name")?,
                          "spec": serde_json::from_str::<Value>(&spec).map_err(|e| DomainError::Internal(e.into()))?}))
            })
            .collect()
    }

    /// Put a package's shared view: the shared view of that name is replaced, or a new one
    /// is saved (checked and logged like any administrator's view).
    pub async fn put_shared_view(
        &self,
        app: &str,
        form: &str,
        view: &Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let name = view
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let existing = self
            .db
            .query_one(
                "SELECT id FROM saved_views WHERE app = $1 AND form = $2 AND shared AND name = $3 ORDER BY id LIMIT 1",
                vec![app.into(), form.into(), name.to_owned().into()],
            )
            .await?
            .map(|r| r.try_get::<i64>("", "id"))
            .transpose()?;
        let mut body = view.clone();
        if let Some(o) = body.as_object_mut() {
            o.insert("shared".into(), Value::Bool(true));
        }
        self.save_view(app, form, existing, body, caller).await
    }

    /// Save a new view (201).
    pub async fn create_view(
        &self,
        app: &str,
        form: &str,
        body: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        self.save_view(app, form, None, body, caller).await
    }

    /// Replace a view: its owner's, or an administrator's for a shared one.
    pub async fn replace_view(
        &self,
        app: &str,
        form: &str,
        id: i64,
        body: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        self.save_view(app, form, Some(id), body, caller).await
    }

    pub async fn delete_view(
        &self,
        app: &str,
        form: &str,
        id: i64,
        caller: &Caller,
    ) -> DomainResult<()> {
        self.view_context(app, form, caller).await?;
        self.writer
            .submit(ViewOp {
                app: app.to_owned(),
                form: form.to_owned(),
                id: Some(id),
                saved: None,
                actor: caller.actor.clone(),
                admin: caller.is_admin(),
            })
            .await?;
        Ok(())
    }

    async fn save_view(
        &self,
        app: &str,
        form: &str,
        id: Option<i64>,
        body: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let (compiled, decision) = self.view_context(app, form, caller).await?;
        let saved = parse_view(body)?;
        if saved.shared && !caller.is_admin() {
            return Err(DomainError::forbidden(
                "/shared",
                "shared",
                "only administrators share views",
            ));
        }
        check_spec(&compiled, &decision, &saved.spec)?;
        self.writer
            .submit(ViewOp {
                app: app.to_owned(),
                form: form.to_owned(),
                id,
                saved: Some(saved),
                actor: caller.actor.clone(),
                admin: caller.is_admin(),
            })
            .await
    }

    async fn view_context(
        &self,
        app: &str,
        form: &str,
        caller: &Caller,
    ) -> DomainResult<(std::sync::Arc<CompiledForm>, std::sync::Arc<Decision>)> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("read")?;
        Ok((compiled, decision))
    }
}

/// A view's name, sharing and spec, as sent.
struct Saved {
    name: String,
    shared: bool,
    spec: Value,
}

fn parse_view(body: Value) -> DomainResult<Saved> {
    let Value::Object(o) = body else {
        return Err(DomainError::invalid_one(
            "",
            "type",
            "a view is {name, shared?, spec}",
        ));
    };
    let mut details = Vec::new();
    for k in o.keys() {
        if !["name", "shared", "spec"].contains(&k.as_str()) {
            details.push(Detail::new(
                format!("/{k}"),
                "unknown_property",
                format!("unknown key {k}"),
            ));
        }
    }
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if name.is_empty() {
        details.push(Detail::new("/name", "required", "a view needs a name"));
    } else if name.chars().count() > MAX_NAME {
        details.push(Detail::new(
            "/name",
            "length",
            format!("a view's name has at most {MAX_NAME} characters"),
        ));
    }
    let shared = match o.get("shared") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            details.push(Detail::new("/shared", "type", "shared is true or false"));
            false
        }
    };
    let spec = match o.get("spec") {
        None | Some(Value::Null) => json!({}),
        Some(Value::Object(s)) => {
            for k in s.keys() {
                if !["filter", "sort", "columns", "page_size"].contains(&k.as_str()) {
                    details.push(Detail::new(
                        format!("/spec/{k}"),
                        "unknown_property",
                        format!("unknown key {k}: a spec has filter, sort, columns, page_size"),
                    ));
                }
            }
            Value::Object(s.clone())
        }
        Some(_) => {
            details.push(Detail::new(
                "/spec",
                "type",
                "spec is {filter?, sort?, columns?, page_size?}",
            ));
            json!({})
        }
    };
    DomainError::unless_any(details)?;
    Ok(Saved {
        name: name.to_owned(),
        shared,
        spec,
    })
}

/// The spec is a list request the caller could make: a filter and a sort the list API
/// takes, columns of the form (or system columns), a page size in range — and every field
/// it names readable by the caller.
fn check_spec(compiled: &CompiledForm, decision: &Decision, spec: &Value) -> DomainResult<()> {
    let scope = Scope::Root(&compiled.model);
    // Malformed parts are content of the body: 422, not 400.
    // (`at`: the pointer to give every detail instead of its own.)
    let content = |e: DomainError, at: Option<&str>| match e {
        DomainError::BadRequest { details, .. } => DomainError::invalid(
            details
                .into_iter()
                .map(|d| match at {
                    Some(p) => Detail::new(p, d.rule, d.message),
                    None => d,
                })
                .collect(),
        ),
        other => other,
    };
    if let Some(f) = spec.get("filter").filter(|f| !f.is_null()) {
        let filter = Filter::parse(f, &scope, "/spec/filter").map_err(|e| content(e, None))?;
        for name in filter.fields() {
            decision.require_read(&name, "/spec/filter")?;
        }
    }
    match spec.get("sort") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            for k in parse_sort(Some(s), &scope).map_err(|e| content(e, Some("/spec/sort")))? {
                decision.require_read(&k.field.name, "/spec/sort")?;
            }
        }
        Some(_) => {
            return Err(DomainError::invalid_one(
                "/spec/sort",
                "type",
                "sort is the list API's sort parameter, e.g. \"-reported_at,priority\"",
            ));
        }
    }
    match spec.get("columns") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cols)) => {
            let mut details = Vec::new();
            for (i, c) in cols.iter().enumerate() {
                let p = format!("/spec/columns/{i}");
                match c.as_str() {
                    Some(name) if SysCol::parse(name).is_some() => {}
                    Some(name) if compiled.model.field(name).is_some() => {
                        decision.require_read(name, &p)?;
                    }
                    Some(name) => {
                        details.push(Detail::new(p, "field", format!("no field {name:?}")))
                    }
                    None => details.push(Detail::new(p, "type", "a column is a field key")),
                }
            }
            DomainError::unless_any(details)?;
        }
        Some(_) => {
            return Err(DomainError::invalid_one(
                "/spec/columns",
                "type",
                "columns is a list of field keys",
            ));
        }
    }
    if let Some(n) = spec.get("page_size").filter(|n| !n.is_null())
        && !n
            .as_u64()
            .is_some_and(|n| (1..=MAX_PAGE as u64).contains(&n))
    {
        return Err(DomainError::invalid_one(
            "/spec/page_size",
            "range",
            format!("page_size is 1–{MAX_PAGE}"),
        ));
    }
    Ok(())
}

fn view_json(r: &QueryResult) -> DomainResult<Value> {
    let spec: String = r.try_get("", "spec")?;
    Ok(json!({
        "id": r.try_get::<i64>("", "id")?,
        "name": r.try_get::<String>("", "name")?,
        "owner": r.try_get::<String>("", "owner")?,
        "shared": r.try_get::<bool>("", "shared")?,
        "spec": serde_json::from_str::<Value>(&spec).unwrap_or_else(|_| json!({})),
        "created_at": r.try_get::<String>("", "created_at")?,
        "updated_at": r.try_get::<String>("", "updated_at")?,
    }))
}

/// Create (`id` none), replace (`saved` given) or delete a view, with its log entry.
struct ViewOp {
    app: String,
    form: String,
    id: Option<i64>,
    saved: Option<Saved>,
    actor: Actor,
    admin: bool,
}

impl ViewOp {
    /// The stored view `id` of this form, if the actor may change it: 404 when they cannot
    /// see it (someone else's own view), 403 when it is shared and they are no administrator.
    async fn existing(
        &self,
        txn: &DatabaseTransaction,
        batch: &Batch,
        id: i64,
    ) -> DomainResult<Value> {
        let row = txn
            .query_one_raw(batch.stmt(
                &format!(
                    "SELECT {COLUMNS} FROM saved_views WHERE id = $1 AND app = $2 AND form = $3"
                ),
                vec![id.into(), self.app.clone().into(), self.form.clone().into()],
            ))
            .await?;
        let view = row.as_ref().map(view_json).transpose()?;
        match view {
            Some(v) if v["owner"] == json!(self.actor.user) => Ok(v),
            Some(v) if v["shared"] == json!(true) && self.admin => Ok(v),
            Some(v) if v["shared"] == json!(true) => Err(DomainError::forbidden(
                "",
                "shared",
                "only administrators change shared views",
            )),
            _ => Err(DomainError::NotFound(format!("view {id}"))),
        }
    }

    /// 409 when the owner has another view of that name on the form.
    async fn name_free(
        &self,
        txn: &DatabaseTransaction,
        batch: &Batch,
        owner: &str,
        name: &str,
    ) -> DomainResult<()> {
        let taken = txn
            .query_one_raw(batch.stmt(
                "SELECT id FROM saved_views WHERE app = $1 AND form = $2 AND owner = $3 AND name = $4 AND id <> $5",
                vec![
                    self.app.clone().into(),
                    self.form.clone().into(),
                    owner.into(),
                    name.into(),
                    self.id.unwrap_or(0).into(),
                ],
            ))
            .await?;
        if taken.is_some() {
            return Err(DomainError::conflict(
                format!("a view named {name:?} already exists"),
                vec![Detail::new("/name", "unique", "this name is taken")],
            ));
        }
        Ok(())
    }

    fn entry(&self, action: &'static str, before: Option<Value>, after: Option<Value>) -> Entry {
        Entry {
            actor: self.actor.clone(),
            action,
            app: Some(self.app.clone()),
            form: Some(self.form.clone()),
            record_id: None,
            before,
            after,
            reason: None,
        }
    }
}

impl WriteOp for ViewOp {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let before = match self.id {
                Some(id) => Some(self.existing(txn, batch, id).await?),
                None => None,
            };
            let Some(saved) = &self.saved else {
                let id = self.id.unwrap_or(0);
                txn.execute_raw(
                    batch.stmt("DELETE FROM saved_views WHERE id = $1", vec![id.into()]),
                )
                .await?;
                batch
                    .log(txn, self.entry("view.delete", before, None))
                    .await?;
                return Ok(Value::Null);
            };
            let owner = before
                .as_ref()
                .and_then(|b| b["owner"].as_str())
                .unwrap_or(&self.actor.user)
                .to_owned();
            self.name_free(txn, batch, &owner, &saved.name).await?;
            let spec = saved.spec.to_string();
            let row = match self.id {
                None => txn
                    .query_one_raw(batch.stmt(
                        &format!(
                            "INSERT INTO saved_views (app, form, owner, name, shared, spec, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
                        ),
                        vec![
                            self.app.clone().into(),
                            self.form.clone().into(),
                            owner.into(),
                            saved.name.clone().into(),
                            saved.shared.into(),
                            spec.into(),
                            batch.now.clone().into(),
                        ],
                    ))
                    .await?,
                Some(id) => txn
                    .query_one_raw(batch.stmt(
                        &format!(
                            "UPDATE saved_views SET name = $2, shared = $3, spec = $4, updated_at = $5 WHERE id = $1 RETURNING {COLUMNS}"
                        ),
                        vec![
                            id.into(),
                            saved.name.clone().into(),
                            saved.shared.into(),
                            spec.into(),
                            batch.now.clone().into(),
                        ],
                    ))
                    .await?,
            };
            let view = row
                .as_ref()
                .map(view_json)
                .transpose()?
                .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no view returned")))?;
            let action = if before.is_some() {
                "view.update"
            } else {
                "view.create"
            };
            batch
                .log(txn, self.entry(action, before, Some(view.clone())))
                .await?;
            Ok(view)
        })
    }
}
