//! Running a query: assemble the frame (source rows the caller may see, joined forms, time
//! buckets), filter, group, aggregate, rank and sort. The measures' expressions are in
//! `measures`, groups kept per base in `parts`, the result rows in `output`.

use polars::prelude::*;

use crate::bucket::TimeBucket;
use crate::cache::{ID, RECORD, bucket_column, internal};
use crate::logic::{Types, predicate};
use crate::measures::{Measures, dim_expr, measure_exprs};
use crate::output::{Output, to_output};
use crate::parts::{adds_up, from_parts};
use crate::{Agg, Bucket, ColType, Engine, Query, ReportError, SortBy, Source, Value_};

/// The rows a cap on group rows allows.
pub const MAX_GROUPS: usize = 10_000;

pub(crate) fn invalid(pointer: &str, message: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

fn ids_series(ids: &[i64]) -> Series {
    Series::new("ids".into(), ids)
}

/// Where the source's rows come from: one frame of the live rows, or the cache's parts
/// (for aggregates kept per base, see `parts::from_parts`).
enum Rows {
    Whole(LazyFrame),
    Parts(Box<crate::cache::Parts>),
}

/// The source's rows, and what every part of them goes through before filtering: the
/// caller's row scope and the joined forms.
struct Assembled {
    types: Types,
    /// The ids of the records the caller may see, and the column holding them (`_id`, or
    /// `_record` in a cache of sub-table rows).
    allowed: Option<(Series, &'static str)>,
    /// (reference column, joined frame, its key column)
    joins: Vec<(String, LazyFrame, String)>,
}

impl Assembled {
    fn decorate(&self, mut lf: LazyFrame) -> LazyFrame {
        if let Some((ids, by)) = &self.allowed {
            lf = lf.filter(col(*by).is_in(lit(ids.clone()).implode(), false));
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
            allowed: source.allowed.as_deref().map(|ids| {
                let by = if types.contains_key(RECORD) {
                    RECORD
                } else {
                    ID
                };
                (ids_series(ids), by)
            }),
            types,
            joins,
        },
    ))
}

pub fn run(engine: &Engine, source: &Source, query: &Query) -> Result<Output, ReportError> {
    let tz = engine.tz();
    // Read before the frames: a write landing in between makes a key never asked again,
    // not a kept aggregate that misses the write.
    // (Record ids do not add up over parts: a run that lists them groups the live rows.)
    let partial_key = if query.ids.is_none() && query.measures.iter().all(|m| adds_up(m.agg)) {
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
            from_parts(
                engine,
                parts,
                &key,
                &prepare,
                &dims,
                dim_types.first().copied(),
                query,
            )?
        }
        Rows::Whole(lf) => {
            let id_col = if types.contains_key(RECORD) {
                RECORD
            } else {
                ID
            };
            whole(prepare(lf), &dims, &dim_types, aggs, fix, query, id_col)?
        }
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
    id_col: &str,
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
    let top = match (query.limit, dims.is_empty()) {
        (Some(n), false) => Some(top_values(
            fixed(
                lf.clone()
                    .with_column(dims[0].clone())
                    .group_by([col("d0")])
                    .agg(all_aggs.clone()),
            ),
            n,
            query,
        )?),
        _ => None,
    };
    let others_flag = top.is_some() && query.others;
    let mut keys: Vec<Expr> = (0..dims.len())
        .map(|i| col(format!("d{i}").as_str()))
        .collect();
    let mut frame = lf.with_columns(dims);
    if let Some(t) = &top {
        frame = keep_top(frame, t, others_flag, dim_types[0], &mut keys);
    }
    if query.ids.is_some() {
        // The records behind each row (over a sub-table's rows, the records they belong
        // to); the output drops lists longer than asked.
        // (Without dimensions there is one row: the ids as one list, not a row each.)
        let ids = col(id_col).unique().sort(Default::default());
        let ids = if keys.is_empty() { ids.implode() } else { ids };
        all_aggs.push(ids.alias("_ids"));
    }
    let grouped = fixed(if keys.is_empty() {
        frame.select(all_aggs)
    } else {
        frame.group_by(keys).agg(all_aggs)
    });
    Ok((grouped, top, others_flag))
}

/// The first dimension's values a top-N keeps: `by_d0` has one row per value with the
/// measures and `_rows`; ranked by the first sort key (a plain measure or the first
/// dimension), else by rows, most first; ties by value, empty last.
pub(crate) fn top_values(by_d0: LazyFrame, n: usize, query: &Query) -> Result<Series, ReportError> {
    let (rank, desc) = match query.sort.first() {
        Some((SortBy::Measure(m), desc))
            if !matches!(query.measures[*m].agg, Agg::Ratio | Agg::Formula) =>
        {
            (format!("m{m}"), *desc)
        }
        Some((SortBy::Dim(0), desc)) => ("d0".to_owned(), *desc),
        _ => ("_rows".to_owned(), true),
    };
    let ranked = by_d0
        .sort(
            [rank.as_str(), "d0"],
            SortMultipleOptions::default()
                .with_order_descending_multi([desc, false])
                .with_nulls_last(true),
        )
        .limit(n as IdxSize)
        // Collected whole, then the column taken: a `select` here would let the optimiser
        // prune aggregations the group-by needs (see `parts::from_parts`).
        .collect()
        .map_err(internal)?;
    Ok(ranked
        .column("d0")
        .map_err(internal)?
        .as_materialized_series()
        .clone())
}

/// Keep the rows of the top values of `d0`; with `others`, gather the rest under an empty
/// `d0` marked `_others` (added to the group keys).
pub(crate) fn keep_top(
    frame: LazyFrame,
    top: &Series,
    others: bool,
    d0: ColType,
    keys: &mut Vec<Expr>,
) -> LazyFrame {
    let in_top = col("d0")
        .is_in(lit(top.clone()).implode(), true)
        .fill_null(lit(false));
    if others {
        keys.push(col("_others"));
        frame.with_columns([
            when(in_top.clone())
                .then(col("d0"))
                .otherwise(lit(NULL).cast(dim_dtype(d0)))
                .alias("d0"),
            in_top.not().alias("_others"),
        ])
    } else {
        frame.filter(in_top)
    }
}

fn dim_dtype(ty: ColType) -> DataType {
    match ty {
        ColType::Float => DataType::Float64,
        ColType::Text => DataType::String,
        ColType::Bool => DataType::Boolean,
        _ => DataType::Int64,
    }
}
