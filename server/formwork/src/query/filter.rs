//! The filter language: a JSON Logic subset with strict types.
//!
//! `and`, `or`, `!`; `==`, `!=` (also `===`, `!==`), `<`, `<=`, `>`, `>=`, and the 3-argument
//! `<`/`<=` of JSON Logic for *between*; `in` (a field in a list, or a text / list field
//! containing a value); `starts_with`; `== null` / `!= null`; `some` / `none` over a
//! sub-table; `ref` over a reference field (`{"ref": [{"var": "customer"}, {"==": [{"var":
//! "grade"}, "A"]}]}`: the referenced record exists, is one the caller may see, and matches the inner
//! filter, written over the referenced form's fields). A comparison is true only when the
//! field holds a value of the field's type; a missing or null field compares false (so `!=`
//! is true for it).
//!
//! A `ref` is parsed here with its inner filter kept as written; the list planner
//! (`service::listing`) checks it against the referenced form and the caller's rules there
//! and compiles it (`Filter::Ref::sql`). Callers that do not plan refs refuse them
//! (`has_ref`).

use serde_json::Value;
use std::cmp::Ordering;

use super::fields::{Col, FieldRef, Scope, SysCol};
use crate::error::{DomainError, DomainResult};
use crate::schema::field_types::FieldKind;
use crate::schema::model::{FieldSpec, JsonType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cmp {
        field: FieldRef,
        op: CmpOp,
        value: Value,
    },
    In {
        field: FieldRef,
        values: Vec<Value>,
    },
    /// Text contains a substring, or a list contains an element.
    Contains {
        field: FieldRef,
        needle: Value,
    },
    StartsWith {
        field: FieldRef,
        prefix: String,
    },
    IsNull {
        field: FieldRef,
    },
    /// Some row of a sub-table matches.
    Some {
        table: String,
        pred: Box<Filter>,
    },
    /// The record a reference field names matches `inner` (a filter over `form`).
    Ref {
        field: FieldRef,
        form: String,
        inner: Value,
        /// Where `inner` is in the request, for messages.
        pointer: String,
        /// The WHERE over `records` selecting the matching, visible records of `form`, set
        /// by the planner; unset, the ref matches nothing.
        sql: Option<String>,
    },
}

