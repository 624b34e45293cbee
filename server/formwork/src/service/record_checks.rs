//! Checks a record write makes inside the writer's transaction: references name live
//! records, member and department fields name users and departments, `x-unique` values are
//! free.

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::error::{Detail, DomainError, DomainResult};
use crate::query::fields::{Col, FieldRef};
use crate::query::sql::{Params, bind, data_expr};
use crate::schema::definition::{CompiledForm, escape};
use crate::schema::field_types::FieldKind;
use crate::store::records::{self, form_scope};
use crate::store::writer::Batch;

pub(super) async fn check_references(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    data: &Value,
    prefix: &str,
) -> DomainResult<()> {
    let p = prefix.to_owned();
    check_references_all(txn, batch, form, &[data], &move |_| p.clone()).await
}

/// Every reference (root fields and sub-table rows) of every record names a live record of
/// its target form; one query per target form and 500 ids.
pub(super) async fn check_references_all(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    datas: &[&Value],
    prefix_of: &(dyn Fn(usize) -> String + Sync),
) -> DomainResult<()> {
    let mut wanted: BTreeMap<&str, Vec<(i64, Slot)>> = BTreeMap::new();
    for (n, data) in datas.iter().enumerate() {
        for (f, v, at) in values_of_kind(form, data, FieldKind::Reference, n) {
            if let Some(id) = v.as_i64() {
                let target = f.ref_form.as_deref().unwrap_or_default();
                wanted.entry(target).or_default().push((id, at));
            }
        }
    }
    let mut details = Vec::new();
    check_people(txn, batch, form, datas, prefix_of, &mut details).await?;
    for (target, refs) in wanted {
        let mut ids: Vec<i64> = refs.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            found
                .extend(records::existing_ids(txn, batch.backend, &form.app, target, chunk).await?);
        }
        for (id, at) in refs {
            if !found.contains(&id) {
                details.push(Detail::new(
                    at.pointer(prefix_of),
                    "reference",
                    format!("there is no {target} record with id {id}"),
                ));
            }
        }
    }
    DomainError::unless_any(details)
}

/// Where a value sits: item `row`'s field, or a cell of one of its sub-table rows.
#[derive(Clone, Copy)]
struct Slot<'a> {
    row: usize,
    field: &'a str,
    sub: Option<(&'a str, usize)>,
}

impl Slot<'_> {
    /// Its pointer in the request, built only for a value that is refused.
    fn pointer(&self, prefix_of: &(dyn Fn(usize) -> String + Sync)) -> String {
        let prefix = prefix_of(self.row);
        match self.sub {
            None => format!("{prefix}/data/{}", escape(self.field)),
            Some((t, i)) => format!("{prefix}/data/{}/{i}/{}", escape(t), escape(self.field)),
        }
    }
}

/// The values of every field of one kind in item `row` (root fields and sub-table cells),
/// each with where it sits.
fn values_of_kind<'a>(
    form: &'a CompiledForm,
    data: &'a Value,
    kind: FieldKind,
    row: usize,
) -> Vec<(&'a crate::schema::model::FieldSpec, &'a Value, Slot<'a>)> {
    let mut out = Vec::new();
    for (sub, f) in form.model.of_kind(kind) {
        match sub {
            None => {
                if let Some(v) = data.get(&f.key) {
                    let at = Slot {
                        row,
                        field: &f.key,
                        sub: None,
                    };
                    out.push((f, v, at));
                }
            }
            Some(t) => {
                let rows = data.get(t).and_then(Value::as_array).into_iter().flatten();
                for (i, r) in rows.enumerate() {
                    if let Some(v) = r.get(&f.key) {
                        let at = Slot {
                            row,
                            field: &f.key,
                            sub: Some((t, i)),
                        };
                        out.push((f, v, at));
                    }
                }
            }
        }
    }
    out
}

