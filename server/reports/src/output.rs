//! A grouped frame turned into the result rows the API returns.

use chrono::{DateTime, SecondsFormat, Utc};
use polars::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::bucket::{self, TimeBucket, local_midnight};
use crate::cache::internal;
use crate::measures::OutKind;
use crate::{Bucket, ColType, Query, ReportError};

/// One dimension value of a result row: what to show and, for buckets, the half-open
/// range of the field it covers (in filter literals: dates, instants or numbers).
#[derive(Debug, Clone, Serialize)]
pub struct DimCell {
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(Value, Value)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutRow {
    pub dims: Vec<DimCell>,
    pub measures: Vec<Value>,
    /// The rows behind this one.
    pub rows: i64,
    /// The gathered rest of a top-N.
    pub others: bool,
    /// The ids of the records behind this row, when the query asked for them and there
    /// are no more than it allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub rows: Vec<OutRow>,
    /// Rows the report read after the caller's scope and its filter.
    pub total_rows: i64,
    /// The values of the first dimension kept by a top-N (to drill into "others").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<Vec<Value>>,
}

fn any_json(v: AnyValue) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => json!(b),
        AnyValue::Int8(n) => json!(n),
        AnyValue::Int16(n) => json!(n),
        AnyValue::Int32(n) => json!(n),
        AnyValue::Int64(n) => json!(n),
        AnyValue::UInt8(n) => json!(n),
        AnyValue::UInt16(n) => json!(n),
        AnyValue::UInt32(n) => json!(n),
        AnyValue::UInt64(n) => json!(n),
        AnyValue::Float32(f) if f.is_finite() => json!(f),
        AnyValue::Float64(f) if f.is_finite() => json!(f),
        AnyValue::String(s) => json!(s),
        AnyValue::StringOwned(s) => json!(s.as_str()),
        _ => Value::Null,
    }
}

/// A cached temporal value as the API shows it.
fn temporal(ty: ColType, v: i64) -> Value {
    match ty {
        ColType::Date => bucket::range(v, TimeBucket::Day)
            .map(|(d, _)| json!(d.format("%Y-%m-%d").to_string()))
            .unwrap_or(Value::Null),
        _ => DateTime::<Utc>::from_timestamp_millis(v)
            .map(|t| json!(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
            .unwrap_or(Value::Null),
    }
}

fn dim_cell(d: &crate::Dim, source_ty: ColType, v: Value, tz: chrono_tz::Tz) -> DimCell {
    if v.is_null() {
        return DimCell {
            value: v,
            range: None,
        };
    }
    let n = v.as_i64().unwrap_or_default();
    match d.bucket {
        Some(Bucket::Time(b)) => {
            let range = bucket::range(n, b).map(|(s, e)| match source_ty {
                ColType::Datetime => (json!(local_midnight(s, tz)), json!(local_midnight(e, tz))),
                _ => (
                    json!(s.format("%Y-%m-%d").to_string()),
                    json!(e.format("%Y-%m-%d").to_string()),
                ),
            });
            DimCell {
                value: json!(bucket::label(n, b)),
                range,
            }
        }
        Some(Bucket::Width(w)) => {
            let lo = v.as_f64().unwrap_or_default();
            DimCell {
                value: json!(lo),
                range: Some((json!(lo), json!(lo + w))),
            }
        }
        None if source_ty.is_temporal() => DimCell {
            value: temporal(source_ty, n),
            range: None,
        },
        None => DimCell {
            value: v,
            range: None,
        },
    }
}

pub(crate) fn to_output(
    df: &DataFrame,
    query: &Query,
    src_types: &[ColType],
    kinds: &[OutKind],
    tz: chrono_tz::Tz,
    top: Option<Series>,
) -> Result<Output, ReportError> {
    let get = |name: &str| df.column(name).map_err(internal);
    let dim_cols: Vec<&Column> = (0..query.dimensions.len())
        .map(|i| get(&format!("d{i}")))
        .collect::<Result<_, _>>()?;
    let m_cols: Vec<&Column> = (0..query.measures.len())
        .map(|i| get(&format!("m{i}")))
        .collect::<Result<_, _>>()?;
    let rows_col = get("_rows")?;
    let others_col = df.column("_others").ok();
    let ids_col = df.column("_ids").ok();
    let mut rows = Vec::with_capacity(df.height());
    let mut total = 0;
    for r in 0..df.height() {
        let mut dims = Vec::new();
        for (i, c) in dim_cols.iter().enumerate() {
            let v = any_json(c.get(r).map_err(internal)?);
            dims.push(dim_cell(&query.dimensions[i], src_types[i], v, tz));
        }
        let mut measures = Vec::new();
        for (i, c) in m_cols.iter().enumerate() {
            let v = any_json(c.get(r).map_err(internal)?);
            measures.push(match (kinds[i], v.as_i64()) {
                (OutKind::Temporal(ty), Some(n)) => temporal(ty, n),
                _ => v,
            });
        }
        let n = any_json(rows_col.get(r).map_err(internal)?)
            .as_i64()
            .unwrap_or(0);
        total += n;
        let others = others_col
            .map(|c| c.get(r).map(|v| matches!(v, AnyValue::Boolean(true))))
            .transpose()
            .map_err(internal)?
            .unwrap_or(false);
        let ids = match (ids_col, query.ids) {
            (Some(c), Some(cap)) => match c.get(r).map_err(internal)? {
                AnyValue::List(s) if s.len() <= cap => Some(
                    s.cast(&DataType::Int64)
                        .map_err(internal)?
                        .i64()
                        .map_err(internal)?
                        .into_iter()
                        .flatten()
                        .collect(),
                ),
                _ => None,
            },
            _ => None,
        };
        rows.push(crate::OutRow {
            dims,
            measures,
            rows: n,
            others,
            ids,
        });
    }
    let top = top.map(|s| {
        (0..s.len())
            .map(|i| {
                let v = s.get(i).map(any_json).unwrap_or(Value::Null);
                dim_cell(&query.dimensions[0], src_types[0], v, tz).value
            })
            .collect()
    });
    Ok(Output {
        rows,
        total_rows: total,
        top,
    })
}