impl Filter {
    /// Parse a JSON Logic filter; `pointer` locates it in the request for error messages.
    pub fn parse(logic: &Value, scope: &Scope, pointer: &str) -> DomainResult<Filter> {
        let Some((op, args)) = logic
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(DomainError::bad_request(
                pointer,
                "filter",
                "a filter is an object with one operator",
            ));
        };
        let p = format!("{pointer}/{}", crate::schema::definition::escape(op));
        let list: Vec<&Value> = match args {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        let arity = |n: usize| -> DomainResult<()> {
            if list.len() == n {
                Ok(())
            } else {
                Err(DomainError::bad_request(
                    &p,
                    "arity",
                    format!("{op} takes {n} arguments"),
                ))
            }
        };
        Ok(match op.as_str() {
            "and" | "or" => {
                let parts = list
                    .iter()
                    .enumerate()
                    .map(|(i, a)| Filter::parse(a, scope, &format!("{p}/{i}")))
                    .collect::<DomainResult<Vec<_>>>()?;
                if op == "and" {
                    Filter::And(parts)
                } else {
                    Filter::Or(parts)
                }
            }
            "!" => {
                arity(1)?;
                Filter::Not(Box::new(Filter::parse(list[0], scope, &format!("{p}/0"))?))
            }
            "==" | "===" | "!=" | "!==" => {
                arity(2)?;
                let (field, value, _) = field_and_literal(list[0], list[1], scope, &p)?;
                let f = if value.is_null() {
                    Filter::IsNull { field }
                } else {
                    check_literal(
                        &field,
                        &value,
                        &p,
                        &[JsonType::String, JsonType::Number, JsonType::Boolean],
                    )?;
                    Filter::Cmp {
                        field,
                        op: CmpOp::Eq,
                        value,
                    }
                };
                if op.starts_with('!') {
                    Filter::Not(Box::new(f))
                } else {
                    f
                }
            }
            "<" | "<=" | ">" | ">=" if list.len() == 3 && matches!(op.as_str(), "<" | "<=") => {
                let field = var(list[1], scope, &format!("{p}/1"))?.ok_or_else(|| {
                    DomainError::bad_request(
                        &format!("{p}/1"),
                        "filter",
                        "between needs a field in the middle",
                    )
                })?;
                let (lo, hi) = (list[0].clone(), list[2].clone());
                check_literal(&field, &lo, &p, &[JsonType::String, JsonType::Number])?;
                check_literal(&field, &hi, &p, &[JsonType::String, JsonType::Number])?;
                let (lo_op, hi_op) = if op == "<" {
                    (CmpOp::Gt, CmpOp::Lt)
                } else {
                    (CmpOp::Ge, CmpOp::Le)
                };
                Filter::And(vec![
                    Filter::Cmp {
                        field: field.clone(),
                        op: lo_op,
                        value: lo,
                    },
                    Filter::Cmp {
                        field,
                        op: hi_op,
                        value: hi,
                    },
                ])
            }
            "<" | "<=" | ">" | ">=" => {
                arity(2)?;
                let (field, value, flipped) = field_and_literal(list[0], list[1], scope, &p)?;
                check_literal(&field, &value, &p, &[JsonType::String, JsonType::Number])?;
                let op = match (op.as_str(), flipped) {
                    ("<", false) | (">", true) => CmpOp::Lt,
                    ("<=", false) | (">=", true) => CmpOp::Le,
                    (">", false) | ("<", true) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Filter::Cmp { field, op, value }
            }
            "in" => {
                arity(2)?;
                if let Some(field) = var(list[0], scope, &format!("{p}/0"))? {
                    let Value::Array(values) = list[1] else {
                        return Err(DomainError::bad_request(
                            &format!("{p}/1"),
                            "filter",
                            "in needs a list of values",
                        ));
                    };
                    for v in values {
                        check_literal(
                            &field,
                            v,
                            &p,
                            &[JsonType::String, JsonType::Number, JsonType::Boolean],
                        )?;
                    }
                    Filter::In {
                        field,
                        values: values.clone(),
                    }
                } else if let Some(field) = var(list[1], scope, &format!("{p}/1"))? {
                    let needle = list[0].clone();
                    match field.ty {
                        JsonType::String if needle.is_string() => {}
                        JsonType::Array if needle.is_string() || needle.is_number() => {}
                        _ => {
                            return Err(DomainError::bad_request(
                                &p,
                                "type",
                                format!("{} cannot contain {needle}", field.name),
                            ));
                        }
                    }
                    Filter::Contains { field, needle }
                } else {
                    return Err(DomainError::bad_request(&p, "filter", "in needs a field"));
                }
            }
            "starts_with" => {
                arity(2)?;
                let (field, value, flipped) = field_and_literal(list[0], list[1], scope, &p)?;
                match (&value, field.ty, flipped) {
                    (Value::String(prefix), JsonType::String, false) => Filter::StartsWith {
                        field,
                        prefix: prefix.clone(),
                    },
                    _ => {
                        return Err(DomainError::bad_request(
                            &p,
                            "type",
                            "starts_with takes a text field and a text prefix",
                        ));
                    }
                }
            }
            "some" | "none" => {
                arity(2)?;
                let name = var_name(list[0]).ok_or_else(|| {
                    DomainError::bad_request(
                        &format!("{p}/0"),
                        "filter",
                        "some/none take a sub-table field first",
                    )
                })?;
                let table: &FieldSpec = scope.sub_table(name, &format!("{p}/0"))?;
                let pred = Filter::parse(list[1], &Scope::Item(table), &format!("{p}/1"))?;
                let some = Filter::Some {
                    table: name.to_owned(),
                    pred: Box::new(pred),
                };
                if op == "none" {
                    Filter::Not(Box::new(some))
                } else {
                    some
                }
            }
            "ref" => {
                arity(2)?;
                let at0 = format!("{p}/0");
                let name = var_name(list[0]).ok_or_else(|| {
                    DomainError::bad_request(&at0, "filter", "ref takes a reference field first")
                })?;
                // The record's own reference fields, or (inside some / none) the row's.
                let spec = match scope {
                    Scope::Root(model) => model.field(name),
                    Scope::Item(table) => table.children.get(name),
                }
                .ok_or_else(|| {
                    DomainError::bad_request(&at0, "unknown_field", format!("no field {name:?}"))
                })?;
                let form = spec
                    .ref_form
                    .clone()
                    .filter(|_| spec.kind == Some(FieldKind::Reference))
                    .ok_or_else(|| {
                        DomainError::bad_request(
                            &at0,
                            "filter",
                            format!("{name} is not a reference field"),
                        )
                    })?;
                if !list[1].is_object() {
                    return Err(DomainError::bad_request(
                        &format!("{p}/1"),
                        "filter",
                        "ref takes a filter over the referenced form second",
                    ));
                }
                Filter::Ref {
                    field: FieldRef {
                        col: Col::Data(vec![name.to_owned()]),
                        ty: spec.json_type,
                        name: name.to_owned(),
                        kind: spec.kind,
                    },
                    form,
                    inner: list[1].clone(),
                    pointer: format!("{p}/1"),
                    sql: None,
                }
            }
            other => {
                return Err(DomainError::bad_request(
                    &p,
                    "operator",
                    format!(
                        "unsupported operator {other:?}; use and, or, !, ==, !=, <, <=, >, >=, in, starts_with, some, none, ref"
                    ),
                ));
            }
        })
    }

    /// Whether a record (its API representation, or a sub-table row when `item`) matches.
    pub fn matches(&self, record: &Value, item: bool) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(|p| p.matches(record, item)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(record, item)),
            Filter::Not(inner) => !inner.matches(record, item),
            Filter::Cmp { field, op, value } => {
                field
                    .get(record, item)
                    .is_some_and(|v| match (compare(v, value), op) {
                        (Some(o), CmpOp::Eq) => o == Ordering::Equal,
                        (Some(o), CmpOp::Lt) => o == Ordering::Less,
                        (Some(o), CmpOp::Le) => o != Ordering::Greater,
                        (Some(o), CmpOp::Gt) => o == Ordering::Greater,
                        (Some(o), CmpOp::Ge) => o != Ordering::Less,
                        (None, _) => false,
                    })
            }
            Filter::In { field, values } => field.get(record, item).is_some_and(|v| {
                values
                    .iter()
                    .any(|x| compare(v, x) == Some(Ordering::Equal))
            }),
            Filter::Contains { field, needle } => match field.get(record, item) {
                Some(Value::String(s)) => needle.as_str().is_some_and(|n| s.contains(n)),
                Some(Value::Array(a)) => a
                    .iter()
                    .any(|x| compare(x, needle) == Some(Ordering::Equal)),
                _ => false,
            },
            Filter::StartsWith { field, prefix } => field
                .get(record, item)
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with(prefix.as_str())),
            Filter::IsNull { field } => field.get(record, item).is_none(),
            Filter::Some { table, pred } => record
                .get("data")
                .and_then(|d| d.get(table))
                .and_then(Value::as_array)
                .is_some_and(|rows| rows.iter().any(|r| r.is_object() && pred.matches(r, true))),
            // Another record's fields are not in this one: refs are for the database.
            Filter::Ref { .. } => false,
        }
    }

    /// Date-time literals as the values they are compared with are stored, so that the
    /// text comparison compares instants: for a `datetime` field the instant in the app's
    /// time zone (as writes store it, `service::prepare`), for `_created_at` /
    /// `_updated_at` in UTC with milliseconds. Other literals (a date against a date-time
    /// compares with its local date) stay as written. A `ref`'s inner filter is zoned when
    /// it is planned.
    pub fn in_zone(&mut self, tz: chrono_tz::Tz) {
        fn zone(field: &FieldRef, v: &mut Value, tz: chrono_tz::Tz) {
            let Some(t) = v
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            else {
                return;
            };
            match (&field.col, field.kind) {
                (Col::Data(_), Some(FieldKind::Datetime)) => {
                    *v = Value::String(crate::time::in_zone(t, tz));
                }
                (Col::System(SysCol::CreatedAt | SysCol::UpdatedAt), _) => {
                    *v = Value::String(
                        t.with_timezone(&chrono::Utc)
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    );
                }
                _ => {}
            }
        }
        match self {
            Filter::And(p) | Filter::Or(p) => p.iter_mut().for_each(|f| f.in_zone(tz)),
            Filter::Not(f) => f.in_zone(tz),
            Filter::Some { pred, .. } => pred.in_zone(tz),
            Filter::Cmp { field, value, .. } => zone(field, value, tz),
            Filter::In { field, values } => values.iter_mut().for_each(|v| zone(field, v, tz)),
            _ => {}
        }
    }

    /// Whether the filter has a `ref` anywhere (callers that do not plan refs refuse them).
    pub fn has_ref(&self) -> bool {
        match self {
            Filter::And(p) | Filter::Or(p) => p.iter().any(Filter::has_ref),
            Filter::Not(f) => f.has_ref(),
            Filter::Some { pred, .. } => pred.has_ref(),
            Filter::Ref { .. } => true,
            _ => false,
        }
    }

    /// Every `ref` in the filter, outermost first, to be planned.
    pub fn refs_mut(&mut self) -> Vec<&mut Filter> {
        let mut out = Vec::new();
        fn walk<'a>(f: &'a mut Filter, out: &mut Vec<&'a mut Filter>) {
            match f {
                Filter::And(p) | Filter::Or(p) => p.iter_mut().for_each(|f| walk(f, out)),
                Filter::Not(f) => walk(f, out),
                Filter::Some { pred, .. } => walk(pred, out),
                Filter::Ref { .. } => out.push(f),
                _ => {}
            }
        }
        walk(self, &mut out);
        out
    }

    /// Every field the filter reads (for permission checks).
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_fields(None, &mut out);
        out
    }

    fn collect_fields(&self, table: Option<&str>, out: &mut Vec<String>) {
        let mut push = |f: &FieldRef| {
            out.push(match table {
                Some(t) => format!("{t}.{}", f.name),
                None => f.name.clone(),
            })
        };
        match self {
            Filter::And(p) | Filter::Or(p) => p.iter().for_each(|f| f.collect_fields(table, out)),
            Filter::Not(f) => f.collect_fields(table, out),
            Filter::Cmp { field, .. }
            | Filter::In { field, .. }
            | Filter::Contains { field, .. }
            | Filter::StartsWith { field, .. }
            | Filter::IsNull { field }
            | Filter::Ref { field, .. } => push(field),
            Filter::Some { table: t, pred } => {
                out.push(t.clone());
                pred.collect_fields(Some(t), out)
            }
        }
    }
}

