//! Spreadsheet cells ↔ field values, for import and export. A cell is text (CSV) or a typed
//! XLSX value; each field kind says how it is read and written.

use serde_json::{Number, Value, json};

use crate::schema::field_types::FieldKind;
use crate::schema::model::{FieldSpec, JsonType};

/// One cell as read from a file.
#[derive(Debug, Clone)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
}

/// Read a cell into a field value; `Err` says why it cannot be.
pub fn read(field: &FieldSpec, cell: Cell) -> Result<Option<Value>, String> {
    let text = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(t) if t.trim().is_empty() => return Ok(None),
        Cell::Text(t) => t,
        Cell::Number(n) => return number_cell(field, n).map(Some),
        Cell::Bool(b) => return Ok(Some(Value::Bool(b))),
    };
    let t = text.trim();
    let v = match (field.kind, field.json_type) {
        (Some(FieldKind::MultiSelect), _) => Value::Array(
            t.split([';', '；', ',', '，'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| json!(s))
                .collect(),
        ),
        (Some(FieldKind::Region), _) if !t.starts_with('{') => {
            let parts: Vec<&str> = t.split('/').map(str::trim).collect();
            let mut m = serde_json::Map::new();
            for (k, p) in ["province", "city", "district"].iter().zip(parts) {
                if !p.is_empty() {
                    m.insert((*k).into(), json!(p));
                }
            }
            Value::Object(m)
        }
        (_, JsonType::Number) => {
            let n: f64 = t
                .replace(',', "")
                .parse()
                .map_err(|_| format!("{t:?} is not a number"))?;
            number_cell(field, n)?
        }
        (_, JsonType::Boolean) => match t.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "对" => Value::Bool(true),
            "false" | "no" | "n" | "0" | "否" | "不" => Value::Bool(false),
            _ => return Err(format!("{t:?} is not yes/no")),
        },
        (_, JsonType::Array | JsonType::Object) => {
            serde_json::from_str(t).map_err(|_| format!("{t:?} is not JSON"))?
        }
        _ => Value::String(text),
    };
    Ok(Some(v))
}

fn number_cell(field: &FieldSpec, n: f64) -> Result<Value, String> {
    match field.json_type {
        JsonType::String => Ok(Value::String(if n.fract() == 0.0 {
            format!("{}", n as i64)
        } else {
            n.to_string()
        })),
        JsonType::Boolean => Ok(Value::Bool(n != 0.0)),
        _ => {
            let integer = matches!(field.kind, Some(FieldKind::Integer | FieldKind::Reference))
                || field.schema.get("type") == Some(&json!("integer"));
            if integer || n.fract() == 0.0 && n.abs() < 9e15 {
                if n.fract() != 0.0 {
                    return Err(format!("{n} is not a whole number"));
                }
                Ok(Value::Number(Number::from(n as i64)))
            } else {
                Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{n} is not a number"))
            }
        }
    }
}

/// A value as text for CSV, with spreadsheet-formula injection neutralised.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => neutralise(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) if a.iter().all(|x| x.is_string() || x.is_number()) => neutralise(
            &a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(";"),
        ),
        other => neutralise(&other.to_string()),
    }
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
/// leading apostrophe (OWASP CSV injection guidance).
pub fn neutralise(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_numbers_are_not() {
        assert_eq!(
            to_text(&json!("=HYPERLINK(\"http://x\")")),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(to_text(&json!("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(to_text(&json!(-5)), "-5");
        assert_eq!(to_text(&json!("plain")), "plain");
    }
}
