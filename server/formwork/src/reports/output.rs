//! A run's result as the API answers it: columns, rows with their cells, the number of
//! records behind each row, and a list-API filter to drill down to them.

use formwork_reports::{Bucket, Output};
use serde_json::{Map, Value, json};

use super::definition::{MeasureDef, ReportDef};

pub fn shape(
    def: &ReportDef,
    kept: &[&MeasureDef],
    out: &Output,
    meta: Value,
    withheld: Vec<Value>,
    extra: Option<&Value>,
    drills: Drills<'_>,
) -> Value {
    let mut columns = Vec::new();
    for d in &def.dims {
        let mut c = json!({"key": d.key, "kind": "dimension", "label": d.label});
        match &d.duration {
            Some((from, to, unit)) => {
                c["duration"] =
                    json!({"from": from, "to": to, "unit": format!("{unit:?}").to_lowercase()})
            }
            None => c["field"] = json!(d.field),
        }
        match d.bucket {
            Some(Bucket::Time(b)) => c["bucket"] = json!(b.name()),
            Some(Bucket::Width(w)) => c["bucket"] = json!({"width": w}),
            None => {}
        }
        columns.push(c);
    }
    for m in kept {
        columns.push(json!({"key": m.key, "kind": "measure", "agg": super::definition::agg_name(m.agg), "label": m.label}));
    }
    let mut base: Vec<Value> = Vec::new();
    if let Some(f) = &def.filter {
        base.push(f.clone());
    }
    if let Some(f) = extra {
        base.push(f.clone());
    }
    let rows: Vec<Value> = out
        .rows
        .iter()
        .map(|r| {
            let mut cells = Map::new();
            for (d, c) in def.dims.iter().zip(&r.dims) {
                cells.insert(d.key.clone(), c.value.clone());
            }
            for (m, v) in kept.iter().zip(&r.measures) {
                cells.insert(m.key.clone(), v.clone());
            }
            let mut row = json!({"cells": cells, "rows": r.rows, "others": r.others});
            // Over a sub-table's rows: the records they belong to (the run's last measure),
            // which a drill lists.
            if def.rows.is_some() {
                row["records"] = r.measures.get(kept.len()).cloned().unwrap_or(json!(0));
            }
            let Drills {
                paths,
                wheres,
                rows_of,
            } = drills;
            // A filter describing the row, else the ids of its records (when listed).
            let d = paths
                .and_then(|paths| drill(paths, r, out.top.as_deref(), &base, rows_of))
                .or_else(|| {
                    r.ids
                        .as_ref()
                        .map(|ids| json!({"in": [{"var": "_id"}, ids]}))
                });
            if let Some(d) = d {
                let mut drills = Map::new();
                for (m, w) in kept.iter().zip(wheres) {
                    if let Some(w) = w {
                        drills.insert(m.key.clone(), json!({"and": [d, w]}));
                    }
                }
                if !drills.is_empty() {
                    row["drills"] = Value::Object(drills);
                }
                row["drill"] = d;
            }
            row
        })
        .collect();
    let mut answer = json!({
        "form": def.form,
        "label": def.label,
        "columns": columns,
        "rows": rows,
        "withheld": withheld,
        "total_rows": out.total_rows,
        "chart": def.chart,
    });
    if let (Some(m), Some(o)) = (meta.as_object(), answer.as_object_mut()) {
        for (k, v) in m {
            o.insert(k.clone(), v.clone());
        }
    }
    answer
}

/// The most record ids a row's drill lists (when no filter describes the row).
pub const DRILL_IDS: usize = 1000;

/// What the drills of a run are made of.
#[derive(Clone, Copy)]
pub struct Drills<'a> {
    /// Each dimension's path, when the list API can filter by them all.
    pub paths: Option<&'a [DrillPath]>,
    /// Each kept measure's `where`, when the list API understands it.
    pub wheres: &'a [Option<Value>],
    /// Over a sub-table's rows: the table and one of its columns.
    pub rows_of: Option<(&'a str, &'a str)>,
}

/// Where a dimension's value is, for a drill: the reference fields leading to the form
/// that holds it (none for the source form's own fields), the field there, and whether the
/// dimension is bucketed.
pub struct DrillPath {
    pub refs: Vec<String>,
    pub local: String,
    pub bucketed: bool,
    /// A column of the sub-table whose rows the report counts (`local` names it in the
    /// row): its condition goes inside one `some` over the table.
    pub in_row: bool,
}

impl DrillPath {
    /// `pred` (over the field's own form) as a filter on the source form: each reference
    /// hop becomes a `ref` (the referenced record exists, is visible, and matches).
    fn reach(&self, pred: Value) -> Value {
        self.refs
            .iter()
            .rev()
            .fold(pred, |inner, field| json!({"ref": [{"var": field}, inner]}))
    }

    /// The records whose value is null: through a reference also those whose referenced
    /// record is missing or out of sight (a report joins them as empty values).
    fn null(&self) -> Value {
        let var = json!({"var": self.local});
        if self.refs.is_empty() {
            json!({"==": [var, null]})
        } else {
            json!({"!": self.reach(json!({"!=": [var, null]}))})
        }
    }
}

/// The list-API filter selecting the records behind a row, when it can be written.
/// Over a sub-table's rows (`table`), the conditions on the rows' own columns hold for one
/// and the same row: `{"some": [{"var": table}, {"and": […]}]}`, so the records listed are
/// those with a row in the group.
fn drill(
    paths: &[DrillPath],
    r: &formwork_reports::OutRow,
    top: Option<&[Value]>,
    base: &[Value],
    table: Option<(&str, &str)>,
) -> Option<Value> {
    let mut record: Vec<Value> = base.to_vec();
    let mut row: Vec<Value> = Vec::new();
    for (i, (d, c)) in paths.iter().zip(&r.dims).enumerate() {
        let parts = if d.in_row { &mut row } else { &mut record };
        let var = json!({"var": d.local});
        if i == 0 && r.others {
            // The gathered rest: none of the kept values.
            if d.bucketed {
                return None;
            }
            let kept: Vec<Value> = top?.iter().filter(|v| !v.is_null()).cloned().collect();
            parts.push(json!({"!": d.reach(json!({"in": [var.clone(), kept]}))}));
            if top?.iter().any(Value::is_null) {
                parts.push(d.reach(json!({"!=": [var, null]})));
            }
            continue;
        }
        match (&c.range, &c.value) {
            (Some((lo, hi)), _) => {
                let both = json!({"and": [{">=": [var.clone(), lo]}, {"<": [var, hi]}]});
                if d.refs.is_empty() {
                    parts.push(json!({">=": [var.clone(), lo]}));
                    parts.push(json!({"<": [var, hi]}));
                } else {
                    parts.push(d.reach(both));
                }
            }
            (None, Value::Null) => parts.push(d.null()),
            // A plain date-time compares as text in the list API: no exact drill.
            (None, Value::String(s)) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
                return None;
            }
            (None, v) => parts.push(d.reach(json!({"==": [var, v]}))),
        }
    }
    if let Some((t, column)) = table {
        // Some row, and with row conditions some row meeting all of them.
        let any = json!({"var": column});
        let inner = match row.len() {
            0 => json!({"or": [{"==": [any.clone(), null]}, {"!=": [any, null]}]}),
            1 => row.remove(0),
            _ => json!({"and": row}),
        };
        record.push(json!({"some": [{"var": t}, inner]}));
    }
    let mut parts = record;
    Some(match parts.len() {
        0 => json!({"!=": [{"var": "_id"}, null]}),
        1 => parts.remove(0),
        _ => json!({"and": parts}),
    })
}
