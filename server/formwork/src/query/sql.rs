//! Compiling filters, sorts and cursors to SQL for SQLite or PostgreSQL.
//!
//! Data fields are read with one canonical expression per field and type
//! ([`value_expr`]); expression indexes are created on the very same text, so the planners
//! use them. Every atom is guarded by the value's JSON type, which makes it a definite
//! true/false (never SQL NULL) and keeps the answers equal to the in-memory evaluation.

use sea_orm::Value as SqlValue;
use serde_json::Value;

use super::fields::{Col, FieldRef};
use super::filter::{CmpOp, Filter};
use super::sort::SortKey;
use crate::schema::model::JsonType;
use crate::store::db::Backend;

/// Bound parameters, numbered `$1…` in both dialects.
#[derive(Default, Debug)]
pub struct Params(pub Vec<SqlValue>);

impl Params {
    pub fn push(&mut self, v: impl Into<SqlValue>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }
}

/// Where a field's JSON lives: the record's `data`, or the current sub-table row `e.value`.
#[derive(Clone, Copy)]
enum Base {
    Data,
    Item,
}

impl Base {
    fn sql(self) -> &'static str {
        match self {
            Base::Data => "data",
            Base::Item => "e.value",
        }
    }
}

fn sqlite_path(path: &[String]) -> String {
    format!("'$.{}'", path.join("."))
}

fn pg_path(path: &[String]) -> String {
    if path.len() == 1 {
        format!("'{}'", path[0])
    } else {
        format!("'{{{}}}'", path.join(","))
    }
}

fn pg_arrow(path: &[String], text: bool) -> &'static str {
    match (path.len() == 1, text) {
        (true, true) => "->>",
        (true, false) => "->",
        (false, true) => "#>>",
        (false, false) => "#>",
    }
}

/// The SQL expression for a data field's value (root data), as used by filters, sorts and
/// expression indexes.
pub fn data_expr(backend: Backend, path: &[String], ty: JsonType) -> String {
    expr_at(backend, Base::Data, path, ty)
}

fn expr_at(backend: Backend, base: Base, path: &[String], ty: JsonType) -> String {
    match backend {
        Backend::Sqlite => format!("json_extract({}, {})", base.sql(), sqlite_path(path)),
        Backend::Postgres => match ty {
            JsonType::String => format!(
                "(({} {} {}) COLLATE \"C\")",
                base.sql(),
                pg_arrow(path, true),
                pg_path(path)
            ),
            _ => format!(
                "NULLIF({} {} {}, 'null'::jsonb)",
                base.sql(),
                pg_arrow(path, false),
                pg_path(path)
            ),
        },
    }
}

/// A reference field's value and the `records.id` it names, as two comparable expressions
/// (`ref IN (SELECT id …)`). PostgreSQL compares them as JSON: a cast of the field would fail
/// on a malformed value.
pub fn reference_and_id(backend: Backend, field: &str) -> (String, &'static str) {
    reference_and_id_at(backend, Base::Data, field)
}

fn reference_and_id_at(backend: Backend, base: Base, field: &str) -> (String, &'static str) {
    let expr = expr_at(backend, base, &[field.to_owned()], JsonType::Number);
    let id = match backend {
        Backend::Sqlite => "id",
        Backend::Postgres => "to_jsonb(id)",
    };
    (expr, id)
}

/// The JSON type of a data field as every typed comparison's guard tests it (`''` when
/// absent). PostgreSQL gets statistics on exactly this text (see form_ops.rs).
pub fn data_type_expr(backend: Backend, path: &[String]) -> String {
    guard_type(backend, Base::Data, path)
}

fn guard_type(backend: Backend, base: Base, path: &[String]) -> String {
    format!("COALESCE({}, '')", type_expr(backend, base, path))
}

fn type_expr(backend: Backend, base: Base, path: &[String]) -> String {
    match backend {
        Backend::Sqlite => format!("json_type({}, {})", base.sql(), sqlite_path(path)),
        Backend::Postgres => format!(
            "jsonb_typeof({} {} {})",
            base.sql(),
            pg_arrow(path, false),
            pg_path(path)
        ),
    }
}

fn type_names(backend: Backend, ty: JsonType) -> &'static str {
    match (backend, ty) {
        (Backend::Sqlite, JsonType::String) => "('text')",
        (Backend::Sqlite, JsonType::Number) => "('integer','real')",
        (Backend::Sqlite, JsonType::Boolean) => "('true','false')",
        (Backend::Sqlite, JsonType::Array) => "('array')",
        (Backend::Sqlite, _) => "('object')",
        (Backend::Postgres, JsonType::String) => "('string')",
        (Backend::Postgres, JsonType::Number) => "('number')",
        (Backend::Postgres, JsonType::Boolean) => "('boolean')",
        (Backend::Postgres, JsonType::Array) => "('array')",
        (Backend::Postgres, _) => "('object')",
    }
}

