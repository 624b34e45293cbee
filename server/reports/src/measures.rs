//! The expressions of a report's measures and dimensions: values computed before
//! grouping, the aggregations, the corrections and derived measures after them.

use polars::prelude::*;

use crate::bucket::TimeBucket;
use crate::cache::bucket_column;
use crate::logic::{Types, predicate};
use crate::run::invalid;
use crate::{Agg, Bucket, ColType, DurationUnit, Query, ReportError, Value_};

fn unit_factor(ty: ColType, unit: DurationUnit) -> f64 {
    let minutes = match unit {
        DurationUnit::Minutes => 1.0,
        DurationUnit::Hours => 60.0,
        DurationUnit::Days => 1440.0,
        DurationUnit::Years => 1440.0 * 365.25,
    };
    match ty {
        // milliseconds → unit
        ColType::Datetime => 1.0 / (60_000.0 * minutes),
        // days → unit
        _ => 1440.0 / minutes,
    }
}

/// The expression of a measure's value, and its type.
fn value_expr(v: &Value_, types: &Types, pointer: &str) -> Result<(Expr, ColType), ReportError> {
    let ty_of = |c: &str| {
        types
            .get(c)
            .copied()
            .ok_or_else(|| invalid(pointer, format!("no field {c:?}")))
    };
    match v {
        Value_::Column(c) => Ok((col(c.as_str()), ty_of(c)?)),
        Value_::Duration { from, to, unit } => {
            let (a, b) = (ty_of(from)?, ty_of(to)?);
            if !a.is_temporal() || !b.is_temporal() {
                return Err(invalid(
                    pointer,
                    format!(
                        "a duration runs between two dates or date-times ({from}: {}, {to}: {})",
                        a.name(),
                        b.name()
                    ),
                ));
            }
            let e = if a == b {
                (col(to.as_str()) - col(from.as_str())).cast(DataType::Float64)
                    * lit(unit_factor(a, *unit))
            } else {
                // A date and a date-time: whole days between their local dates.
                let day = |c: &str| col(bucket_column(c, TimeBucket::Day).as_str());
                (day(to) - day(from)).cast(DataType::Float64)
                    * lit(unit_factor(ColType::Date, *unit))
            };
            Ok((e, ColType::Float))
        }
    }
}

/// How a measure's output is shown.
#[derive(Clone, Copy)]
pub(crate) enum OutKind {
    Number,
    Temporal(ColType),
}

/// The aggregations, the expressions computed after them (ratios), and how each measure
/// is shown.
pub(crate) struct Measures {
    /// Values computed before grouping.
    pub(crate) pre: Vec<Expr>,
    pub(crate) aggs: Vec<Expr>,
    /// Corrections after grouping (a sum of no values is empty), then ratios.
    pub(crate) fix: Vec<Expr>,
    pub(crate) after: Vec<Expr>,
    pub(crate) kinds: Vec<OutKind>,
}

