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

/// Relative dates in a filter: `{"var": "today"}` (the app's date, given),
/// `{"add_days": [date, n]}` and `{"start_of": ["week"|"month"|"quarter"|"year"|"day", date]}`
/// (the first day of the period holding the date; weeks start on Monday) become plain dates (`YYYY-MM-DD`), so a saved report can say
/// "expiring in the next 90 days". Compared with a date-time field, a date means its local
/// midnight. Anything else is returned as it is (an `add_days` that does not resolve is left
/// for the checks to refuse).
pub fn resolve_dates(logic: &Value, today: NaiveDate) -> Value {
    match logic {
        Value::Object(o) if o.len() == 1 && o.get("var").is_some_and(|v| v == "today") => {
            Value::String(today.format("%Y-%m-%d").to_string())
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("add_days") => {
            let args: Vec<Value> = o["add_days"]
                .as_array()
                .map(|a| a.iter().map(|x| resolve_dates(x, today)).collect())
                .unwrap_or_default();
            let day = args
                .first()
                .and_then(Value::as_str)
                .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok());
            let n = args
                .get(1)
                .and_then(Value::as_f64)
                .map(|n| n.trunc() as i64);
            match (day, n, args.len()) {
                (Some(d), Some(n), 2) => match d.checked_add_signed(chrono::Duration::days(n)) {
                    Some(out) => Value::String(out.format("%Y-%m-%d").to_string()),
                    None => logic.clone(),
                },
                _ => serde_json::json!({"add_days": args}),
            }
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("start_of") => {
            let args: Vec<Value> = o["start_of"]
                .as_array()
                .map(|a| a.iter().map(|x| resolve_dates(x, today)).collect())
                .unwrap_or_default();
            let bucket = args
                .first()
                .and_then(Value::as_str)
                .and_then(crate::TimeBucket::parse);
            let day = args
                .get(1)
                .and_then(Value::as_str)
                .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok());
            match (bucket, day, args.len()) {
                (Some(b), Some(d), 2) => crate::bucket::range(crate::bucket::date_key(d, b), b)
                    .map(|(start, _)| Value::String(start.format("%Y-%m-%d").to_string()))
                    .unwrap_or_else(|| logic.clone()),
                _ => serde_json::json!({"start_of": args}),
            }
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), resolve_dates(v, today)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| resolve_dates(v, today)).collect()),
        other => other.clone(),
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

/// A side of a comparison: a field, a duration between two fields, or a literal (typed by
/// the other side).
enum Operand<'a> {
    Field(Expr, ColType),
    Number(Expr),
    Literal(&'a Value),
}

fn operand<'a>(v: &'a Value, types: &Types, pointer: &str) -> Result<Operand<'a>, ReportError> {
    if let Some(name) = var_name(v) {
        let ty = *types
            .get(name)
            .ok_or_else(|| invalid(pointer, format!("no field {name:?}")))?;
        return Ok(Operand::Field(col(name), ty));
    }
    let between = v.as_object().filter(|o| o.len() == 1).and_then(|o| {
        o.get("hours_between")
            .map(|a| ("hours_between", a))
            .or_else(|| o.get("days_between").map(|a| ("days_between", a)))
    });
    if let Some((op, args)) = between {
        let at = format!("{pointer}/{op}");
        let pair = args
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| invalid(&at, format!("{op} takes two fields")))?;
        let (a, b) = (var_name(&pair[0]), var_name(&pair[1]));
        let (Some(a), Some(b)) = (a, b) else {
            return Err(invalid(&at, format!("{op} takes two fields")));
        };
        let (ta, tb) = (types.get(a).copied(), types.get(b).copied());
        let want = if op == "hours_between" {
            ColType::Datetime
        } else {
            ColType::Date
        };
        if ta != Some(want) || tb != Some(want) {
            return Err(invalid(
                &at,
                format!("{op} takes two {} fields", want.name()),
            ));
        }
        let diff = (col(b) - col(a)).cast(DataType::Float64);
        // Date-times are milliseconds; dates whole days.
        return Ok(Operand::Number(if op == "hours_between" {
            diff / lit(3_600_000.0)
        } else {
            diff
        }));
    }
    if v.is_object() || v.is_array() {
        return Err(invalid(
            pointer,
            "a comparison takes fields, hours_between, days_between or values",
        ));
    }
    Ok(Operand::Literal(v))
}

/// Two sides of a comparison as comparable expressions.
fn operands(
    a: &Value,
    b: &Value,
    types: &Types,
    tz: Tz,
    pointer: &str,
) -> Result<(Expr, Expr), ReportError> {
    let (x, y) = (operand(a, types, pointer)?, operand(b, types, pointer)?);
    let num = |v: &Value| {
        v.as_f64()
            .map(lit)
            .ok_or_else(|| invalid(pointer, format!("{v} is not a number")))
    };
    Ok(match (x, y) {
        (Operand::Field(c, ty), Operand::Literal(v)) => (c, literal(ty, v, tz, pointer)?),
        (Operand::Literal(v), Operand::Field(c, ty)) => (literal(ty, v, tz, pointer)?, c),
        (Operand::Number(e), Operand::Literal(v)) => (e, num(v)?),
        (Operand::Literal(v), Operand::Number(e)) => (num(v)?, e),
        (Operand::Number(e), Operand::Number(f)) => (e, f),
        (Operand::Number(e), Operand::Field(c, ty))
        | (Operand::Field(c, ty), Operand::Number(e))
            if ty.is_numeric() =>
        {
            let c = c.cast(DataType::Float64);
            if var_name(a).is_some() {
                (c, e)
            } else {
                (e, c)
            }
        }
        (Operand::Field(c, t), Operand::Field(d, u))
            if t == u || (t.is_numeric() && u.is_numeric()) =>
        {
            (c, d)
        }
        (Operand::Literal(_), Operand::Literal(_)) => {
            return Err(invalid(pointer, "a comparison needs a field"));
        }
        _ => return Err(invalid(pointer, "the two sides are of different types")),
    })
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
            let eq = op == "==" || op == "===";
            // `== null` / `!= null`: whether the field holds a value.
            for (a, b) in [(list[0], list[1]), (list[1], list[0])] {
                if b.is_null() && var_name(a).is_some() {
                    let (c, _) = column(a, &p)?;
                    return Ok(if eq { c.is_null() } else { c.is_not_null() });
                }
            }
            let (a, b) = operands(list[0], list[1], types, tz, &p)?;
            Ok(if eq {
                a.eq(b).fill_null(lit(false))
            } else {
                a.neq(b).fill_null(lit(true))
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
                    let (a, b) = operands(list[0], list[1], types, tz, &p)?;
                    Ok(cmp(a, b).fill_null(lit(false)))
                }
                3 if op == "<" || op == "<=" => {
                    let (lo, mid) = operands(list[0], list[1], types, tz, &p)?;
                    let (_, hi) = operands(list[1], list[2], types, tz, &p)?;
                    Ok(cmp(lo, mid.clone()).and(cmp(mid, hi)).fill_null(lit(false)))
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
