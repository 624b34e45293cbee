//! The columnar cache of one form's records: a polars frame built once from the database,
//! plus the writes since then. Writes land in a small delta (and a row of the base is
//! marked dead when it is changed or deleted), so a write costs a map insert and the next
//! report run sees it; when the delta grows, it is folded into a new base.
//!
//! Time buckets of date and date-time columns (day … year in the app's time zone) are
//! computed once per base and kept beside it, so a report over a million rows groups by a
//! ready integer column.

use chrono_tz::Tz;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};

use crate::bucket::TimeBucket;
use crate::{Cell, ColType, ReportError};

/// The id column every cache has.
pub const ID: &str = "_id";
/// In a cache of sub-table rows, the record each row belongs to (its `_id` is the row's
/// own key, see [`FormCache::replace_rows`]); the caller's row scope filters by it.
pub const RECORD: &str = "_record";
/// Rows of one record in a cache of sub-table rows have the ids `record << ROW_BITS` + i.
pub const ROW_BITS: u32 = 20;

/// Fold the delta into the base once it holds this many rows.
const COMPACT_AT: usize = 20_000;

pub struct FormCache {
    columns: Vec<(String, ColType)>,
    tz: Tz,
    base: DataFrame,
    index: HashMap<i64, usize>,
    alive: Vec<bool>,
    /// The base rows no longer alive, in the order they died.
    dead: Vec<IdxSize>,
    delta: BTreeMap<i64, Vec<Cell>>,
    buckets: HashMap<(String, TimeBucket), Column>,
    /// Changes with every change of the records (unique across caches of the process), so
    /// a result computed at one version is still right while the version stands.
    version: u64,
    /// Changes when the base is replaced (built, compacted): aggregates over the whole
    /// base stay right while it stands, whatever was written since.
    generation: u64,
}

/// The records as the base (every row it holds, changed and deleted ones too), the base
/// rows no longer alive, and the rows written since: live = base − dead + delta. Each part
/// has the asked bucket columns.
pub struct Parts {
    pub generation: u64,
    pub base: LazyFrame,
    pub dead: Option<LazyFrame>,
    pub delta: Option<LazyFrame>,
}

