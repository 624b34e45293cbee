//! Running a query: assemble the frame (source rows the caller may see, joined forms, time
//! buckets), filter, group, aggregate, rank, sort, and turn the result into rows.

use chrono::{DateTime, SecondsFormat, Utc};
use polars::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::bucket::{self, TimeBucket, local_midnight};
use crate::cache::{ID, bucket_column, internal};
use crate::logic::{Types, predicate};
use crate::{
    Agg, Bucket, ColType, DurationUnit, Engine, Query, ReportError, SortBy, Source, Value_,
};

/// The rows a cap on group rows allows.
pub const MAX_GROUPS: usize = 10_000;

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

fn invalid(pointer: &str, message: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

fn ids_series(ids: &[i64]) -> Series {
    Series::new("ids".into(), ids)
}

/// Where the source's rows come from: one frame of the live rows, or the cache's parts
/// (for aggregates kept per base, see [`partial_aggs`]).
enum Rows {
    Whole(LazyFrame),
    Parts(Box<crate::cache::Parts>),
}

/// The source's rows, and what every part of them goes through before filtering: the
/// caller's row scope and the joined forms.
struct Assembled {
    types: Types,
    allowed: Option<Series>,
    /// (reference column, joined frame, its key column)
    joins: Vec<(String, LazyFrame, String)>,
}

impl Assembled {
    fn decorate(&self, mut lf: LazyFrame) -> LazyFrame {
        if let Some(ids) = &self.allowed {
            lf = lf.filter(col(ID).is_in(lit(ids.clone()).implode(), false));
        }
        for (via, right, key) in &self.joins {
            lf = lf.left_join(right.clone(), col(via.as_str()), col(key.as_str()));
        }
        lf
    }
}

/// The frame of the source with its joins, and the type of every column in it.
fn assemble(
    engine: &Engine,
    source: &Source,
    query: &Query,
    split: bool,
) -> Result<(Rows, Assembled), ReportError> {
    // Bucket columns: time dimensions, and the local days of both ends of every duration
    // (a duration between a date and a date-time counts the date-time's local date).
    let mut time_dims: Vec<(String, TimeBucket)> = Vec::new();
    for d in &query.dimensions {
        match (&d.value, d.bucket) {
            (Value_::Column(c), Some(Bucket::Time(b))) => time_dims.push((c.clone(), b)),
            (Value_::Duration { from, to, .. }, _) => {
                time_dims.push((from.clone(), TimeBucket::Day));
                time_dims.push((to.clone(), TimeBucket::Day));
            }
            _ => {}
        }
    }
    for m in &query.measures {
        if let Some(Value_::Duration { from, to, .. }) = &m.value {
            time_dims.push((from.clone(), TimeBucket::Day));
            time_dims.push((to.clone(), TimeBucket::Day));
        }
    }
    time_dims.sort_by(|a, b| (a.0.as_str(), a.1.name()).cmp(&(b.0.as_str(), b.1.name())));
    time_dims.dedup();
    let cache = engine
        .get(&source.form)
        .ok_or_else(|| ReportError::Internal(format!("no cache for {}", source.form)))?;
    let mut types = Types::new();
    let (rows, base_cols) = {
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        let mine: Vec<(String, TimeBucket)> = time_dims
            .iter()
            .filter(|(col, _)| c.column_type(col).is_some_and(ColType::is_temporal))
            .cloned()
            .collect();
        let rows = if split {
            Rows::Parts(Box::new(c.parts(&mine)?))
        } else {
            Rows::Whole(c.frame(&mine)?)
        };
        (rows, c.columns().to_vec())
    };
    for (n, t) in base_cols {
        types.insert(n, t);
    }
    let mut joins = Vec::new();
    for j in &source.joins {
        let cache = engine
            .get(&j.form)
            .ok_or_else(|| ReportError::Internal(format!("no cache for {}", j.form)))?;
        let prefix = format!("{}.", j.via);
        let (df, cols) = {
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            let mine: Vec<(String, TimeBucket)> = time_dims
                .iter()
                .filter_map(|(col, b)| col.strip_prefix(&prefix).map(|rest| (rest.to_owned(), *b)))
                .filter(|(col, _)| c.column_type(col).is_some_and(ColType::is_temporal))
                .collect();
            (c.frame(&mine)?, c.columns().to_vec())
        };
        let mut right = df;
        if let Some(ids) = &j.allowed {
            right = right.filter(col(ID).is_in(lit(ids_series(ids)).implode(), false));
        }
        let key = format!("{}#join", j.via);
        let mut select = vec![col(ID).alias(key.as_str())];
        for name in &j.columns {
            let ty = cols
                .iter()
                .find(|c| &c.0 == name)
                .map(|c| c.1)
                .ok_or_else(|| invalid("/joins", format!("{} has no column {name}", j.form)))?;
            let alias = format!("{prefix}{name}");
            select.push(col(name.as_str()).alias(alias.as_str()));
            types.insert(alias.clone(), ty);
            for (c, b) in &time_dims {
                if c == &alias {
                    let bc = bucket_column(name, *b);
                    select.push(col(bc.as_str()).alias(bucket_column(&alias, *b).as_str()));
                }
            }
        }
        let via_ty = types.get(&j.via).copied();
        if via_ty != Some(ColType::Int) {
            return Err(invalid("/joins", format!("{} is not a reference", j.via)));
        }
        joins.push((j.via.clone(), right.select(select), key));
    }
    Ok((
        rows,
        Assembled {
            types,
            allowed: source.allowed.as_deref().map(ids_series),
            joins,
        },
    ))
}

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
enum OutKind {
    Number,
    Temporal(ColType),
}

/// The aggregations, the expressions computed after them (ratios), and how each measure
/// is shown.
struct Measures {
    /// Values computed before grouping.
    pre: Vec<Expr>,
    aggs: Vec<Expr>,
    /// Corrections after grouping (a sum of no values is empty), then ratios.
    fix: Vec<Expr>,
    after: Vec<Expr>,
    kinds: Vec<OutKind>,
}

fn measure_exprs(query: &Query, types: &Types, tz: chrono_tz::Tz) -> Result<Measures, ReportError> {
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

fn dim_expr(d: &crate::Dim, types: &Types, pointer: &str) -> Result<(Expr, ColType), ReportError> {
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

pub fn run(engine: &Engine, source: &Source, query: &Query) -> Result<Output, ReportError> {
    let tz = engine.tz();
    // Read before the frames: a write landing in between makes a key never asked again,
    // not a kept aggregate that misses the write.
    let partial_key = if query.limit.is_none() && query.measures.iter().all(|m| adds_up(m.agg)) {
        engine.partial_key(source, query)
    } else {
        None
    };
    let (rows, a) = assemble(engine, source, query, partial_key.is_some())?;
    let types = &a.types;
    let filter = query
        .filter
        .as_ref()
        .map(|f| predicate(f, types, tz, "/filter"))
        .transpose()?;
    let mut dims = Vec::new();
    let mut dim_types = Vec::new();
    for (i, d) in query.dimensions.iter().enumerate() {
        let (e, ty) = dim_expr(d, types, &format!("/dimensions/{i}"))?;
        dims.push(e.alias(format!("d{i}").as_str()));
        dim_types.push(ty);
    }
    let Measures {
        pre,
        aggs,
        fix,
        after,
        kinds,
    } = measure_exprs(query, types, tz)?;
    // Every part of the rows: scope, joins, the report's filter, the measures' values.
    let prepare = |lf: LazyFrame| {
        let mut lf = a.decorate(lf);
        if let Some(f) = &filter {
            lf = lf.filter(f.clone());
        }
        if pre.is_empty() {
            lf
        } else {
            lf.with_columns(pre.clone())
        }
    };
    let (grouped, top, others_flag) = match rows {
        Rows::Parts(parts) => {
            let key = partial_key.unwrap_or_default();
            (
                from_parts(engine, parts, &key, &prepare, &dims, query)?,
                None,
                false,
            )
        }
        Rows::Whole(lf) => whole(prepare(lf), &dims, &dim_types, aggs, fix, query)?,
    };
    // One at a time: a derived measure may read one computed before it.
    let grouped = after.into_iter().fold(grouped, |g, e| g.with_columns([e]));

    // Sort: the asked keys, then the dimensions; "others" last.
    let mut by: Vec<PlSmallStr> = Vec::new();
    let mut desc = Vec::new();
    if others_flag {
        by.push("_others".into());
        desc.push(false);
    }
    for (s, d) in &query.sort {
        let name = match s {
            SortBy::Dim(i) if *i < dims.len() => format!("d{i}"),
            SortBy::Measure(i) if *i < query.measures.len() => format!("m{i}"),
            SortBy::Rows => "_rows".to_owned(),
            _ => {
                return Err(invalid(
                    "/sort",
                    "sort names a dimension or measure the report does not have",
                ));
            }
        };
        by.push(name.into());
        desc.push(*d);
    }
    for i in 0..dims.len() {
        let n: PlSmallStr = format!("d{i}").into();
        if !by.contains(&n) {
            by.push(n);
            desc.push(false);
        }
    }
    let sorted = if by.is_empty() {
        grouped
    } else {
        grouped.sort(
            by,
            SortMultipleOptions::default()
                .with_order_descending_multi(desc)
                .with_nulls_last(true),
        )
    };
    let df = sorted
        .limit(MAX_GROUPS as IdxSize + 1)
        .collect()
        .map_err(internal)?;
    if df.height() > MAX_GROUPS {
        return Err(invalid(
            "/dimensions",
            format!(
                "the report has more than {MAX_GROUPS} groups; add a filter or coarser buckets"
            ),
        ));
    }
    let src_types: Vec<ColType> = query
        .dimensions
        .iter()
        .map(|d| match &d.value {
            Value_::Column(c) => types[c],
            Value_::Duration { .. } => ColType::Float,
        })
        .collect();
    to_output(&df, query, &src_types, &kinds, tz, top)
}

/// Group the live rows in one go (top-N, and measures that do not add up over parts).
fn whole(
    lf: LazyFrame,
    dims: &[Expr],
    dim_types: &[ColType],
    aggs: Vec<Expr>,
    fix: Vec<Expr>,
    query: &Query,
) -> Result<(LazyFrame, Option<Series>, bool), ReportError> {
    let fixed = |g: LazyFrame| {
        if fix.is_empty() {
            g
        } else {
            g.with_columns(fix.clone())
        }
    };
    let mut all_aggs = aggs;
    all_aggs.push(len().cast(DataType::Int64).alias("_rows"));

    // Top-N: rank the first dimension's values by the first sort key (or rows).
    let mut top: Option<Series> = None;
    let mut others_flag = false;
    if let (Some(n), false) = (query.limit, dims.is_empty()) {
        let rank_by = match query.sort.first() {
            Some((SortBy::Measure(m), desc))
                if !matches!(query.measures[*m].agg, Agg::Ratio | Agg::Formula) =>
            {
                (format!("m{m}"), *desc)
            }
            Some((SortBy::Dim(0), desc)) => ("d0".to_owned(), *desc),
            _ => ("_rows".to_owned(), true),
        };
        let ranked = fixed(
            lf.clone()
                .with_column(dims[0].clone())
                .group_by([col("d0")])
                .agg(all_aggs.clone()),
        )
        .sort(
            [rank_by.0.as_str(), "d0"],
            SortMultipleOptions::default()
                .with_order_descending_multi([rank_by.1, false])
                .with_nulls_last(true),
        )
        .limit(n as IdxSize)
        .select([col("d0")])
        .collect()
        .map_err(internal)?;
        top = Some(
            ranked
                .column("d0")
                .map_err(internal)?
                .as_materialized_series()
                .clone(),
        );
        others_flag = query.others;
    }

    let mut frame = lf.with_columns(dims);
    let mut keys: Vec<Expr> = (0..dims.len())
        .map(|i| col(format!("d{i}").as_str()))
        .collect();
    if let Some(t) = &top {
        let in_top = col("d0")
            .is_in(lit(t.clone()).implode(), true)
            .fill_null(lit(false));
        if others_flag {
            frame = frame.with_columns([
                when(in_top.clone())
                    .then(col("d0"))
                    .otherwise(lit(NULL).cast(dim_dtype(dim_types[0])))
                    .alias("d0"),
                in_top.not().alias("_others"),
            ]);
            keys.push(col("_others"));
        } else {
            frame = frame.filter(in_top);
        }
    }
    let grouped = fixed(if keys.is_empty() {
        frame.select(all_aggs)
    } else {
        frame.group_by(keys).agg(all_aggs)
    });
    Ok((grouped, top, others_flag))
}

/// Whether a measure adds up over parts of the rows: the aggregate of the live rows is
/// then the base's (kept while the base stands) minus its dead rows' plus the delta's.
fn adds_up(agg: Agg) -> bool {
    matches!(
        agg,
        Agg::Count
            | Agg::CountValues
            | Agg::Sum
            | Agg::Avg
            | Agg::Share
            | Agg::Ratio
            | Agg::Formula
    )
}

/// The sums each measure keeps per group (`s{i}`, and `n{i}` the values behind a sum or
/// an average), and the measure computed from them.
struct PartialAggs {
    aggs: Vec<Expr>,
    /// The kept columns and their types.
    names: Vec<(String, DataType)>,
    finals: Vec<Expr>,
}

fn partial_aggs(query: &Query) -> PartialAggs {
    let mut aggs = Vec::new();
    let mut names = Vec::new();
    let mut finals = Vec::new();
    let mut keep = |name: String, e: Expr, ty: DataType| {
        aggs.push(e.cast(ty.clone()).alias(name.as_str()));
        names.push((name, ty));
    };
    for (i, m) in query.measures.iter().enumerate() {
        let v = || col(format!("#v{i}").as_str());
        let (s, n, out) = (format!("s{i}"), format!("n{i}"), format!("m{i}"));
        let none = || lit(NULL).cast(DataType::Float64);
        match m.agg {
            Agg::Count if m.filter.is_none() => keep(s.clone(), len(), DataType::Int64),
            Agg::Count => keep(s.clone(), v().sum(), DataType::Int64),
            Agg::CountValues => keep(s.clone(), v().count(), DataType::Int64),
            Agg::Sum | Agg::Avg | Agg::Share => {
                keep(s.clone(), v().sum(), DataType::Float64);
                keep(n.clone(), v().count(), DataType::Int64);
            }
            _ => continue,
        }
        finals.push(
            match m.agg {
                Agg::Sum => when(col(n.as_str()).eq(lit(0)))
                    .then(none())
                    .otherwise(col(s.as_str())),
                Agg::Avg | Agg::Share => when(col(n.as_str()).eq(lit(0)))
                    .then(none())
                    .otherwise(col(s.as_str()) / col(n.as_str()).cast(DataType::Float64)),
                _ => col(s.as_str()),
            }
            .alias(out.as_str()),
        );
    }
    keep("_rows".into(), len(), DataType::Int64);
    PartialAggs {
        aggs,
        names,
        finals,
    }
}

/// Group the parts of the rows: the base's groups (kept while the base stands, under
/// `key`), minus its dead rows' groups, plus the delta's. A run after a write groups a
/// few rows instead of all of them.
fn from_parts(
    engine: &Engine,
    parts: Box<crate::cache::Parts>,
    key: &str,
    prepare: &dyn Fn(LazyFrame) -> LazyFrame,
    dims: &[Expr],
    query: &Query,
) -> Result<LazyFrame, ReportError> {
    let p = partial_aggs(query);
    let keys: Vec<Expr> = (0..dims.len())
        .map(|i| col(format!("d{i}").as_str()))
        .collect();
    let group = |lf: LazyFrame| {
        let lf = prepare(lf);
        if keys.is_empty() {
            lf.select(p.aggs.clone())
        } else {
            lf.with_columns(dims)
                .group_by(keys.clone())
                .agg(p.aggs.clone())
        }
    };
    let key = format!("{key} #{}", parts.generation);
    let base = match engine.kept_partial(&key) {
        Some(df) => df,
        None => {
            let df = group(parts.base).collect().map_err(internal)?;
            engine.keep_partial(key, df.clone());
            df
        }
    };
    let mut pieces = vec![base.lazy()];
    if let Some(dead) = parts.dead {
        let negated: Vec<Expr> = p
            .names
            .iter()
            .map(|(n, _)| (-col(n.as_str())).alias(n.as_str()))
            .collect();
        pieces.push(group(dead).with_columns(negated));
    }
    if let Some(delta) = parts.delta {
        pieces.push(group(delta));
    }
    let merged = if pieces.len() == 1 {
        pieces.remove(0)
    } else {
        // (Each cast back to its type, which also keeps polars on its in-memory group-by:
        // a plain sum is "partitionable" and asks for the streaming engine, not built in.)
        let sums: Vec<Expr> = p
            .names
            .iter()
            .map(|(n, ty)| col(n.as_str()).sum().cast(ty.clone()).alias(n.as_str()))
            .collect();
        let all = concat(pieces, UnionArgs::default()).map_err(internal)?;
        if keys.is_empty() {
            all.select(sums)
        } else {
            // A group whose rows all went leaves a row of zeros.
            all.group_by(keys).agg(sums).filter(col("_rows").gt(lit(0)))
        }
    };
    Ok(merged.with_columns(p.finals))
}

fn dim_dtype(ty: ColType) -> DataType {
    match ty {
        ColType::Float => DataType::Float64,
        ColType::Text => DataType::String,
        ColType::Bool => DataType::Boolean,
        _ => DataType::Int64,
    }
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
            .map(|t| json!(t.to_rfc3339_opts(SecondsFormat::Secs, true)))
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

fn to_output(
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
        rows.push(crate::OutRow {
            dims,
            measures,
            rows: n,
            others,
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
