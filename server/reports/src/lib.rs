//! Formwork's report engine. A report runs as a lazy polars query over a columnar cache of
//! each form's records ([`FormCache`]); this is the only crate of the workspace that links
//! polars. It knows nothing of permissions or the database: the server resolves field
//! names, checks what the caller may read, works out the caller's rows and hands over a
//! [`Source`] and a [`Query`] in terms of cache columns.

pub mod bucket;
pub mod cache;
pub mod logic;
mod measures;
mod output;
mod parts;
mod run;

pub use bucket::TimeBucket;
pub use cache::{CacheBuilder, FormCache, RECORD, ROW_BITS};
pub use output::{DimCell, OutRow, Output};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How a column is held in the cache. Dates are day numbers since 1970-01-01; date-times
/// milliseconds since the epoch (UTC); references record ids (`Int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColType {
    Float,
    Int,
    Text,
    Bool,
    Date,
    Datetime,
}

impl ColType {
    pub fn name(self) -> &'static str {
        match self {
            ColType::Float => "number",
            ColType::Int => "integer",
            ColType::Text => "text",
            ColType::Bool => "boolean",
            ColType::Date => "date",
            ColType::Datetime => "date-time",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, ColType::Float | ColType::Int)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, ColType::Date | ColType::Datetime)
    }
}

/// One value of a record, as the cache holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Float(f64),
    Int(i64),
    Text(String),
    Bool(bool),
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The query does not fit the data: `pointer` locates the offending part.
    #[error("{pointer}: {message}")]
    Invalid { pointer: String, message: String },
    #[error("report engine: {0}")]
    Internal(String),
}

/// Where a report's rows come from: a form's cache, restricted to the caller's rows, and
/// forms joined through reference columns.
#[derive(Debug, Clone)]
pub struct Source {
    pub form: String,
    /// The ids the caller may see; `None`: all.
    pub allowed: Option<Vec<i64>>,
    pub joins: Vec<Join>,
}