/// A fresh cache version, never given out before in this process.
fn next_version() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl FormCache {
    /// A cache of `rows` (id first in each row, then one cell per column after `_id`).
    pub fn build(
        columns: Vec<(String, ColType)>,
        tz: Tz,
        rows: impl IntoIterator<Item = Vec<Cell>>,
    ) -> Result<FormCache, ReportError> {
        let mut b = CacheBuilder::new(columns, tz)?;
        b.push(&rows.into_iter().collect::<Vec<_>>())?;
        b.finish()
    }

    fn from_frame(
        columns: Vec<(String, ColType)>,
        tz: Tz,
        base: DataFrame,
    ) -> Result<FormCache, ReportError> {
        let mut cache = FormCache {
            columns,
            tz,
            base,
            index: HashMap::new(),
            alive: Vec::new(),
            dead: Vec::new(),
            delta: BTreeMap::new(),
            buckets: HashMap::new(),
            version: next_version(),
            generation: 0,
        };
        cache.reindex()?;
        Ok(cache)
    }

    fn reindex(&mut self) -> Result<(), ReportError> {
        let ids = self
            .base
            .column(ID)
            .map_err(internal)?
            .i64()
            .map_err(internal)?;
        self.index = ids
            .into_iter()
            .enumerate()
            .filter_map(|(i, id)| id.map(|id| (id, i)))
            .collect();
        self.alive = vec![true; self.base.height()];
        self.dead.clear();
        self.buckets.clear();
        self.generation = next_version();
        Ok(())
    }

    pub fn columns(&self) -> &[(String, ColType)] {
        &self.columns
    }

    /// The records' version: it moves with every upsert, removal and compaction.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn column_type(&self, name: &str) -> Option<ColType> {
        self.columns.iter().find(|c| c.0 == name).map(|c| c.1)
    }

    /// How many live records the cache holds.
    pub fn len(&self) -> usize {
        self.base.height() - self.dead.len() + self.delta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A record was created or changed: `row` is its full new row (id first).
    pub fn upsert(&mut self, row: Vec<Cell>) -> Result<(), ReportError> {
        let Some(Cell::Int(id)) = row.first() else {
            return Err(ReportError::Internal("a row starts with its id".into()));
        };
        if row.len() != self.columns.len() {
            return Err(ReportError::Internal(
                "row width differs from the columns".into(),
            ));
        }
        let id = *id;
        self.version = next_version();
        self.kill(id);
        self.delta.insert(id, row);
        if self.delta.len() >= COMPACT_AT {
            self.compact()?;
        }
        Ok(())
    }

    /// A record's sub-table rows were replaced (or removed, with none): its old rows, with
    /// the ids `record << ROW_BITS` + 0, 1, … (consecutive, as written here), go; `rows`
    /// come in with their own ids.
    pub fn replace_rows(&mut self, record: i64, rows: Vec<Vec<Cell>>) -> Result<(), ReportError> {
        self.version = next_version();
        let first = record << ROW_BITS;
        for id in first.. {
            let in_base = self.index.get(&id).is_some_and(|&i| self.alive[i]);
            if !in_base && !self.delta.contains_key(&id) {
                break;
            }
            self.kill(id);
            self.delta.remove(&id);
        }
        for row in rows {
            self.upsert(row)?;
        }
        Ok(())
    }

    /// A record was deleted.
    pub fn remove(&mut self, id: i64) {
        self.version = next_version();
        self.kill(id);
        self.delta.remove(&id);
    }

    fn kill(&mut self, id: i64) {
        if let Some(&i) = self.index.get(&id)
            && self.alive[i]
        {
            self.alive[i] = false;
            self.dead.push(i as IdxSize);
        }
    }

    /// Fold the delta into a new base.
    pub fn compact(&mut self) -> Result<(), ReportError> {
        self.version = next_version();
        let mut df = self.live_base()?;
        let delta = frame(&self.columns, self.delta.values())?;
        df.vstack_mut_owned(delta).map_err(internal)?;
        df.rechunk_mut();
        self.base = df;
        self.delta.clear();
        self.reindex()
    }

    fn live_base(&self) -> Result<DataFrame, ReportError> {
        if self.dead.is_empty() {
            return Ok(self.base.clone());
        }
        let mask = BooleanChunked::from_slice("alive".into(), &self.alive);
        self.base.filter(&mask).map_err(internal)
    }

    /// The live records as one lazy frame, with the asked time-bucket columns added (named
    /// by [`bucket_column`]). Dropping dead rows and appending the delta are steps of the
    /// plan, not done here, so that they touch only the columns the report reads (a run
    /// after writes would otherwise copy every column of the form).
    pub fn frame(&mut self, buckets: &[(String, TimeBucket)]) -> Result<LazyFrame, ReportError> {
        let mut base = self.base_with(buckets)?;
        let mut lazy = if !self.dead.is_empty() {
            let mask = BooleanChunked::from_slice(ALIVE.into(), &self.alive);
            base.with_column(mask.into_column()).map_err(internal)?;
            base.lazy().filter(col(ALIVE)).drop(cols([ALIVE]))
        } else {
            base.lazy()
        };
        if let Some(delta) = self.delta_with(buckets)? {
            lazy = concat([lazy, delta.lazy()], UnionArgs::default()).map_err(internal)?;
        }
        Ok(lazy)
    }

    /// The records in three parts (see [`Parts`]), for aggregates that are kept per base
    /// and corrected by the few rows written since.
    pub fn parts(&mut self, buckets: &[(String, TimeBucket)]) -> Result<Parts, ReportError> {
        let base = self.base_with(buckets)?;
        let dead = if self.dead.is_empty() {
            None
        } else {
            let idx = IdxCa::from_vec("idx".into(), self.dead.clone());
            Some(base.take(&idx).map_err(internal)?.lazy())
        };
        Ok(Parts {
            generation: self.generation,
            base: base.lazy(),
            dead,
            delta: self.delta_with(buckets)?.map(DataFrame::lazy),
        })
    }

    /// The whole base with the asked bucket columns (computed once per base).
    fn base_with(&mut self, buckets: &[(String, TimeBucket)]) -> Result<DataFrame, ReportError> {
        let mut base = self.base.clone();
        for (col, b) in buckets {
            let name = bucket_column(col, *b);
            if base.column(&name).is_ok() {
                continue;
            }
            let key = (col.clone(), *b);
            if !self.buckets.contains_key(&key) {
                let ty = self
                    .column_type(col)
                    .ok_or_else(|| ReportError::Internal(format!("no column {col}")))?;
                let source = self
                    .base
                    .column(col)
                    .map_err(internal)?
                    .i64()
                    .map_err(internal)?
                    .clone();
                let keys = bucket_keys(&source, ty, *b, self.tz, &name);
                self.buckets.insert(key.clone(), keys);
            }
            base.with_column(self.buckets[&key].clone())
                .map_err(internal)?;
        }
        Ok(base)
    }

    /// The rows written since the base, with the asked bucket columns; `None` when none.
    fn delta_with(
        &self,
        buckets: &[(String, TimeBucket)],
    ) -> Result<Option<DataFrame>, ReportError> {
        if self.delta.is_empty() {
            return Ok(None);
        }
        let mut delta = frame(&self.columns, self.delta.values())?;
        for (col, b) in buckets {
            let name = bucket_column(col, *b);
            if delta.column(&name).is_ok() {
                continue;
            }
            let ty = self.column_type(col).unwrap_or(ColType::Int);
            let source = delta
                .column(col)
                .map_err(internal)?
                .i64()
                .map_err(internal)?
                .clone();
            delta
                .with_column(bucket_keys(&source, ty, *b, self.tz, &name))
                .map_err(internal)?;
        }
        Ok(Some(delta))
    }
}

