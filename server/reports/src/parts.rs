//! Groups kept per cache base: a run after writes groups the base's dead rows and the
//! rows written since, not every row (docs/reports.md, "Freshness").

use polars::prelude::*;

use crate::cache::internal;
use crate::{Agg, ColType, Engine, Query, ReportError};

/// A working column of the merge (see `from_parts`).
const IN_MEMORY: &str = "#in_memory";

/// Whether a measure adds up over parts of the rows: the aggregate of the live rows is
/// then the base's (kept while the base stands) minus its dead rows' plus the delta's.
pub(crate) fn adds_up(agg: Agg) -> bool {
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
///
/// A top-N ranks the first dimension's values over the merged groups (summed by that value)
/// and gathers or drops the rest, as a run over every row does.
pub(crate) fn from_parts(
    engine: &Engine,
    parts: Box<crate::cache::Parts>,
    key: &str,
    prepare: &dyn Fn(LazyFrame) -> LazyFrame,
    dims: &[Expr],
    d0: Option<ColType>,
    query: &Query,
) -> Result<(LazyFrame, Option<Series>, bool), ReportError> {
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
    // Each sum cast back to its type. Plain sums are "partitionable", and polars then asks
    // for its streaming engine (not built in): one aggregation that really changes type
    // (which the optimiser cannot drop as a no-op cast) keeps it on the in-memory group-by.
    // That column stays in the result (nothing reads it), or projection pushdown would
    // prune it again.
    let mut sums: Vec<Expr> = p
        .names
        .iter()
        .map(|(n, ty)| col(n.as_str()).sum().cast(ty.clone()).alias(n.as_str()))
        .collect();
    sums.push(col("_rows").sum().cast(DataType::Float64).alias(IN_MEMORY));
    let group_sums = |lf: LazyFrame, keys: Vec<Expr>| lf.group_by(keys).agg(sums.clone());
    let merged = if pieces.len() == 1 {
        pieces.remove(0)
    } else {
        let all = concat(pieces, UnionArgs::default()).map_err(internal)?;
        if keys.is_empty() {
            all.select(sums.clone())
        } else {
            // A group whose rows all went leaves a row of zeros.
            group_sums(all, keys.clone()).filter(col("_rows").gt(lit(0)))
        }
    };
    let (Some(n), Some(d0)) = (query.limit, d0) else {
        return Ok((merged.with_columns(p.finals), None, false));
    };
    let top = crate::run::top_values(
        group_sums(merged.clone(), vec![col("d0")]).with_columns(p.finals.clone()),
        n,
        query,
    )?;
    let mut keys = keys;
    let frame = crate::run::keep_top(merged, &top, query.others, d0, &mut keys);
    let grouped = group_sums(frame, keys).with_columns(p.finals);
    Ok((grouped, Some(top), query.others))
}