pub(crate) fn measure_exprs(
    query: &Query,
    types: &Types,
    tz: chrono_tz::Tz,
) -> Result<Measures, ReportError> {
    // Values are computed before grouping (`#v{i}`), so that each aggregation is a plain
    // one over a column: polars runs those on its fast grouped paths, where a cast, a
    // filter or a when/then inside the aggregation is evaluated group by group.
    let mut pre = Vec::new();
    let mut aggs = Vec::new();
    let mut fix = Vec::new();
    let mut after = Vec::new();
    let mut kinds = Vec::new();
    for (i, m) in query.measures.iter().enumerate() {
        let p = format!("/measures/{i}");
        let name = format!("m{i}");
        // (`#` keeps it apart from the form's own columns: a field may be called `v0`.)
        let v = format!("#v{i}");
        let cond = m
            .filter
            .as_ref()
            .map(|f| predicate(f, types, tz, &format!("{p}/where")))
            .transpose()?;
        let value = m
            .value
            .as_ref()
            .map(|v| value_expr(v, types, &format!("{p}/field")))
            .transpose()?;
        let need_value = || {
            value
                .clone()
                .ok_or_else(|| invalid(&p, format!("{:?} needs a field", m.agg).to_lowercase()))
        };
        let numeric = |(e, ty): (Expr, ColType)| -> Result<Expr, ReportError> {
            if ty.is_numeric() {
                Ok(e.cast(DataType::Float64))
            } else {
                Err(invalid(
                    &format!("{p}/field"),
                    format!("{:?} needs a number, not {}", m.agg, ty.name()).to_lowercase(),
                ))
            }
        };
        // Rows outside the measure's own condition count as no value.
        let only = |e: Expr| match &cond {
            Some(c) => when(c.clone()).then(e).otherwise(lit(NULL)),
            None => e,
        };
        let vc = || col(v.as_str());
        let mut kind = OutKind::Number;
        let e = match m.agg {
            Agg::Count => match &cond {
                Some(c) => {
                    pre.push(c.clone().cast(DataType::Int64).alias(v.as_str()));
                    vc().sum()
                }
                None => len().cast(DataType::Int64),
            },
            Agg::CountValues => {
                pre.push(only(need_value()?.0).alias(v.as_str()));
                vc().count().cast(DataType::Int64)
            }
            Agg::CountDistinct => {
                // n_unique counts a missing value as one more value.
                pre.push(only(need_value()?.0).alias(v.as_str()));
                let nulls = format!("z{i}");
                aggs.push(
                    vc().null_count()
                        .gt(lit(0))
                        .cast(DataType::Int64)
                        .alias(nulls.as_str()),
                );
                fix.push(
                    (col(name.as_str()).cast(DataType::Int64) - col(nulls.as_str()))
                        .alias(name.as_str()),
                );
                vc().n_unique()
            }
            // As in SQL: the sum of no values is no value, not 0.
            Agg::Sum => {
                pre.push(only(numeric(need_value()?)?).alias(v.as_str()));
                let n = format!("n{i}");
                aggs.push(vc().count().alias(n.as_str()));
                fix.push(
                    when(col(n.as_str()).eq(lit(0)))
                        .then(lit(NULL).cast(DataType::Float64))
                        .otherwise(col(name.as_str()))
                        .alias(name.as_str()),
                );
                vc().sum()
            }
            Agg::Avg => {
                pre.push(only(numeric(need_value()?)?).alias(v.as_str()));
                vc().mean()
            }
            Agg::Median => {
                pre.push(only(numeric(need_value()?)?).alias(v.as_str()));
                vc().median()
            }
            Agg::Percentile => {
                let q = m.q.filter(|q| (0.0..=1.0).contains(q)).ok_or_else(|| {
                    invalid(&format!("{p}/q"), "a percentile needs q between 0 and 1")
                })?;
                pre.push(only(numeric(need_value()?)?).alias(v.as_str()));
                vc().quantile(lit(q), QuantileMethod::Linear)
            }
            Agg::Min | Agg::Max => {
                let (e, ty) = need_value()?;
                if ty.is_temporal() {
                    kind = OutKind::Temporal(ty);
                } else if !ty.is_numeric() {
                    return Err(invalid(
                        &format!("{p}/field"),
                        format!("min and max need a number or a date, not {}", ty.name()),
                    ));
                }
                let e = if ty.is_numeric() {
                    e.cast(DataType::Float64)
                } else {
                    e
                };
                pre.push(only(e).alias(v.as_str()));
                if m.agg == Agg::Min {
                    vc().min()
                } else {
                    vc().max()
                }
            }
            Agg::Share => {
                let c = cond
                    .clone()
                    .ok_or_else(|| invalid(&p, "share needs a where condition"))?;
                pre.push(c.cast(DataType::Float64).alias(v.as_str()));
                vc().mean()
            }
            Agg::Ratio => {
                let (a, b) = m
                    .ratio
                    .ok_or_else(|| invalid(&p, "ratio needs two measures"))?;
                for x in [a, b] {
                    if !usable(query, i, x) {
                        return Err(invalid(
                            &p,
                            "a ratio divides two other measures (ratios and formulas listed before it)",
                        ));
                    }
                }
                let den = col(format!("m{b}").as_str()).cast(DataType::Float64);
                after.push(
                    when(den.clone().eq(lit(0.0)))
                        .then(lit(NULL).cast(DataType::Float64))
                        .otherwise(col(format!("m{a}").as_str()).cast(DataType::Float64) / den)
                        .alias(name.as_str()),
                );
                kinds.push(kind);
                continue;
            }
            Agg::Formula => {
                let f = m
                    .formula
                    .as_ref()
                    .ok_or_else(|| invalid(&p, "formula needs an expression"))?;
                let mut used = Vec::new();
                f.measures(&mut used);
                if let Some(x) = used.iter().find(|x| !usable(query, i, **x)) {
                    return Err(invalid(
                        &format!("{p}/expr"),
                        format!(
                            "measure {x} cannot be used here: a formula reads other measures (ratios and formulas listed before it)"
                        ),
                    ));
                }
                after.push(formula_expr(f).alias(name.as_str()));
                kinds.push(kind);
                continue;
            }
        };
        aggs.push(e.alias(name.as_str()));
        kinds.push(kind);
    }
    Ok(Measures {
        pre,
        aggs,
        fix,
        after,
        kinds,
    })
}