/// The alive mask's column while a frame is planned.
const ALIVE: &str = "#alive";

/// Builds a cache page by page, so that only one page of cells is held at a time.
pub struct CacheBuilder {
    columns: Vec<(String, ColType)>,
    tz: Tz,
    df: Option<DataFrame>,
}

impl CacheBuilder {
    pub fn new(columns: Vec<(String, ColType)>, tz: Tz) -> Result<CacheBuilder, ReportError> {
        if columns.first().map(|c| c.0.as_str()) != Some(ID) {
            return Err(ReportError::Internal("the first column is _id".into()));
        }
        Ok(CacheBuilder {
            columns,
            tz,
            df: None,
        })
    }

    /// Add a page of rows.
    pub fn push(&mut self, rows: &[Vec<Cell>]) -> Result<(), ReportError> {
        let page = frame(&self.columns, rows.iter())?;
        match &mut self.df {
            Some(df) => {
                df.vstack_mut_owned(page).map_err(internal)?;
            }
            None => self.df = Some(page),
        }
        Ok(())
    }

    pub fn finish(self) -> Result<FormCache, ReportError> {
        let mut df = match self.df {
            Some(df) => df,
            None => frame(&self.columns, std::iter::empty())?,
        };
        df.rechunk_mut();
        FormCache::from_frame(self.columns, self.tz, df)
    }
}

/// The name of the bucket column of `col`.
pub fn bucket_column(col: &str, b: TimeBucket) -> String {
    format!("{col}#{}", b.name())
}

fn bucket_keys(source: &Int64Chunked, ty: ColType, b: TimeBucket, tz: Tz, name: &str) -> Column {
    let keys: Int64Chunked = source
        .into_iter()
        .map(|v| v.and_then(|v| crate::bucket::key(ty, v, b, tz)))
        .collect();
    keys.with_name(name.into()).into_column()
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ReportError {
    ReportError::Internal(e.to_string())
}

/// A frame of rows, typed by the columns.
pub fn frame<'a>(
    columns: &[(String, ColType)],
    rows: impl Iterator<Item = &'a Vec<Cell>> + Clone,
) -> Result<DataFrame, ReportError> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, (name, ty)) in columns.iter().enumerate() {
        let cells = rows.clone().map(|r| r.get(i).unwrap_or(&Cell::Null));
        let name: PlSmallStr = name.as_str().into();
        let col = match ty {
            ColType::Float => cells
                .map(|c| match c {
                    Cell::Float(f) => Some(*f),
                    Cell::Int(n) => Some(*n as f64),
                    _ => None,
                })
                .collect::<Float64Chunked>()
                .with_name(name)
                .into_column(),
            ColType::Int | ColType::Date | ColType::Datetime => cells
                .map(|c| match c {
                    Cell::Int(n) => Some(*n),
                    _ => None,
                })
                .collect::<Int64Chunked>()
                .with_name(name)
                .into_column(),
            ColType::Text => {
                let v: Vec<Option<&str>> = cells
                    .map(|c| match c {
                        Cell::Text(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                StringChunked::from_iter_options(name, v.into_iter()).into_column()
            }
            ColType::Bool => cells
                .map(|c| match c {
                    Cell::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanChunked>()
                .with_name(name)
                .into_column(),
        };
        out.push(col);
    }
    DataFrame::new_infer_height(out).map_err(internal)
}
