//! Reading records: list requests (filter, sort, cursor, fields, expand, total) planned
//! once and run as one query; on SQLite the page is assembled as JSON in the database.

use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use super::records::{MAX_PAGE, RecordService};
use super::strip::Cut;
use crate::auth::refs::RefView;
use crate::auth::{Caller, Decision};
use crate::error::{DomainError, DomainResult};
use crate::query::fields::Scope;
use crate::query::filter::Filter;
use crate::query::sort::{decode_cursor, encode_cursor, key_values, parse_sort};
use crate::query::sql::{Params, after_cursor, compile, order_by};
use crate::schema::definition::CompiledForm;
use crate::schema::field_types::FieldKind;
use crate::store::records::{COLUMNS, RecordRow, form_scope};

/// How deep `ref` filters may nest (order → device → product → …).
const MAX_REF_DEPTH: usize = 4;

/// What a list request asks for.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub filter: Option<Value>,
    pub sort: Option<String>,
    pub fields: Option<Vec<String>>,
    pub expand: Vec<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    pub total: bool,
    pub deleted: bool,
}

/// A checked list request, ready to run.
struct ListPlan {
    compiled: Arc<CompiledForm>,
    decision: Arc<Decision>,
    keys: Vec<crate::query::sort::SortKey>,
    limit: usize,
    page_where: String,
    params: Params,
    total: Option<i64>,
}

