//! Sorting (`sort=-priority,_created_at`) and opaque cursors for keyset pagination.
//! Ascending order puts empty values first; descending is its exact reverse. The record id
//! always ends the order, so every position is unique.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::cmp::Ordering;

use super::fields::{Col, FieldRef, Scope, SysCol};
use super::filter::compare;
use crate::error::{DomainError, DomainResult};
use crate::schema::model::JsonType;

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub field: FieldRef,
    pub desc: bool,
}

/// Parse `a,-b`; the id is appended (descending when the first key is, or alone: newest first).
pub fn parse_sort(spec: Option<&str>, scope: &Scope) -> DomainResult<Vec<SortKey>> {
    let mut keys = Vec::new();
    for (i, part) in spec
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
    {
        let (desc, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let field = scope.resolve(name, &format!("/sort/{i}"))?;
        if !matches!(
            field.ty,
            JsonType::String | JsonType::Number | JsonType::Boolean
        ) {
            return Err(DomainError::bad_request(
                &format!("/sort/{i}"),
                "sort",
                format!("{name} cannot be sorted (only text, number, date and boolean fields)"),
            ));
        }
        if field.col == Col::System(SysCol::Id) {
            keys.push(SortKey { field, desc });
            return Ok(keys);
        }
        keys.push(SortKey { field, desc });
    }
    let desc = keys.first().map(|k| k.desc).unwrap_or(true);
    keys.push(SortKey {
        field: FieldRef {
            col: Col::System(SysCol::Id),
            ty: JsonType::Number,
            name: "_id".into(),
            kind: None,
        },
        desc,
    });
    Ok(keys)
}

/// The sort-key values of a record (its API representation).
pub fn key_values(keys: &[SortKey], record: &Value) -> Vec<Value> {
    keys.iter()
        .map(|k| k.field.get(record, false).cloned().unwrap_or(Value::Null))
        .collect()
}

pub fn encode_cursor(values: &[Value]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(values).unwrap_or_default())
}

pub fn decode_cursor(cursor: &str, keys: &[SortKey]) -> DomainResult<Vec<Value>> {
    let bad = || {
        DomainError::bad_request(
            "/cursor",
            "cursor",
            "the cursor is not one this list produced",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let values: Vec<Value> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if values.len() != keys.len() || !values.last().is_some_and(Value::is_i64) {
        return Err(bad());
    }
    Ok(values)
}

/// The order the SQL produces, for in-memory checks.
pub fn compare_records(keys: &[SortKey], a: &Value, b: &Value) -> Ordering {
    for k in keys {
        let (x, y) = (k.field.get(a, false), k.field.get(b, false));
        let o = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => compare(x, y).unwrap_or(Ordering::Equal),
        };
        let o = if k.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
