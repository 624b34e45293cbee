//! Which columns a form's report cache has, and a record's cells in them.
//!
//! One column per field a report can group, filter or aggregate by: text-like fields
//! (text, select, member, department, serial, …; not long text, which nobody groups by and
//! which would be most of the memory) as text; numbers, money and number
//! formulas as floats; integers and references (record ids) as integers; dates and
//! date-times; booleans; each part of a region (`region.province`). Lists (multi-select,
//! sub-tables, attachments) and signatures are not columns. System columns keep the
//! names the list API uses (`_id`, `_owner`, `_created_at`, …).

use formwork_reports::{Cell, ColType, RECORD, ROW_BITS};
use serde_json::Value;
use std::borrow::Cow;

use crate::schema::definition::CompiledForm;
use crate::schema::field_types::FieldKind;
use crate::schema::model::{FieldSpec, JsonType};

#[derive(Debug, Clone, PartialEq)]
pub enum Src {
    Id,
    Owner,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
    Data(Vec<String>),
    /// In a cache of sub-table rows: the record the row belongs to.
    Record,
    /// In a cache of sub-table rows: a column of the row (by its key in the row).
    Cell(String),
}

#[derive(Debug, Clone)]
pub struct Columns {
    /// The form version the columns were made from.
    pub version: i64,
    pub cols: Vec<(String, ColType, Src)>,
    /// Set for a cache of one sub-table's rows: the sub-table's key. Each row then has the
    /// record's columns too (so a report over the rows groups by the record's fields and
    /// joins through its references as a report over the records does), `_record`, and
    /// the row's own columns as `{table}.{column}`.
    pub rows_of: Option<String>,
}

impl Columns {
    pub fn of(form: &CompiledForm) -> Columns {
        let mut cols = vec![
            ("_id".to_owned(), ColType::Int, Src::Id),
            ("_owner".to_owned(), ColType::Text, Src::Owner),
            ("_created_by".to_owned(), ColType::Text, Src::CreatedBy),
            ("_created_at".to_owned(), ColType::Datetime, Src::CreatedAt),
            ("_updated_by".to_owned(), ColType::Text, Src::UpdatedBy),
            ("_updated_at".to_owned(), ColType::Datetime, Src::UpdatedAt),
        ];
        for (key, spec) in &form.model.fields {
            if spec.kind == Some(FieldKind::Region)
                || (spec.kind.is_none() && spec.json_type == JsonType::Object)
            {
                for (child, c) in &spec.children {
                    if let Some(ty) = col_type(c) {
                        cols.push((
                            format!("{key}.{child}"),
                            ty,
                            Src::Data(vec![key.clone(), child.clone()]),
                        ));
                    }
                }
            } else if let Some(ty) = col_type(spec) {
                cols.push((key.clone(), ty, Src::Data(vec![key.clone()])));
            }
        }
        Columns {
            version: form.version,
            cols,
            rows_of: None,
        }
    }

    /// The columns of a cache of the rows of the sub-table `table` (see [`Columns::rows_of`]);
    /// None when the form has no such sub-table.
    pub fn of_rows(form: &CompiledForm, table: &str) -> Option<Columns> {
        let spec = form.model.field(table)?;
        if spec.kind != Some(FieldKind::SubTable) {
            return None;
        }
        let mut out = Columns::of(form);
        out.cols
            .push((RECORD.to_owned(), ColType::Int, Src::Record));
        for (child, c) in &spec.children {
            if let Some(ty) = col_type(c) {
                out.cols
                    .push((format!("{table}.{child}"), ty, Src::Cell(child.clone())));
            }
        }
        out.rows_of = Some(table.to_owned());
        Some(out)
    }