impl RecordService {
    /// Check a list request and turn it into SQL: the page's WHERE (cursor included), its
    /// parameters, the sort keys and the total when asked for.
    async fn plan(
        &self,
        app: &str,
        form: &str,
        q: &ListQuery,
        caller: &Caller,
    ) -> DomainResult<ListPlan> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("read")?;
        let scope = Scope::Root(&compiled.model);
        let mut filter = q
            .filter
            .as_ref()
            .map(|f| Filter::parse(f, &scope, "/filter"))
            .transpose()?;
        if let Some(f) = filter.as_mut() {
            f.in_zone(self.forms.zone(app).await?);
        }
        // Filtering or sorting by a field one may not read would reveal it: refused.
        if let Some(f) = &filter {
            for name in f.fields() {
                decision.require_read(&name, "/filter")?;
            }
        }
        let keys = parse_sort(q.sort.as_deref(), &scope)?;
        for k in &keys {
            decision.require_read(&k.field.name, "/sort")?;
        }
        let limit = q.limit.unwrap_or(50);
        if limit == 0 || limit > MAX_PAGE {
            return Err(DomainError::bad_request(
                "/limit",
                "range",
                format!("limit is 1–{MAX_PAGE}"),
            ));
        }
        if let Some(fields) = &q.fields {
            for (i, f) in fields.iter().enumerate() {
                if compiled.model.field(f).is_none() {
                    return Err(DomainError::bad_request(
                        &format!("/fields/{i}"),
                        "unknown_field",
                        format!("no field {f:?}"),
                    ));
                }
                decision.require_read(f, &format!("/fields/{i}"))?;
            }
        }
        for (i, e) in q.expand.iter().enumerate() {
            if compiled.model.field(e).and_then(|f| f.kind) != Some(FieldKind::Reference) {
                return Err(DomainError::bad_request(
                    &format!("/expand/{i}"),
                    "expand",
                    format!("{e} is not a reference field"),
                ));
            }
            decision.require_read(e, &format!("/expand/{i}"))?;
            let target = compiled.model.field(e).and_then(|f| f.ref_form.clone());
            if let Some(t) = target
                && !self.auth.decide(caller, app, &t).await?.allows("read")
            {
                return Err(DomainError::forbidden(
                    &format!("/expand/{i}"),
                    "form_read",
                    format!("you may not read {t}, which {e} refers to"),
                ));
            }
        }
        let backend = self.db.backend;
        let mut params = Params::default();
        let deleted = if q.deleted {
            "deleted_at IS NOT NULL"
        } else {
            "deleted_at IS NULL"
        };
        if let Some(f) = filter.as_mut() {
            self.auth
                .plan_refs(
                    app,
                    f,
                    RefView::Caller(caller),
                    backend,
                    &mut params,
                    MAX_REF_DEPTH,
                )
                .await?;
        }
        let mut where_ = format!("{} AND {deleted}", form_scope(app, form));
        if let Some(rows) = self
            .auth
            .row_scope(caller, app, form, backend, &mut params)
            .await?
        {
            where_ = format!("{where_} AND {rows}");
        }
        if let Some(f) = &filter {
            where_ = format!("{where_} AND {}", compile(backend, f, &mut params));
        }
        let total = if q.total {
            let row = self
                .db
                .query_one(
                    &format!("SELECT COUNT(*) AS n FROM records WHERE {where_}"),
                    params.0.clone(),
                )
                .await?;
            Some(
                row.map(|r| r.try_get::<i64>("", "n"))
                    .transpose()?
                    .unwrap_or(0),
            )
        } else {
            None
        };
        let mut page_where = where_;
        if let Some(c) = &q.cursor {
            let values = decode_cursor(c, &keys)?;
            page_where = format!(
                "{page_where} AND {}",
                after_cursor(backend, &keys, &values, &mut params)
            );
        }
        Ok(ListPlan {
            compiled,
            decision,
            keys,
            limit,
            page_where,
            params,
            total,
        })
    }

    /// A list page as JSON text. Without `expand`, the rows go from the database's JSON
    /// straight into the response (no parse and re-serialise); unreadable fields, and with
    /// `fields` the fields not asked for, are cut from the text.
    pub async fn list_json(
        &self,
        app: &str,
        form: &str,
        q: &ListQuery,
        caller: &Caller,
    ) -> DomainResult<String> {
        if !q.expand.is_empty() {
            let page = self.list(app, form, q, caller).await?;
            return serde_json::to_string(&page).map_err(|e| DomainError::Internal(e.into()));
        }
        let ListPlan {
            decision,
            keys,
            limit,
            page_where,
            params,
            total,
            ..
        } = self.plan(app, form, q, caller).await?;
        // Unreadable fields are removed inside the database when the mask is "all but
        // these"; an allow-list mask takes the parsed path.
        let Some(masked) = masked_data_sql(self.db.backend, &decision) else {
            let page = self.list(app, form, q, caller).await?;
            return serde_json::to_string(&page).map_err(|e| DomainError::Internal(e.into()));
        };
        let text = self
            .page_text(&keys, &page_where, params, limit + 1, &masked.sql)
            .await?;
        let rows: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("page JSON: {e}")))?;
        let more = rows.len() > limit;
        let rows = &rows[..rows.len().min(limit)];
        let next_cursor = match (more, rows.last()) {
            (true, Some(last)) => {
                let last: Value = serde_json::from_str(last.get())
                    .map_err(|e| DomainError::Internal(e.into()))?;
                Some(encode_cursor(&key_values(&keys, &last)))
            }
            _ => None,
        };
        // With `fields`: the asked ones the caller may read.
        let keep: Option<Vec<String>> = q.fields.as_ref().map(|f| {
            f.iter()
                .filter(|k| !masked.strip.contains(k))
                .cloned()
                .collect()
        });
        let cut = match &keep {
            Some(k) => Cut::Keep(k),
            None => Cut::Deny(&masked.strip),
        };
        let mut out = String::with_capacity(text.len() + 64);
        out.push_str("{\"items\":[");
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if cut.is_none() {
                out.push_str(r.get());
            } else {
                super::strip::strip_row_into(r.get(), &cut, &mut out)
                    .map_err(|e| DomainError::Internal(anyhow::anyhow!("page row JSON: {e}")))?;
            }
        }
        out.push_str("],\"next_cursor\":");
        out.push_str(&serde_json::to_string(&next_cursor).unwrap_or_else(|_| "null".into()));
        if let Some(t) = total {
            out.push_str(&format!(",\"total\":{t}"));
        }
        out.push('}');
        Ok(out)
    }

    pub async fn list(
        &self,
        app: &str,
        form: &str,
        q: &ListQuery,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let ListPlan {
            compiled,
            decision,
            keys,
            limit,
            page_where,
            params,
            total,
        } = self.plan(app, form, q, caller).await?;
        let mut items = self.page(&keys, &page_where, params, limit + 1).await?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more {
            items
                .last()
                .map(|last| encode_cursor(&key_values(&keys, last)))
        } else {
            None
        };
        for item in &mut items {
            decision.project(&mut item["data"]);
        }
        if !q.expand.is_empty() {
            self.expand(&compiled, &mut items, &q.expand, caller)
                .await?;
        }
        if let Some(fields) = &q.fields {
            for item in &mut items {
                project(item, fields);
            }
        }
        let mut out = json!({"items": items, "next_cursor": next_cursor});
        if let Some(t) = total {
            out["total"] = json!(t);
        }
        Ok(out)
    }

    /// One page as a JSON array built inside the database (SQLite or PostgreSQL), in the
    /// API representation (`deleted_at` only on deleted records), ordered by the sort keys
    /// (selected as columns so the aggregate's order is guaranteed).
    async fn page_text(
        &self,
        keys: &[crate::query::sort::SortKey],
        where_: &str,
        params: Params,
        limit: usize,
        data_sql: &str,
    ) -> DomainResult<String> {
        let backend = self.db.backend;
        let exprs = crate::query::sql::sort_exprs(backend, keys);
        let inner_keys: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{e} AS k{i}"))
            .collect();
        // (NULLs first ascending, last descending, as `order_by` sorts on both databases.)
        let agg_order: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| match (backend, k.desc) {
                (crate::store::db::Backend::Sqlite, true) => format!("k{i} DESC"),
                (crate::store::db::Backend::Sqlite, false) => format!("k{i} ASC"),
                (crate::store::db::Backend::Postgres, true) => format!("k{i} DESC NULLS LAST"),
                (crate::store::db::Backend::Postgres, false) => format!("k{i} ASC NULLS FIRST"),
            })
            .collect();
        let sql = match backend {
            // The row objects are concatenated as text: the stored data is already JSON text,
            // so it is not parsed and re-rendered (json_object over json(data) did both, for
            // every row of every page). Text values go through json_quote.
            crate::store::db::Backend::Sqlite => format!(
                "SELECT '[' || COALESCE(group_concat('{{\"id\":' || id || ',\"form_version\":' || form_version \
                 || ',\"row_version\":' || row_version || ',\"created_at\":' || json_quote(created_at) \
                 || ',\"created_by\":' || json_quote(created_by) || ',\"updated_at\":' || json_quote(updated_at) \
                 || ',\"updated_by\":' || json_quote(updated_by) || ',\"owner\":' || json_quote(owner_user) \
                 || CASE WHEN deleted_at IS NULL THEN '' ELSE ',\"deleted_at\":' || json_quote(deleted_at) END \
                 || ',\"data\":' || {data_sql} || '}}', \
                 ',' ORDER BY {}), '') || ']' AS page \
                 FROM (SELECT *, {} FROM records WHERE {where_} ORDER BY {} LIMIT {limit})",
                agg_order.join(", "),
                inner_keys.join(", "),
                order_by(backend, keys),
            ),
            crate::store::db::Backend::Postgres => {
                let fields = format!(
                    "'id', id, 'form_version', form_version, 'row_version', row_version, 'created_at', created_at, \
                     'created_by', created_by, 'updated_at', updated_at, 'updated_by', updated_by, 'owner', owner_user, \
                     'data', {data_sql}"
                );
                format!(
                    "SELECT COALESCE(json_agg(CASE WHEN deleted_at IS NULL THEN json_build_object({fields}) \
                 ELSE json_build_object({fields}, 'deleted_at', deleted_at) END ORDER BY {}), '[]')::text AS page \
                 FROM (SELECT *, {} FROM records WHERE {where_} ORDER BY {} LIMIT {limit}) AS page_rows",
                    agg_order.join(", "),
                    inner_keys.join(", "),
                    order_by(backend, keys),
                )
            }
        };
        let row = self.db.query_one(&sql, params.0).await?;
        Ok(row
            .map(|r| r.try_get("", "page"))
            .transpose()?
            .unwrap_or_else(|| "[]".into()))
    }

    async fn page(
        &self,
        keys: &[crate::query::sort::SortKey],
        where_: &str,
        params: Params,
        limit: usize,
    ) -> DomainResult<Vec<Value>> {
        let text = self
            .page_text(keys, where_, params, limit, whole_data(self.db.backend))
            .await?;
        serde_json::from_str(&text)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("page JSON: {e}")))
    }

    /// Attach the referenced records of each item under `expand.<field>` (one query per field).
    async fn expand(
        &self,
        form: &CompiledForm,
        items: &mut [Value],
        fields: &[String],
        caller: &Caller,
    ) -> DomainResult<()> {
        for name in fields {
            let Some(target) = form.model.field(name).and_then(|f| f.ref_form.clone()) else {
                continue;
            };
            // The referenced records as the caller may see them: their rows, their fields.
            let target_decision = self.auth.decide(caller, &form.app, &target).await?;
            let mut ids: Vec<i64> = items
                .iter()
                .filter_map(|i| i["data"].get(name).and_then(Value::as_i64))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let mut found = HashMap::new();
            for chunk in ids.chunks(500) {
                let mut params = Params::default();
                let rows = self
                    .auth
                    .row_scope(caller, &form.app, &target, self.db.backend, &mut params)
                    .await?;
                let ph: Vec<String> = chunk.iter().map(|i| params.push(*i)).collect();
                let sql = format!(
                    "SELECT {COLUMNS} FROM records WHERE id IN ({}) AND {} AND deleted_at IS NULL{}",
                    ph.join(", "),
                    form_scope(&form.app, &target),
                    rows.map(|c| format!(" AND {c}")).unwrap_or_default()
                );
                for r in self.db.query_all(&sql, params.0).await? {
                    let row = RecordRow::from_row(self.db.backend, &r)?;
                    let mut v = row.to_api();
                    target_decision.project(&mut v["data"]);
                    found.insert(row.id, v);
                }
            }
            for item in items.iter_mut() {
                let target = item["data"]
                    .get(name)
                    .and_then(Value::as_i64)
                    .and_then(|id| found.get(&id))
                    .cloned();
                if item.get("expand").is_none() {
                    item["expand"] = json!({});
                }
                item["expand"][name] = target.unwrap_or(Value::Null);
            }
        }
        Ok(())
    }
}