/// `(value expression, guard)`: the guard is true exactly when the field holds a value of
/// its type.
fn field_sql(backend: Backend, base: Base, f: &FieldRef) -> (String, String) {
    match &f.col {
        Col::System(c) => (c.column().to_owned(), format!("{} IS NOT NULL", c.column())),
        Col::Data(path) => (
            expr_at(backend, base, path, f.ty),
            format!(
                "{} IN {}",
                guard_type(backend, base, path),
                type_names(backend, f.ty)
            ),
        ),
    }
}

/// Bind a literal the way the field's expression yields values.
pub fn bind(backend: Backend, f: &FieldRef, v: &Value, params: &mut Params) -> String {
    let data_field = matches!(f.col, Col::Data(_));
    match (backend, v) {
        (_, Value::String(s)) => params.push(s.clone()),
        (Backend::Postgres, Value::Number(_) | Value::Bool(_)) if data_field => {
            params.push(SqlValue::Json(Some(Box::new(v.clone()))))
        }
        (_, Value::Number(n)) => match n.as_i64() {
            Some(i) => params.push(i),
            None => params.push(n.as_f64().unwrap_or(0.0)),
        },
        (_, Value::Bool(b)) => params.push(i64::from(*b)),
        _ => params.push(SqlValue::String(None)),
    }
}

/// Whether `field = 'text'` is exact on SQLite without the type guard. `json_extract`
/// yields a JSON string as that text, a number or boolean as a number (never equal to a
/// text value), null as NULL, and an array or object as its JSON text, which begins with
/// `[` or `{`. So equality with texts that begin otherwise needs no guard, and the guard,
/// which parses the row's JSON once more, is left out (a list filtered by a select field
/// evaluated it for every row it looked at). The guard also kept the predicate two-valued
/// (false, not NULL, for an absent field, which matters under `NOT`); without it the SQL
/// says so itself (`IS`, `IS NOT NULL`).
fn text_equality_needs_no_guard<'a>(
    backend: Backend,
    field: &FieldRef,
    values: impl IntoIterator<Item = &'a Value>,
) -> bool {
    backend == Backend::Sqlite
        && field.ty == JsonType::String
        && matches!(field.col, Col::Data(_))
        && values.into_iter().all(|v| {
            v.as_str()
                .is_some_and(|s| !s.starts_with('[') && !s.starts_with('{'))
        })
}

pub fn compile(backend: Backend, filter: &Filter, params: &mut Params) -> String {
    compile_at(backend, Base::Data, filter, params)
}