/// A left join: the column `via` (a reference, already in the frame) to the `_id` of
/// `form`, bringing `columns` of that form in as `{via}.{column}`. Rows of `form` the
/// caller may not see join as nulls.
#[derive(Debug, Clone)]
pub struct Join {
    pub via: String,
    pub form: String,
    pub allowed: Option<Vec<i64>>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Bucket {
    Time(TimeBucket),
    /// Numeric buckets of this width: `[k·w, (k+1)·w)`.
    Width(f64),
}

/// A dimension: the values of a column, or the time between two (a device's age when it
/// failed), optionally in buckets.
#[derive(Debug, Clone)]
pub struct Dim {
    pub value: Value_,
    pub bucket: Option<Bucket>,
}

impl Dim {
    /// A dimension over a column.
    pub fn column(column: impl Into<String>, bucket: Option<Bucket>) -> Dim {
        Dim {
            value: Value_::Column(column.into()),
            bucket,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    /// Rows (of the group, or where `filter` holds).
    Count,
    /// Rows where the value is present.
    CountValues,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    Percentile,
    /// The share (0–1) of the group's rows where `filter` holds.
    Share,
    /// One measure divided by another (`ratio`).
    Ratio,
    /// Arithmetic over other measures (`formula`).
    Formula,
}

/// A formula over the measures of a query: numbers, measures (by index) and `+ - * /`.
/// In a sum or difference a missing measure value counts as 0 (the result is missing only
/// when every operand is); a product or quotient with a missing operand is missing, and so
/// is a division by 0.
#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    Number(f64),
    Measure(usize),
    Op(FormulaOp, Vec<Formula>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormulaOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl Formula {
    /// The measures the formula reads.
    pub fn measures(&self, out: &mut Vec<usize>) {
        match self {
            Formula::Number(_) => {}
            Formula::Measure(i) => out.push(*i),
            Formula::Op(_, args) => args.iter().for_each(|a| a.measures(out)),
        }
    }
}

/// What a measure aggregates: a column, or the time from one to another.
#[derive(Debug, Clone)]
pub enum Value_ {
    Column(String),
    Duration {
        from: String,
        to: String,
        unit: DurationUnit,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    Minutes,
    Hours,
    Days,
    /// 365.25 days.
    Years,
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub agg: Agg,
    pub value: Option<Value_>,
    /// Only rows where this holds count (and, for `share`, the condition measured).
    pub filter: Option<Value>,
    /// For `percentile`: 0–1.
    pub q: Option<f64>,
    /// For `ratio`: indexes of the numerator and denominator measures.
    pub ratio: Option<(usize, usize)>,
    /// For `formula`.
    pub formula: Option<Formula>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SortBy {
    Dim(usize),
    Measure(usize),
    Rows,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub filter: Option<Value>,
    pub dimensions: Vec<Dim>,
    pub measures: Vec<Measure>,
    /// By default: by the dimensions, ascending.
    pub sort: Vec<(SortBy, bool)>,
    /// Keep this many values of the first dimension (ranked by the first sort key);
    /// with `others`, the rest are gathered into one row marked `others`.
    pub limit: Option<usize>,
    pub others: bool,
    /// Also list the ids of the records behind each row (`OutRow::ids`) when there are at
    /// most this many: a drill-down for rows no filter can describe.
    pub ids: Option<usize>,
}

/// The caches of all forms of one server, by `app/form`.
pub struct Engine {
    tz: chrono_tz::Tz,
    caches: Mutex<HashMap<String, Arc<Mutex<FormCache>>>>,
    /// Recent results by what they were computed from (see [`Engine::run`]).
    results: Mutex<std::collections::VecDeque<(String, Output)>>,
    reuse: std::sync::atomic::AtomicBool,
    /// Groups of whole bases kept for runs after writes (see `parts::from_parts`).
    partials: Mutex<std::collections::VecDeque<(String, polars::prelude::DataFrame)>>,
    incremental: std::sync::atomic::AtomicBool,
}

/// Results kept for reuse.
const RESULTS_KEPT: usize = 64;

impl Engine {
    pub fn new(tz: chrono_tz::Tz) -> Engine {
        Engine {
            tz,
            caches: Mutex::new(HashMap::new()),
            results: Mutex::new(std::collections::VecDeque::new()),
            reuse: std::sync::atomic::AtomicBool::new(true),
            partials: Mutex::new(std::collections::VecDeque::new()),
            incremental: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Keep the groups of each form's base and correct them by the rows written since
    /// (the default), or group all live rows in every run (benchmarks, cross-checks).
    pub fn set_incremental(&self, on: bool) {
        self.incremental
            .store(on, std::sync::atomic::Ordering::Relaxed);
        if !on {
            self.partials
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    /// What the groups of a source's base depend on besides the base itself (whose
    /// generation the caller adds): the query, the rows the caller may see, and the joined
    /// forms' versions. `None` when runs are not incremental or a form has no cache.
    pub(crate) fn partial_key(&self, source: &Source, query: &Query) -> Option<String> {
        if !self.incremental.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        self.key(source, query, false)
    }

    pub(crate) fn kept_partial(&self, key: &str) -> Option<polars::prelude::DataFrame> {
        self.partials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, df)| df.clone())
    }

    pub(crate) fn keep_partial(&self, key: String, df: polars::prelude::DataFrame) {
        let mut kept = self.partials.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= RESULTS_KEPT {
            kept.pop_front();
        }
        kept.push_back((key, df));
    }

    /// Reuse results (the default) or compute every run (benchmarks of the computation).
    pub fn set_reuse(&self, on: bool) {
        self.reuse.store(on, std::sync::atomic::Ordering::Relaxed);
        if !on {
            self.results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    /// What a result depends on: the query, the rows each form lets the caller see, and
    /// the version of each form's records (the source's only `with_source_version`).
    /// `None` when a form has no cache.
    fn key(&self, source: &Source, query: &Query, with_source_version: bool) -> Option<String> {
        use std::hash::{Hash, Hasher};
        let ids = |a: &Option<Vec<i64>>| match a {
            None => "all".to_owned(),
            Some(v) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                v.hash(&mut h);
                format!("{}:{:x}", v.len(), h.finish())
            }
        };
        let version = |form: &str| {
            self.get(form)
                .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).version())
        };
        let v = version(&source.form)?;
        let mut key = if with_source_version {
            format!("{}@{v} [{}]", source.form, ids(&source.allowed))
        } else {
            format!("{} [{}]", source.form, ids(&source.allowed))
        };
        for j in &source.joins {
            key.push_str(&format!(
                " {}->{}@{} [{}] {:?}",
                j.via,
                j.form,
                version(&j.form)?,
                ids(&j.allowed),
                j.columns
            ));
        }
        key.push_str(&format!(" {query:?}"));
        Some(key)
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.tz
    }

    pub fn get(&self, key: &str) -> Option<Arc<Mutex<FormCache>>> {
        self.caches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    pub fn install(&self, key: &str, cache: FormCache) -> Arc<Mutex<FormCache>> {
        let c = Arc::new(Mutex::new(cache));
        self.caches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), c.clone());
        c
    }

    /// Drop a form's cache (its definition changed); the next run rebuilds it.
    pub fn forget(&self, key: &str) {
        self.caches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn forget_all(&self) {
        self.caches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Run a query. Every form named by the source must have been installed.
    ///
    /// A result is reused while nothing it was computed from has changed — the same query
    /// over the same rows of the same versions of the caches — so a dashboard opened by
    /// many people, or refreshed, computes once per change of its data. (The version is
    /// read before computing: a write landing meanwhile moves it, so the next run computes
    /// again.)
    pub fn run(&self, source: &Source, query: &Query) -> Result<Output, ReportError> {
        let reuse = self.reuse.load(std::sync::atomic::Ordering::Relaxed);
        let key = if reuse {
            self.key(source, query, true)
        } else {
            None
        };
        if let Some(k) = &key
            && let Some(out) = self
                .results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|(rk, _)| rk == k)
                .map(|(_, o)| o.clone())
        {
            return Ok(out);
        }
        let out = run::run(self, source, query)?;
        if let Some(k) = key {
            let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
            if results.len() >= RESULTS_KEPT {
                results.pop_front();
            }
            results.push_back((k, out.clone()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