/// The stored data as JSON text (it is stored as text; a JSONB value is rendered).
const SQLITE_DATA: &str = "iif(typeof(data) = 'text', data, json(data))";

/// The whole stored data of a row as JSON text: SQLite stores text (a JSONB value is
/// rendered); PostgreSQL's jsonb is rendered by `json_build_object`.
fn whole_data(backend: crate::store::db::Backend) -> &'static str {
    match backend {
        crate::store::db::Backend::Sqlite => SQLITE_DATA,
        crate::store::db::Backend::Postgres => "data",
    }
}

/// A page's record data under the caller's mask: the SQL giving each row's data, and the
/// top-level fields still to be removed from it (`service::strip`).
struct MaskedData {
    sql: String,
    strip: Vec<String>,
}

/// The record data with the caller's unreadable fields removed, or `None` when the mask is
/// an allow-list (handled after parsing). PostgreSQL removes them in the database (`-` on
/// jsonb is cheap there); on SQLite the stored text goes out as it is and the fields are
/// cut from it in Rust, which is cheaper than `json_remove` re-parsing every row. Denied
/// keys are plain keys (checked), so they can stand in the SQL text.
fn masked_data_sql(backend: crate::store::db::Backend, d: &Decision) -> Option<MaskedData> {
    let whole = whole_data(backend);
    if d.read.is_full() {
        return Some(MaskedData {
            sql: whole.into(),
            strip: Vec::new(),
        });
    }
    if !d.read.all || !d.read.deny.iter().all(|k| crate::keys::is_key(k)) {
        return None;
    }
    let mut denied: Vec<String> = d.read.deny.iter().cloned().collect();
    denied.sort();
    Some(match backend {
        crate::store::db::Backend::Sqlite => MaskedData {
            sql: whole.into(),
            strip: denied,
        },
        crate::store::db::Backend::Postgres => {
            let keys: Vec<String> = denied.iter().map(|k| format!("'{k}'")).collect();
            MaskedData {
                sql: format!("(data - ARRAY[{}]::text[])", keys.join(", ")),
                strip: Vec::new(),
            }
        }
    })
}

fn project(item: &mut Value, fields: &[String]) {
    if let Some(Value::Object(data)) = item.get_mut("data") {
        let kept: Map<String, Value> = fields
            .iter()
            .filter_map(|f| data.remove(f).map(|v| (f.clone(), v)))
            .collect();
        *data = kept;
    }
}