fn compile_at(backend: Backend, base: Base, filter: &Filter, params: &mut Params) -> String {
    match filter {
        Filter::And(parts) if parts.is_empty() => "(1=1)".into(),
        Filter::Or(parts) if parts.is_empty() => "(1=0)".into(),
        Filter::And(parts) | Filter::Or(parts) => {
            let joiner = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let inner: Vec<String> = parts
                .iter()
                .map(|p| compile_at(backend, base, p, params))
                .collect();
            format!("({})", inner.join(joiner))
        }
        Filter::Not(inner) => format!("(NOT {})", compile_at(backend, base, inner, params)),
        Filter::Cmp { field, op, value } => {
            let (expr, guard) = field_sql(backend, base, field);
            let p = bind(backend, field, value, params);
            if *op == CmpOp::Eq && text_equality_needs_no_guard(backend, field, [value]) {
                // `IS`: false, not NULL, for an absent field, so `NOT` stays exact.
                return format!("({expr} IS {p})");
            }
            let op = match op {
                CmpOp::Eq => "=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("({guard} AND {expr} {op} {p})")
        }
        Filter::In { field, values } => {
            if values.is_empty() {
                return "(1=0)".into();
            }
            let (expr, guard) = field_sql(backend, base, field);
            let ps: Vec<String> = values
                .iter()
                .map(|v| bind(backend, field, v, params))
                .collect();
            if text_equality_needs_no_guard(backend, field, values) {
                return format!("({expr} IN ({}) AND {expr} IS NOT NULL)", ps.join(", "));
            }
            format!("({guard} AND {expr} IN ({}))", ps.join(", "))
        }
        Filter::Contains { field, needle } => {
            let (expr, guard) = field_sql(backend, base, field);
            match (field.ty, &field.col) {
                (JsonType::Array, Col::Data(path)) => match backend {
                    Backend::Sqlite => {
                        let p = bind(backend, field, needle, params);
                        let ty = if needle.is_string() {
                            "('text')"
                        } else {
                            "('integer','real')"
                        };
                        format!(
                            "({guard} AND EXISTS (SELECT 1 FROM json_each({}, {}) AS m WHERE m.type IN {ty} AND m.value = {p}))",
                            base.sql(),
                            sqlite_path(path)
                        )
                    }
                    Backend::Postgres => {
                        let p = params.push(SqlValue::Json(Some(Box::new(Value::Array(vec![
                            needle.clone(),
                        ])))));
                        format!("({guard} AND {expr} @> {p})")
                    }
                },
                _ => {
                    let p = params.push(needle.as_str().unwrap_or_default().to_owned());
                    match backend {
                        Backend::Sqlite => format!("({guard} AND instr({expr}, {p}) > 0)"),
                        Backend::Postgres => format!("({guard} AND strpos({expr}, {p}) > 0)"),
                    }
                }
            }
        }
        Filter::StartsWith { field, prefix } => {
            let (expr, guard) = field_sql(backend, base, field);
            let p = params.push(prefix.clone());
            match backend {
                Backend::Sqlite => format!("({guard} AND substr({expr}, 1, length({p})) = {p})"),
                Backend::Postgres => format!("({guard} AND starts_with({expr}, {p}))"),
            }
        }
        Filter::IsNull { field } => match &field.col {
            Col::System(c) => format!("({} IS NULL)", c.column()),
            Col::Data(path) => format!(
                "(COALESCE({}, 'null') = 'null')",
                type_expr(backend, base, path)
            ),
        },
        Filter::Ref { field, sql, .. } => match sql {
            Some(w) => {
                // The record's reference, or (inside `some`) the row's.
                let (expr, id) = reference_and_id_at(backend, base, &field.name);
                // No reference (NULL) is false, not NULL, so that `!` stays exact.
                format!("({expr} IS NOT NULL AND {expr} IN (SELECT {id} FROM records WHERE {w}))")
            }
            // Not planned (see filter.rs): nothing matches.
            None => "(1=0)".into(),
        },
        Filter::Some { table, pred } => {
            let path = vec![table.clone()];
            let inner = compile_at(backend, Base::Item, pred, params);
            match backend {
                Backend::Sqlite => format!(
                    "(COALESCE(json_type(data, {p}), '') = 'array' AND EXISTS (SELECT 1 FROM json_each(data, {p}) AS e WHERE e.type = 'object' AND {inner}))",
                    p = sqlite_path(&path)
                ),
                Backend::Postgres => format!(
                    "(COALESCE(jsonb_typeof(data -> '{table}'), '') = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(data -> '{table}') = 'array' THEN data -> '{table}' ELSE '[]'::jsonb END) AS e(value) WHERE jsonb_typeof(e.value) = 'object' AND {inner}))"
                ),
            }
        }
    }
}

fn sort_expr(backend: Backend, k: &SortKey) -> String {
    field_sql(backend, Base::Data, &k.field).0
}

/// The sort keys' expressions, in order.
pub fn sort_exprs(backend: Backend, keys: &[SortKey]) -> Vec<String> {
    keys.iter().map(|k| sort_expr(backend, k)).collect()
}

/// `ORDER BY` text: ascending puts NULLs first, descending last, on both databases.
/// PostgreSQL's defaults are the opposite, so nullable keys say so explicitly (and the
/// expression indexes are built `NULLS FIRST` to match); NOT NULL system columns carry no
/// NULLS clause, which would only stop the planner from reading an index backwards.
pub fn order_by(backend: Backend, keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| {
            let e = sort_expr(backend, k);
            let never_null =
                matches!(k.field.col, Col::System(c) if c != super::fields::SysCol::Owner);
            match (backend, k.desc, never_null) {
                (Backend::Sqlite, false, _) | (Backend::Postgres, false, true) => {
                    format!("{e} ASC")
                }
                (Backend::Sqlite, true, _) | (Backend::Postgres, true, true) => format!("{e} DESC"),
                (Backend::Postgres, false, false) => format!("{e} ASC NULLS FIRST"),
                (Backend::Postgres, true, false) => format!("{e} DESC NULLS LAST"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows strictly after the cursor position in the sort order.
pub fn after_cursor(
    backend: Backend,
    keys: &[SortKey],
    values: &[Value],
    params: &mut Params,
) -> String {
    let mut alternatives = Vec::new();
    for i in 0..keys.len() {
        let mut terms = Vec::new();
        for j in 0..i {
            let e = sort_expr(backend, &keys[j]);
            if values[j].is_null() {
                terms.push(format!("{e} IS NULL"));
            } else {
                let p = bind(backend, &keys[j].field, &values[j], params);
                terms.push(format!("{e} = {p}"));
            }
        }
        let e = sort_expr(backend, &keys[i]);
        let after = match (keys[i].desc, values[i].is_null()) {
            (false, true) => format!("{e} IS NOT NULL"),
            (false, false) => format!(
                "{e} > {}",
                bind(backend, &keys[i].field, &values[i], params)
            ),
            (true, true) => "1=0".to_owned(),
            (true, false) => format!(
                "({e} < {} OR {e} IS NULL)",
                bind(backend, &keys[i].field, &values[i], params)
            ),
        };
        terms.push(after);
        alternatives.push(format!("({})", terms.join(" AND ")));
    }
    format!("({})", alternatives.join(" OR "))
}