/// Order two JSON scalars of the same type (numbers numerically, text by code point);
/// `None` for different types.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn var_name(v: &Value) -> Option<&str> {
    match v.get("var")? {
        Value::String(s) => Some(s),
        Value::Array(a) => a.first()?.as_str(),
        _ => None,
    }
}

fn var(v: &Value, scope: &Scope, pointer: &str) -> DomainResult<Option<FieldRef>> {
    match var_name(v) {
        Some(name) => scope.resolve(name, pointer).map(Some),
        None => Ok(None),
    }
}

/// `[field, literal]` or `[literal, field]`; the bool says the field came second.
fn field_and_literal(
    a: &Value,
    b: &Value,
    scope: &Scope,
    p: &str,
) -> DomainResult<(FieldRef, Value, bool)> {
    if let Some(f) = var(a, scope, &format!("{p}/0"))? {
        literal(b, &format!("{p}/1"))?;
        return Ok((f, b.clone(), false));
    }
    if let Some(f) = var(b, scope, &format!("{p}/1"))? {
        literal(a, &format!("{p}/0"))?;
        return Ok((f, a.clone(), true));
    }
    Err(DomainError::bad_request(
        p,
        "filter",
        "a comparison needs one field ({\"var\": …}) and one value",
    ))
}

fn literal(v: &Value, p: &str) -> DomainResult<()> {
    match v {
        Value::Object(_) | Value::Array(_) => Err(DomainError::bad_request(
            p,
            "filter",
            "compare a field with a literal value (expressions are not supported in filters)",
        )),
        _ => Ok(()),
    }
}

fn check_literal(field: &FieldRef, v: &Value, p: &str, allowed: &[JsonType]) -> DomainResult<()> {
    let lit_ty = match v {
        Value::String(_) => JsonType::String,
        Value::Number(_) => JsonType::Number,
        Value::Bool(_) => JsonType::Boolean,
        _ => JsonType::Any,
    };
    if field.ty == lit_ty && allowed.contains(&lit_ty) {
        Ok(())
    } else {
        Err(DomainError::bad_request(
            p,
            "type",
            format!(
                "{} holds {:?} values; {v} cannot be compared with it here",
                field.name, field.ty
            ),
        ))
    }
}