    /// A record's rows in a cache of sub-table rows: the record's own cells (`record`,
    /// made by [`Columns::row`] or [`Columns::row_raw`]) with each row's cells, under the
    /// ids `id << ROW_BITS` + i (rows past 2^ROW_BITS are left out).
    pub fn rows_of_table(&self, id: i64, record: Vec<Cell>, table: &Value) -> Vec<Vec<Cell>> {
        let Some(items) = table.as_array() else {
            return Vec::new();
        };
        items
            .iter()
            .take(1 << ROW_BITS)
            .enumerate()
            .map(|(i, item)| {
                self.cols
                    .iter()
                    .zip(&record)
                    .map(|((_, ty, src), own)| match src {
                        Src::Id => Cell::Int((id << ROW_BITS) + i as i64),
                        Src::Record => Cell::Int(id),
                        Src::Cell(key) => cell(*ty, item.get(key).unwrap_or(&Value::Null)),
                        _ => own.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<ColType> {
        self.cols.iter().find(|c| c.0 == name).map(|c| c.1)
    }

    pub fn types(&self) -> Vec<(String, ColType)> {
        self.cols.iter().map(|(n, t, _)| (n.clone(), *t)).collect()
    }

    /// A record's row: `sys` gives the system values by source.
    pub fn row(&self, id: i64, data: &Value, sys: &dyn Fn(&Src) -> Option<String>) -> Vec<Cell> {
        self.row_by(id, sys, |path| {
            let mut v = data;
            for seg in path {
                v = v.get(seg).unwrap_or(&Value::Null);
            }
            Cow::Borrowed(v)
        })
    }

    /// The row with each data value given by `value` (by its path).
    fn row_by<'a>(
        &self,
        id: i64,
        sys: &dyn Fn(&Src) -> Option<String>,
        value: impl Fn(&[String]) -> Cow<'a, Value>,
    ) -> Vec<Cell> {
        self.cols
            .iter()
            .map(|(_, ty, src)| match src {
                Src::Id => Cell::Int(id),
                Src::Data(path) => cell(*ty, &value(path)),
                Src::Record | Src::Cell(_) => Cell::Null,
                other => sys(other)
                    .map(|s| cell(*ty, &Value::String(s)))
                    .unwrap_or(Cell::Null),
            })
            .collect()
    }
}

/// A record's top-level fields as unparsed JSON: the cache build parses only the values of
/// its columns, not the long texts, sub-tables and file lists beside them.
pub type RawData<'a> = std::collections::HashMap<&'a str, &'a serde_json::value::RawValue>;

impl Columns {
    /// [`Columns::row`] over [`RawData`]: only the columns' values are parsed.
    pub fn row_raw(
        &self,
        id: i64,
        data: &RawData<'_>,
        sys: &dyn Fn(&Src) -> Option<String>,
    ) -> Vec<Cell> {
        self.row_by(id, sys, |path| {
            let Some(raw) = path.first().and_then(|k| data.get(k.as_str())) else {
                return Cow::Owned(Value::Null);
            };
            let top: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
            if path.len() == 1 {
                return Cow::Owned(top);
            }
            let mut v = &top;
            for seg in &path[1..] {
                v = v.get(seg).unwrap_or(&Value::Null);
            }
            Cow::Owned(v.clone())
        })
    }
}

fn col_type(spec: &FieldSpec) -> Option<ColType> {
    use FieldKind as K;
    match spec.kind {
        Some(
            K::Text
            | K::Select
            | K::Email
            | K::CnMobile
            | K::Uscc
            | K::Member
            | K::Department
            | K::Serial,
        ) => Some(ColType::Text),
        Some(K::Number | K::Money) => Some(ColType::Float),
        Some(K::Integer | K::Reference) => Some(ColType::Int),
        Some(K::Date) => Some(ColType::Date),
        Some(K::Datetime) => Some(ColType::Datetime),
        Some(K::Boolean) => Some(ColType::Bool),
        Some(K::Computed) | None => match spec.json_type {
            JsonType::String => Some(ColType::Text),
            JsonType::Number => Some(if spec.schema["type"] == "integer" {
                ColType::Int
            } else {
                ColType::Float
            }),
            JsonType::Boolean => Some(ColType::Bool),
            _ => None,
        },
        Some(
            K::LongText | K::MultiSelect | K::SubTable | K::Attachment | K::Signature | K::Region,
        ) => None,
    }
}

/// A JSON value as a cell of the column type; a value of another type is no value.
pub fn cell(ty: ColType, v: &Value) -> Cell {
    match ty {
        ColType::Float => v.as_f64().map(Cell::Float).unwrap_or(Cell::Null),
        ColType::Int => match (v.as_i64(), v.as_f64()) {
            (Some(n), _) => Cell::Int(n),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Cell::Int(f as i64),
            _ => Cell::Null,
        },
        ColType::Text => v
            .as_str()
            .map(|s| Cell::Text(s.to_owned()))
            .unwrap_or(Cell::Null),
        ColType::Bool => v.as_bool().map(Cell::Bool).unwrap_or(Cell::Null),
        ColType::Date => v
            .as_str()
            .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .map(|d| Cell::Int(formwork_reports::bucket::day_number(d)))
            .unwrap_or(Cell::Null),
        ColType::Datetime => v
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Cell::Int(t.timestamp_millis()))
            .unwrap_or(Cell::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The cache build's partial parse gives the cells a full parse gives.
    #[test]
    fn raw_rows_equal_parsed_rows() {
        let def = json!({"key": "order", "label": {"en": "Order"}, "schema": {
            "type": "object", "properties": {
                "title": {"type": "string", "x-type": "text"},
                "notes": {"type": "string", "x-type": "long_text"},
                "fee": {"type": "number", "x-type": "money"},
                "count": {"type": "integer", "x-type": "integer"},
                "on": {"type": "string", "x-type": "date"},
                "at": {"type": "string", "x-type": "datetime"},
                "ok": {"type": "boolean", "x-type": "boolean"},
                "region": {"type": "object", "x-type": "region",
                           "properties": {"province": {"type": "string"}, "city": {"type": "string"}}}}}});
        let form = crate::schema::definition::compile("a", 1, &def).unwrap();
        let cols = Columns::of(&form);
        let sys = |s: &Src| match s {
            Src::CreatedAt => Some("2026-11-23T01:02:03Z".to_owned()),
            Src::Owner => Some("alice".to_owned()),
            _ => None,
        };
        for text in [
            r#"{"title": "line \"one\"\n", "notes": "long", "fee": 12.5, "count": 3, "on": "2026-02-03", "at": "2026-02-03T10:00:00+08:00", "ok": true, "region": {"province": "北京市", "city": "北京市"}}"#,
            r#"{"title": null, "fee": "not a number", "count": 2.0, "region": {}}"#,
            r#"{}"#,
        ] {
            let data: Value = serde_json::from_str(text).unwrap();
            let raw: RawData<'_> = serde_json::from_str(text).unwrap();
            assert_eq!(
                cols.row_raw(7, &raw, &sys),
                cols.row(7, &data, &sys),
                "{text}"
            );
        }
        // a key with an escape cannot be borrowed: the caller parses such a record whole
        assert!(serde_json::from_str::<RawData<'_>>(r#"{"ti\ntle": 1}"#).is_err());
    }
}
