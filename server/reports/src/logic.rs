//! Report filters: the JSON Logic subset of the list API's filters, turned into polars
//! expressions with the same two-valued meaning — a comparison is true only when the field
//! holds a value, so a missing value fails `==`, `<`, … and passes `!=`.

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use polars::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

use crate::bucket::{day_number, local_midnight};
use crate::{ColType, ReportError};

pub type Types = HashMap<String, ColType>;

fn invalid(pointer: &str, message: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// The field a `{"var": name}` names.
fn var_name(v: &Value) -> Option<&str> {
    v.as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("var"))
        .and_then(Value::as_str)
}

/// The fields a filter reads.
pub fn fields(logic: &Value, out: &mut Vec<String>) {
    match logic {
        Value::Object(o) => {
            if let Some(n) = var_name(logic) {
                out.push(n.to_owned());
                return;
            }
            for v in o.values() {
                fields(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| fields(v, out)),
        _ => {}
    }
}

/// A literal in the column's representation in the cache.
pub fn literal(ty: ColType, v: &Value, tz: Tz, pointer: &str) -> Result<Expr, ReportError> {
    let bad = || invalid(pointer, format!("{v} is not a {} value", ty.name()));
    Ok(match ty {
        ColType::Float => lit(v.as_f64().ok_or_else(bad)?),
        ColType::Int => match v.as_i64() {
            Some(n) => lit(n),
            None => lit(v.as_f64().ok_or_else(bad)?),
        },
        ColType::Text => lit(v.as_str().ok_or_else(bad)?.to_owned()),
        ColType::Bool => lit(v.as_bool().ok_or_else(bad)?),
        ColType::Date => {
            let d = NaiveDate::parse_from_str(v.as_str().ok_or_else(bad)?, "%Y-%m-%d")
                .map_err(|_| bad())?;
            lit(day_number(d))
        }
        ColType::Datetime => lit(instant_ms(v.as_str().ok_or_else(bad)?, tz).ok_or_else(bad)?),
    })
}

/// Milliseconds of an RFC 3339 instant, or of local midnight of a plain date.
pub fn instant_ms(s: &str, tz: Tz) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    DateTime::parse_from_rfc3339(&local_midnight(d, tz))
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The polars predicate of a filter.
pub fn predicate(logic: &Value, types: &Types, tz: Tz, pointer: &str) -> Result<Expr, ReportError> {
    let Some((op, args)) = logic
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return Err(invalid(pointer, "a filter is an object with one operator"));
    };
    let p = format!("{pointer}/{op}");
    let list: Vec<&Value> = match args {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let column = |v: &Value, at: &str| -> Result<(Expr, ColType), ReportError> {
        let name = var_name(v).ok_or_else(|| invalid(at, "expected {\"var\": field}"))?;
        let ty = *types
            .get(name)
            .ok_or_else(|| invalid(at, format!("no field {name:?}")))?;
        Ok((col(name), ty))
    };
    match op.as_str() {
        "and" | "or" => {
            if list.is_empty() {
                return Err(invalid(&p, format!("{op} needs at least one condition")));
            }
            let mut parts = list
                .iter()
                .enumerate()
                .map(|(i, v)| predicate(v, types, tz, &format!("{p}/{i}")));
            let mut acc = parts.next().expect("non-empty")?;
            for e in parts {
                acc = if op == "and" { acc.and(e?) } else { acc.or(e?) };
            }
            Ok(acc)
        }
        "!" => {
            if list.len() != 1 {
                return Err(invalid(&p, "! takes one condition"));
            }
            Ok(predicate(list[0], types, tz, &format!("{p}/0"))?.not())
        }
        "==" | "===" | "!=" | "!==" => {
            if list.len() != 2 {
                return Err(invalid(&p, format!("{op} takes two arguments")));
            }
            let (field, value) = if var_name(list[0]).is_some() {
                (list[0], list[1])
            } else {
                (list[1], list[0])
            };
            let (c, ty) = column(field, &p)?;
            let eq = op == "==" || op == "===";
            if value.is_null() {
                return Ok(if eq { c.is_null() } else { c.is_not_null() });
            }
            let v = literal(ty, value, tz, &p)?;
            Ok(if eq {
                c.eq(v).fill_null(lit(false))
            } else {
                c.neq(v).fill_null(lit(true))
            })
        }
        "<" | "<=" | ">" | ">=" => {
            let cmp = |a: Expr, b: Expr| match op.as_str() {
                "<" => a.lt(b),
                "<=" => a.lt_eq(b),
                ">" => a.gt(b),
                _ => a.gt_eq(b),
            };
            match list.len() {
                2 => {
                    let flipped = var_name(list[0]).is_none();
                    let (field, value) = if flipped {
                        (list[1], list[0])
                    } else {
                        (list[0], list[1])
                    };
                    let (c, ty) = column(field, &p)?;
                    let v = literal(ty, value, tz, &p)?;
                    let e = if flipped { cmp(v, c) } else { cmp(c, v) };
                    Ok(e.fill_null(lit(false)))
                }
                3 if op == "<" || op == "<=" => {
                    let (c, ty) = column(list[1], &format!("{p}/1"))?;
                    let lo = literal(ty, list[0], tz, &format!("{p}/0"))?;
                    let hi = literal(ty, list[2], tz, &format!("{p}/2"))?;
                    Ok(cmp(lo, c.clone()).and(cmp(c, hi)).fill_null(lit(false)))
                }
                _ => Err(invalid(
                    &p,
                    format!("{op} takes two arguments (or three for between)"),
                )),
            }
        }
        "in" => {
            if list.len() != 2 {
                return Err(invalid(&p, "in takes two arguments"));
            }
            let (c, ty) = column(list[0], &format!("{p}/0"))?;
            let Value::Array(values) = list[1] else {
                return Err(invalid(&p, "in takes a field and a list of values"));
            };
            let mut acc: Option<Expr> = None;
            for (i, v) in values.iter().enumerate() {
                let e = c.clone().eq(literal(ty, v, tz, &format!("{p}/1/{i}"))?);
                acc = Some(match acc {
                    Some(a) => a.or(e),
                    None => e,
                });
            }
            Ok(acc.unwrap_or(lit(false)).fill_null(lit(false)))
        }
        other => Err(invalid(
            &p,
            format!("{other} is not a report filter operator"),
        )),
    }
}

/// Whether a filter can run over columns of these types (its problems, located).
pub fn check(logic: &Value, types: &Types, tz: Tz, pointer: &str) -> Result<(), ReportError> {
    predicate(logic, types, tz, pointer).map(|_| ())
}