/// Whether measure `i` may read measure `x`: another one, either plain or a derived one
/// (ratio, formula) computed before it.
fn usable(query: &Query, i: usize, x: usize) -> bool {
    x != i
        && x < query.measures.len()
        && (x < i || !matches!(query.measures[x].agg, Agg::Ratio | Agg::Formula))
}

/// A formula over the aggregated measures (`m{i}`), as [`crate::Formula`] defines it.
fn formula_expr(f: &crate::Formula) -> Expr {
    use crate::{Formula, FormulaOp};
    match f {
        Formula::Number(n) => lit(*n),
        Formula::Measure(i) => col(format!("m{i}").as_str()).cast(DataType::Float64),
        Formula::Op(op, args) => {
            let mut es = args.iter().map(formula_expr);
            let Some(first) = es.next() else {
                return lit(NULL).cast(DataType::Float64);
            };
            let rest: Vec<Expr> = es.collect();
            match op {
                FormulaOp::Add | FormulaOp::Sub => {
                    if rest.is_empty() {
                        return if *op == FormulaOp::Sub { -first } else { first };
                    }
                    let zero = |e: Expr| e.fill_null(lit(0.0));
                    let total = rest.into_iter().fold(zero(first), |acc, e| {
                        if *op == FormulaOp::Add {
                            acc + zero(e)
                        } else {
                            acc - zero(e)
                        }
                    });
                    // Missing when every operand that reads measures is.
                    let missing = args
                        .iter()
                        .filter(|a| !matches!(a, Formula::Number(_)))
                        .map(|a| formula_expr(a).is_null())
                        .reduce(|a, b| a.and(b));
                    match missing {
                        Some(m) => when(m)
                            .then(lit(NULL).cast(DataType::Float64))
                            .otherwise(total),
                        None => total,
                    }
                }
                FormulaOp::Mul => rest.into_iter().fold(first, |acc, e| acc * e),
                FormulaOp::Div => rest.into_iter().fold(first, |acc, e| {
                    when(e.clone().eq(lit(0.0)))
                        .then(lit(NULL).cast(DataType::Float64))
                        .otherwise(acc / e)
                }),
            }
        }
    }
}

pub(crate) fn dim_expr(
    d: &crate::Dim,
    types: &Types,
    pointer: &str,
) -> Result<(Expr, ColType), ReportError> {
    let column = match &d.value {
        Value_::Column(c) => c,
        duration @ Value_::Duration { .. } => {
            let (e, _) = value_expr(duration, types, pointer)?;
            return match d.bucket {
                None => Ok((e, ColType::Float)),
                Some(Bucket::Width(w)) if w.is_finite() && w > 0.0 => {
                    Ok(((e / lit(w)).floor() * lit(w), ColType::Float))
                }
                Some(_) => Err(invalid(
                    pointer,
                    "a duration has numeric buckets ({\"width\": n}), not time buckets",
                )),
            };
        }
    };
    let ty = *types
        .get(column)
        .ok_or_else(|| invalid(pointer, format!("no field {column:?}")))?;
    match d.bucket {
        None => Ok((col(column.as_str()), ty)),
        Some(Bucket::Time(b)) => {
            if !ty.is_temporal() {
                return Err(invalid(
                    pointer,
                    format!(
                        "{} is not a date, so it has no {} buckets",
                        column,
                        b.name()
                    ),
                ));
            }
            Ok((col(bucket_column(column, b).as_str()), ColType::Int))
        }
        Some(Bucket::Width(w)) => {
            if !(ty.is_numeric() && w.is_finite() && w > 0.0) {
                return Err(invalid(
                    pointer,
                    "numeric buckets need a number field and a width above 0",
                ));
            }
            Ok((
                (col(column.as_str()).cast(DataType::Float64) / lit(w)).floor() * lit(w),
                ColType::Float,
            ))
        }
    }
}