/// Member fields name existing users, department fields existing departments.
async fn check_people(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    datas: &[&Value],
    prefix_of: &(dyn Fn(usize) -> String + Sync),
    details: &mut Vec<Detail>,
) -> DomainResult<()> {
    for (kind, table, column, what) in [
        (FieldKind::Member, "users", "username", "user"),
        (FieldKind::Department, "departments", "id", "department"),
    ] {
        let mut wanted: Vec<(&str, Slot)> = Vec::new();
        for (n, data) in datas.iter().enumerate() {
            for (_, v, at) in values_of_kind(form, data, kind, n) {
                if let Some(v) = v.as_str() {
                    wanted.push((v, at));
                }
            }
        }
        if wanted.is_empty() {
            continue;
        }
        let mut names: Vec<&str> = wanted.iter().map(|(v, _)| *v).collect();
        names.sort_unstable();
        names.dedup();
        let mut found = std::collections::HashSet::new();
        for chunk in names.chunks(500) {
            let list = Value::Array(
                chunk
                    .iter()
                    .map(|s| Value::String((*s).to_owned()))
                    .collect(),
            );
            let sql = match batch.backend {
                crate::store::db::Backend::Sqlite => format!(
                    "SELECT {column} AS v FROM {table} WHERE {column} IN (SELECT value FROM json_each($1))"
                ),
                crate::store::db::Backend::Postgres => format!(
                    "SELECT {column} AS v FROM {table} WHERE {column} IN (SELECT jsonb_array_elements_text($1::jsonb))"
                ),
            };
            for r in txn
                .query_all_raw(batch.stmt(&sql, vec![list.to_string().into()]))
                .await?
            {
                found.insert(r.try_get::<String>("", "v")?);
            }
        }
        for (v, at) in wanted {
            if !found.contains(v) {
                let ptr = at.pointer(prefix_of);
                details.push(Detail::new(ptr, what, format!("there is no {what} {v:?}")));
            }
        }
    }
    Ok(())
}

/// New records' `x-unique` values are distinct among themselves and from every live record.
pub(super) async fn check_unique_all(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    datas: &[&Value],
    prefix_of: &(dyn Fn(usize) -> String + Sync),
) -> DomainResult<()> {
    if datas.len() == 1 {
        return check_unique(txn, batch, form, datas[0], None, &prefix_of(0)).await;
    }
    for f in form.model.fields.values().filter(|f| f.unique) {
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut given: Vec<(usize, &Value)> = Vec::new();
        for (i, d) in datas.iter().enumerate() {
            let Some(v) = d
                .get(&f.key)
                .filter(|v| !v.is_null() && !v.is_object() && !v.is_array())
            else {
                continue;
            };
            if let Some(first) = seen.insert(v.to_string(), i) {
                return Err(DomainError::conflict(
                    format!("{} {v} appears twice in this request", f.key),
                    vec![Detail::new(
                        format!("{}/data/{}", prefix_of(i), escape(&f.key)),
                        "unique",
                        format!("also given in item {first}"),
                    )],
                ));
            }
            given.push((i, v));
        }
        // One query per chunk of values asks whether any is taken; only then is each item
        // checked on its own, for the error that names it.
        let field = FieldRef {
            col: Col::Data(vec![f.key.clone()]),
            ty: f.json_type,
            name: f.key.clone(),
            kind: f.kind,
        };
        let expr = data_expr(batch.backend, std::slice::from_ref(&f.key), f.json_type);
        for chunk in given.chunks(UNIQUE_CHUNK) {
            let mut params = Params::default();
            let list: Vec<String> = chunk
                .iter()
                .map(|(_, v)| bind(batch.backend, &field, v, &mut params))
                .collect();
            let sql = format!(
                "SELECT id FROM records WHERE {} AND deleted_at IS NULL AND {expr} IN ({}) LIMIT 1",
                form_scope(&form.app, &form.key),
                list.join(", ")
            );
            if txn
                .query_one_raw(batch.stmt(&sql, params.0))
                .await?
                .is_some()
            {
                for (i, _) in chunk {
                    check_unique(txn, batch, form, datas[*i], None, &prefix_of(*i)).await?;
                }
            }
        }
    }
    Ok(())
}

/// Values of a unique field asked about in one query.
const UNIQUE_CHUNK: usize = 500;

/// `x-unique` fields hold a value no other live record of the form has.
pub(super) async fn check_unique(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    data: &Value,
    except: Option<i64>,
    prefix: &str,
) -> DomainResult<()> {
    for f in form.model.fields.values().filter(|f| f.unique) {
        let Some(v) = data
            .get(&f.key)
            .filter(|v| !v.is_null() && !v.is_object() && !v.is_array())
        else {
            continue;
        };
        let mut params = Params::default();
        let field = FieldRef {
            col: Col::Data(vec![f.key.clone()]),
            ty: f.json_type,
            name: f.key.clone(),
            kind: f.kind,
        };
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
                vec![Detail::new(
                    format!("{prefix}/data/{}", escape(&f.key)),
                    "unique",
                    format!("already used by record {other}"),
                )],
            ));
        }
    }
    Ok(())
}
