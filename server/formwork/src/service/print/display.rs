//! Values as staff read them on a printed page: labels in the locale, option labels,
//! money with its currency, date-times in the app's time zone, people's and departments'
//! names, referenced records by their display field.

use serde_json::{Map, Value, json};
use std::collections::HashMap;

use crate::schema::field_types::FieldKind;
use crate::schema::model::FieldSpec;

/// What a page is made of besides the record: names of people, departments and referenced
/// records (ids → text), in the caller's sight.
#[derive(Default)]
pub(super) struct Names {
    pub(super) users: HashMap<String, String>,
    pub(super) departments: HashMap<String, String>,
    /// (form, id) → the referenced record's data, through the caller's mask.
    pub(super) records: HashMap<(String, i64), Value>,
}

/// A label in the locale, else in any, else the key.
pub(super) fn label(schema: &Value, key: &str, locale: &str) -> String {
    let l = schema.get("x-label").or_else(|| schema.get("label"));
    match l {
        Some(Value::Object(m)) => m
            .get(locale)
            .or_else(|| m.values().next())
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_owned(),
        Some(Value::String(s)) => s.clone(),
        _ => key.to_owned(),
    }
}

pub(super) fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Every field's display text (a sub-table: a list of rows of display texts).
pub(super) fn display_all(
    fields: &indexmap::IndexMap<String, FieldSpec>,
    data: &Value,
    locale: &str,
    names: &Names,
    tz: chrono_tz::Tz,
) -> Value {
    let mut out = Map::new();
    for (k, f) in fields {
        let v = &data[k];
        if v.is_null() {
            continue;
        }
        let shown = if f.kind == Some(FieldKind::SubTable) {
            Value::Array(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|row| {
                        Value::Object(
                            f.children
                                .iter()
                                .filter(|(c, _)| !row[c.as_str()].is_null())
                                .map(|(c, cf)| {
                                    (c.clone(), json!(text(cf, &row[c], locale, names, tz)))
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            )
        } else {
            json!(text(f, v, locale, names, tz))
        };
        out.insert(k.clone(), shown);
    }
    Value::Object(out)
}

/// One value as text, the way staff read it.
fn text(f: &FieldSpec, v: &Value, locale: &str, names: &Names, tz: chrono_tz::Tz) -> String {
    let zh = locale == "zh-CN";
    let option = |s: &str| {
        f.schema
            .pointer("/x-options")
            .or_else(|| f.schema.pointer("/items/x-options"))
            .and_then(|o| o.get(s))
            .map(|l| label(&json!({"label": l}), s, locale))
            .unwrap_or_else(|| s.to_owned())
    };
    match (f.kind, v) {
        (Some(FieldKind::Select), Value::String(s)) => option(s),
        (Some(FieldKind::MultiSelect), Value::Array(a)) => a
            .iter()
            .map(|x| option(&plain(x)))
            .collect::<Vec<_>>()
            .join(if zh { "、" } else { ", " }),
        (_, Value::Bool(b)) => match (b, zh) {
            (true, true) => "是".into(),
            (false, true) => "否".into(),
            (true, false) => "Yes".into(),
            (false, false) => "No".into(),
        },
        (Some(FieldKind::Money), Value::Number(n)) => {
            let amount = format!("{:.2}", n.as_f64().unwrap_or(0.0));
            match f.schema["x-currency"].as_str() {
                Some(c) => format!("{amount} {c}"),
                None => amount,
            }
        }
        (Some(FieldKind::Datetime), Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| s.clone()),
        (Some(FieldKind::Member), Value::String(s)) => {
            names.users.get(s).cloned().unwrap_or_else(|| s.clone())
        }
        (Some(FieldKind::Department), Value::String(s)) => names
            .departments
            .get(s)
            .cloned()
            .unwrap_or_else(|| s.clone()),
        (Some(FieldKind::Reference), Value::Number(n)) => {
            let id = n.as_i64().unwrap_or_default();
            // The field `x-ref.display` names, when the caller may read it.
            f.ref_form
                .as_ref()
                .and_then(|form| names.records.get(&(form.clone(), id)))
                .zip(f.schema["x-ref"]["display"].as_str())
                .and_then(|(d, field)| d.get(field).filter(|v| !v.is_null()))
                .map(plain)
                .unwrap_or_else(|| format!("#{id}"))
        }
        (Some(FieldKind::Region), Value::Object(m)) => ["province", "city", "district"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" / "),
        (Some(FieldKind::Attachment), Value::Array(a)) => a
            .iter()
            .filter_map(|x| x["name"].as_str())
            .collect::<Vec<_>>()
            .join(", "),
        (Some(FieldKind::Signature), Value::Object(m)) => {
            m.get("name").map(plain).unwrap_or_default()
        }
        (_, other) => plain(other),
    }
}
