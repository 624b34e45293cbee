//! Report definitions: their shape, and field paths resolved against the app's forms
//! (through reference fields for joined forms). See docs/reports.md.

use formwork_reports::{Agg, Bucket, ColType, DurationUnit, TimeBucket};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::columns::Columns;
use crate::error::Detail;
use crate::keys::is_key;
use crate::schema::definition::CompiledForm;
use crate::schema::field_types::FieldKind;

pub const CHART_KINDS: &[&str] = &[
    "table", "pivot", "bar", "line", "area", "pie", "funnel", "number", "heatmap",
];

#[derive(Debug, Clone)]
pub struct DimDef {
    pub key: String,
    /// The field grouped by; empty for a duration dimension.
    pub field: String,
    /// A dimension over the time between two fields (`from`, `to`, unit).
    pub duration: Option<(String, String, DurationUnit)>,
    pub bucket: Option<Bucket>,
    pub label: Value,
}

impl DimDef {
    /// The field paths the dimension reads.
    pub fn fields(&self) -> Vec<String> {
        match &self.duration {
            Some((a, b, _)) => vec![a.clone(), b.clone()],
            None => vec![self.field.clone()],
        }
    }
}

#[derive(Debug, Clone)]
pub struct MeasureDef {
    pub key: String,
    pub agg: Agg,
    pub field: Option<String>,
    pub duration: Option<(String, String, DurationUnit)>,
    pub filter: Option<Value>,
    pub q: Option<f64>,
    pub of: Option<(String, String)>,
    /// For `formula`: arithmetic over other measures (JSON Logic `+ - * /`, `var` names a
    /// measure key).
    pub expr: Option<Value>,
    pub label: Value,
}

impl MeasureDef {
    /// The field paths the measure reads (not those of the measures a ratio divides).
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self.field.iter().cloned().collect();
        if let Some((a, b, _)) = &self.duration {
            out.push(a.clone());
            out.push(b.clone());
        }
        if let Some(w) = &self.filter {
            formwork_reports::logic::fields(w, &mut out);
        }
        out
    }

    /// The measures a derived measure (ratio, formula) reads.
    pub fn refs(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((a, b)) = &self.of {
            out.push(a.clone());
            out.push(b.clone());
        }
        if let Some(e) = &self.expr {
            let _ = formula_refs(e, "", &mut out);
        }
        out
    }

    pub fn is_derived(&self) -> bool {
        matches!(self.agg, Agg::Ratio | Agg::Formula)
    }
}

/// The measure keys a formula reads, or what is wrong with it (at `pointer`).
pub fn formula_refs(e: &Value, pointer: &str, out: &mut Vec<String>) -> Result<(), Detail> {
    let bad = |m: &str| detail(pointer, "formula", m.to_owned());
    match e {
        Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
        Value::Object(o) if o.len() == 1 => {
            let (op, args) = o.iter().next().expect("one member");
            if op == "var" {
                return match args.as_str() {
                    Some(k) => {
                        out.push(k.to_owned());
                        Ok(())
                    }
                    None => Err(bad("var names a measure key")),
                };
            }
            if !["+", "-", "*", "/"].contains(&op.as_str()) {
                return Err(bad(&format!(
                    "{op:?} is not an operator of formulas (+, -, *, /)"
                )));
            }
            let args = args
                .as_array()
                .filter(|a| !a.is_empty() && (a.len() >= 2 || op == "-"))
                .ok_or_else(|| bad(&format!("{op} takes a list of two or more operands")))?;
            for (i, a) in args.iter().enumerate() {
                formula_refs(a, &format!("{pointer}/{op}/{i}"), out)?;
            }
            Ok(())
        }
        _ => Err(bad(
            "a formula is a number, {\"var\": measure} or {\"+\"|\"-\"|\"*\"|\"/\": [...]}",
        )),
    }
}

/// A formula in the engine's terms, measures by their index (`index_of`).
pub fn to_formula(
    e: &Value,
    index_of: &dyn Fn(&str) -> Option<usize>,
) -> Option<formwork_reports::Formula> {
    use formwork_reports::{Formula, FormulaOp};
    match e {
        Value::Number(n) => n.as_f64().map(Formula::Number),
        Value::Object(o) if o.len() == 1 => {
            let (op, args) = o.iter().next()?;
            if op == "var" {
                return index_of(args.as_str()?).map(Formula::Measure);
            }
            let op = match op.as_str() {
                "+" => FormulaOp::Add,
                "-" => FormulaOp::Sub,
                "*" => FormulaOp::Mul,
                "/" => FormulaOp::Div,
                _ => return None,
            };
            let args = args
                .as_array()?
                .iter()
                .map(|a| to_formula(a, index_of))
                .collect::<Option<Vec<_>>>()?;
            Some(Formula::Op(op, args))
        }
        _ => None,
    }
}

fn parse_duration(
    d: &Value,
    pointer: &str,
    errs: &mut Vec<Detail>,
) -> Option<(String, String, DurationUnit)> {
    if d.is_null() {
        return None;
    }
    let unit = match d["unit"].as_str().unwrap_or("hours") {
        "minutes" => Some(DurationUnit::Minutes),
        "hours" => Some(DurationUnit::Hours),
        "days" => Some(DurationUnit::Days),
        "years" => Some(DurationUnit::Years),
        _ => None,
    };
    match (d["from"].as_str(), d["to"].as_str(), unit) {
        (Some(a), Some(b), Some(u)) => Some((a.to_owned(), b.to_owned(), u)),
        _ => {
            errs.push(detail(
                pointer,
                "shape",
                "a duration is {from, to, unit: minutes|hours|days|years}",
            ));
            None
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReportDef {
    pub label: Value,
    pub form: String,
    /// A sub-table of `form` whose rows the report counts (each row with its record's
    /// fields); None: the records themselves.
    pub rows: Option<String>,
    pub filter: Option<Value>,
    pub dims: Vec<DimDef>,
    pub measures: Vec<MeasureDef>,
    pub sort: Vec<(String, bool)>,
    pub limit: Option<usize>,
    pub others: bool,
    pub chart: Value,
}

impl ReportDef {
    /// The source in [`AppForms`] and in the engine: the form, or `form#table` for the
    /// rows of one of its sub-tables.
    pub fn source(&self) -> String {
        match &self.rows {
            Some(t) => format!("{}#{t}", self.form),
            None => self.form.clone(),
        }
    }
}

fn detail(pointer: impl Into<String>, rule: &str, message: impl Into<String>) -> Detail {
    Detail::new(pointer.into(), rule, message)
}

/// The names of the aggregations, as definitions write them.
pub const AGGS: &[(&str, Agg)] = &[
    ("count", Agg::Count),
    ("count_values", Agg::CountValues),
    ("count_distinct", Agg::CountDistinct),
    ("sum", Agg::Sum),
    ("avg", Agg::Avg),
    ("min", Agg::Min),
    ("max", Agg::Max),
    ("median", Agg::Median),
    ("percentile", Agg::Percentile),
    ("share", Agg::Share),
    ("ratio", Agg::Ratio),
    ("formula", Agg::Formula),
];

pub fn agg_name(a: Agg) -> &'static str {
    AGGS.iter()
        .find(|(_, x)| *x == a)
        .map(|(n, _)| *n)
        .unwrap_or("count")
}

fn agg_of(s: &str) -> Option<Agg> {
    AGGS.iter().find(|(n, _)| *n == s).map(|(_, a)| *a)
}

/// The shape of a report definition (no forms consulted).
pub fn parse(def: &Value) -> Result<ReportDef, Vec<Detail>> {
    let (parsed, errs) = parse_all(def);
    if errs.is_empty() {
        Ok(parsed)
    } else {
        Err(errs)
    }
}

/// As much of a definition as is well-formed, and the problems of the rest.
pub fn parse_all(def: &Value) -> (ReportDef, Vec<Detail>) {
    let mut errs = Vec::new();
    let empty = serde_json::Map::new();
    let obj = match def.as_object() {
        Some(o) => o,
        None => {
            errs.push(detail("", "type", "a report definition is an object"));
            &empty
        }
    };
    const KNOWN: &[&str] = &[
        "key",
        "label",
        "form",
        "rows",
        "filter",
        "dimensions",
        "measures",
        "sort",
        "limit",
        "others",
        "chart",
    ];
    for k in obj.keys() {
        if !KNOWN.contains(&k.as_str()) {
            errs.push(detail(
                format!("/{k}"),
                "unknown",
                format!("a report has no member {k:?}"),
            ));
        }
    }
    let form = match def["form"].as_str() {
        Some(f) if is_key(f) => f.to_owned(),
        _ => {
            errs.push(detail("/form", "required", "form names the source form"));
            String::new()
        }
    };
    let rows = match &def["rows"] {
        Value::Null => None,
        Value::String(t) if is_key(t) => Some(t.clone()),
        _ => {
            errs.push(detail(
                "/rows",
                "type",
                "rows names a sub-table of the form, whose rows the report counts",
            ));
            None
        }
    };
    let filter = match &def["filter"] {
        Value::Null => None,
        f @ Value::Object(_) => Some(f.clone()),
        _ => {
            errs.push(detail("/filter", "type", "filter is a JSON Logic object"));
            None
        }
    };
    let mut keys = HashSet::new();
    let mut dims = Vec::new();
    for (i, d) in def["dimensions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = format!("/dimensions/{i}");
        let duration = parse_duration(&d["duration"], &format!("{p}/duration"), &mut errs);
        let field = match (d["field"].as_str(), &duration, d["duration"].is_null()) {
            (Some(f), None, true) => f,
            (None, Some(_), _) => "",
            (Some(_), _, false) => {
                errs.push(detail(
                    format!("{p}/duration"),
                    "exclusive",
                    "a dimension groups by a field or a duration, not both",
                ));
                continue;
            }
            _ => {
                if d["duration"].is_null() {
                    errs.push(detail(
                        format!("{p}/field"),
                        "required",
                        "a dimension names a field (or a duration)",
                    ));
                }
                continue;
            }
        };
        if duration.is_some() && d["key"].as_str().is_none() {
            errs.push(detail(
                format!("{p}/key"),
                "required",
                "a duration dimension has a key",
            ));
        }
        let bucket = match &d["bucket"] {
            Value::Null => None,
            Value::String(s) => match TimeBucket::parse(s) {
                Some(b) => Some(Bucket::Time(b)),
                None => {
                    errs.push(detail(
                        format!("{p}/bucket"),
                        "enum",
                        "bucket is day, week, month, quarter, year or {\"width\": n}",
                    ));
                    None
                }
            },
            Value::Object(o) => match o.get("width").and_then(Value::as_f64) {
                Some(w) if w > 0.0 && w.is_finite() => Some(Bucket::Width(w)),
                _ => {
                    errs.push(detail(
                        format!("{p}/bucket/width"),
                        "range",
                        "a bucket width is a number above 0",
                    ));
                    None
                }
            },
            _ => {
                errs.push(detail(
                    format!("{p}/bucket"),
                    "type",
                    "bucket is a name or {\"width\": n}",
                ));
                None
            }
        };
        let key = match (d["key"].as_str(), bucket) {
            (Some(k), _) => k.to_owned(),
            (None, Some(Bucket::Time(b)))
                if def["dimensions"]
                    .as_array()
                    .is_some_and(|a| a.iter().filter(|x| x["field"] == field).count() > 1) =>
            {
                format!("{field}:{}", b.name())
            }
            (None, _) => field.to_owned(),
        };
        if !keys.insert(key.clone()) {
            errs.push(detail(
                format!("{p}/key"),
                "unique",
                format!("the key {key:?} is used twice"),
            ));
        }
        if duration.is_some() && matches!(bucket, Some(Bucket::Time(_))) {
            errs.push(detail(
                format!("{p}/bucket"),
                "type",
                "a duration has numeric buckets ({\"width\": n}), not time buckets",
            ));
        }
        dims.push(DimDef {
            key,
            field: field.to_owned(),
            duration,
            bucket,
            label: d["label"].clone(),
        });
    }
    let mut measures = Vec::new();
    let raw_measures = def["measures"].as_array().cloned().unwrap_or_default();
    if raw_measures.is_empty() {
        errs.push(detail(
            "/measures",
            "required",
            "a report has at least one measure",
        ));
    }
    for (i, m) in raw_measures.iter().enumerate() {
        let p = format!("/measures/{i}");
        let Some(key) = m["key"].as_str().filter(|k| is_key(k)) else {
            errs.push(detail(
                format!("{p}/key"),
                "required",
                "a measure has a key (lower-case letters, digits, _)",
            ));
            continue;
        };
        if !keys.insert(key.to_owned()) {
            errs.push(detail(
                format!("{p}/key"),
                "unique",
                format!("the key {key:?} is used twice"),
            ));
        }
        let Some(agg) = m["agg"].as_str().and_then(agg_of) else {
            errs.push(detail(format!("{p}/agg"), "enum", "agg is count, count_values, count_distinct, sum, avg, min, max, median, percentile, share, ratio or formula"));
            continue;
        };
        let duration = parse_duration(&m["duration"], &format!("{p}/duration"), &mut errs);
        let field = m["field"].as_str().map(str::to_owned);
        let filter = match &m["where"] {
            Value::Null => None,
            w @ Value::Object(_) => Some(w.clone()),
            _ => {
                errs.push(detail(
                    format!("{p}/where"),
                    "type",
                    "where is a JSON Logic object",
                ));
                None
            }
        };
        let q = m["q"].as_f64();
        let of = match &m["of"] {
            Value::Array(a) if a.len() == 2 && a.iter().all(Value::is_string) => Some((
                a[0].as_str().unwrap_or_default().to_owned(),
                a[1].as_str().unwrap_or_default().to_owned(),
            )),
            Value::Null => None,
            _ => {
                errs.push(detail(
                    format!("{p}/of"),
                    "shape",
                    "of names two measures: [numerator, denominator]",
                ));
                None
            }
        };
        let expr = match (&m["expr"], agg) {
            (Value::Null, Agg::Formula) => {
                errs.push(detail(
                    format!("{p}/expr"),
                    "required",
                    "formula needs expr: arithmetic over other measures",
                ));
                None
            }
            (Value::Null, _) => None,
            (e, Agg::Formula) => match formula_refs(e, &format!("{p}/expr"), &mut Vec::new()) {
                Ok(()) => Some(e.clone()),
                Err(d) => {
                    errs.push(d);
                    None
                }
            },
            (_, _) => {
                errs.push(detail(
                    format!("{p}/expr"),
                    "unexpected",
                    "only a formula measure has expr",
                ));
                None
            }
        };
        if agg == Agg::Formula
            && (m.get("field").is_some() || m.get("duration").is_some() || m.get("where").is_some())
        {
            errs.push(detail(
                p.clone(),
                "shape",
                "a formula reads other measures, not field, duration or where",
            ));
        }
        let needs_value = !matches!(agg, Agg::Count | Agg::Share | Agg::Ratio | Agg::Formula);
        if needs_value && field.is_none() && duration.is_none() {
            errs.push(detail(
                format!("{p}/field"),
                "required",
                format!(
                    "{} needs a field or a duration",
                    m["agg"].as_str().unwrap_or("")
                ),
            ));
        }
        if field.is_some() && duration.is_some() {
            errs.push(detail(
                format!("{p}/duration"),
                "exclusive",
                "a measure reads a field or a duration, not both",
            ));
        }
        if agg == Agg::Share && filter.is_none() {
            errs.push(detail(
                format!("{p}/where"),
                "required",
                "share needs a where condition",
            ));
        }
        if agg == Agg::Percentile && !q.is_some_and(|q| (0.0..=1.0).contains(&q)) {
            errs.push(detail(
                format!("{p}/q"),
                "range",
                "a percentile needs q between 0 and 1",
            ));
        }
        if agg == Agg::Ratio && of.is_none() {
            errs.push(detail(
                format!("{p}/of"),
                "required",
                "ratio needs of: [numerator, denominator]",
            ));
        }
        measures.push(MeasureDef {
            key: key.to_owned(),
            agg,
            field,
            duration,
            filter,
            q,
            of,
            expr,
            label: m["label"].clone(),
        });
    }
    // A derived measure reads plain measures, and derived ones listed before it.
    for (i, m) in measures.iter().enumerate() {
        let member = if m.agg == Agg::Formula { "expr" } else { "of" };
        for x in m.refs() {
            let ok = measures
                .iter()
                .enumerate()
                .any(|(j, o)| o.key == x && j != i && (j < i || !o.is_derived()));
            if !ok {
                errs.push(detail(
                    format!("/measures/{i}/{member}"),
                    "unknown",
                    format!(
                        "{x:?} is not another measure (a ratio or formula may read those listed before it)"
                    ),
                ));
            }
        }
    }
    let mut sort = Vec::new();
    for (i, s) in def["sort"].as_array().into_iter().flatten().enumerate() {
        match s["by"].as_str() {
            Some(by) if by == "_rows" || keys.contains(by) => {
                sort.push((by.to_owned(), s["desc"].as_bool().unwrap_or(false)))
            }
            _ => errs.push(detail(
                format!("/sort/{i}/by"),
                "unknown",
                "sort by names a measure key, a dimension key or _rows",
            )),
        }
    }
    let limit = match &def["limit"] {
        Value::Null => None,
        v => match v.as_u64() {
            Some(n) if (1..=1000).contains(&n) => Some(n as usize),
            _ => {
                errs.push(detail("/limit", "range", "limit is 1–1000"));
                None
            }
        },
    };
    if limit.is_some() && dims.is_empty() {
        errs.push(detail(
            "/limit",
            "dimension",
            "a limit keeps values of the first dimension; add one",
        ));
    }
    let chart = def.get("chart").cloned().unwrap_or(Value::Null);
    match chart["kind"].as_str() {
        None if chart.is_null() => {}
        Some(k) if CHART_KINDS.contains(&k) => {}
        _ => errs.push(detail(
            "/chart/kind",
            "enum",
            format!("chart kind is one of {}", CHART_KINDS.join(", ")),
        )),
    }
    let parsed = ReportDef {
        label: def["label"].clone(),
        form,
        filter,
        dims,
        measures,
        sort,
        limit,
        others: def["others"].as_bool().unwrap_or(false),
        chart,
        rows,
    };
    (parsed, errs)
}

/// The forms of an app with their cache columns.
pub struct AppForms {
    pub forms: HashMap<String, (Arc<CompiledForm>, Arc<Columns>)>,
}

/// A step of a path through a reference field.
#[derive(Debug, Clone)]
pub struct Hop {
    /// The form holding the reference field.
    pub from: String,
    /// The reference field on `from`.
    pub field: String,
    /// The reference's column in the assembled frame (`device`, `device.product`).
    pub via: String,
    pub to: String,
}

/// A field path resolved to a column of the assembled frame.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub column: String,
    pub ty: ColType,
    /// The form whose cache holds the column, and the column's name there.
    pub form: String,
    pub local: String,
    /// The field on `form` a reader must be allowed to read.
    pub top: String,
    pub hops: Vec<Hop>,
}

impl AppForms {
    /// Resolve `path` from `source`.
    pub fn resolve(&self, source: &str, path: &str) -> Result<Resolved, String> {
        let segs: Vec<&str> = path.split('.').collect();
        let mut form = source.to_owned();
        let mut hops = Vec::new();
        let mut i = 0;
        while i < segs.len() {
            let (compiled, cols) = self
                .forms
                .get(&form)
                .ok_or_else(|| format!("no form {form:?}"))?;
            let seg = segs[i];
            let prefix = hops
                .last()
                .map(|h: &Hop| format!("{}.", h.via))
                .unwrap_or_default();
            let rest = &segs[i + 1..];
            if rest.is_empty() {
                let ty = cols.get(seg).ok_or_else(|| match compiled.model.field(seg) {
                    Some(_) => format!("{path}: the field {seg} of {form} cannot be reported on (lists, files and signatures are not columns)"),
                    None => format!("{path}: {form} has no field {seg}"),
                })?;
                return Ok(Resolved {
                    column: format!("{prefix}{seg}"),
                    ty,
                    form,
                    local: seg.to_owned(),
                    top: seg.to_owned(),
                    hops,
                });
            }
            let spec = compiled
                .model
                .field(seg)
                .ok_or_else(|| format!("{path}: {form} has no field {seg}"))?;
            // In a report over a sub-table's rows (`form#table`), a reference column of
            // the rows leads on like a reference field: `table.part.name`.
            if spec.kind == Some(FieldKind::SubTable)
                && form.strip_suffix(seg).is_some_and(|f| f.ends_with('#'))
                && rest.len() >= 2
                && let Some(child) = spec.children.get(rest[0])
                && child.kind == Some(FieldKind::Reference)
            {
                let to = child
                    .ref_form
                    .clone()
                    .ok_or_else(|| format!("{path}: {seg}.{} names no form", rest[0]))?;
                let field = format!("{seg}.{}", rest[0]);
                hops.push(Hop {
                    from: form.clone(),
                    via: format!("{prefix}{field}"),
                    field,
                    to: to.clone(),
                });
                form = to;
                i += 2;
                continue;
            }
            if spec.kind == Some(FieldKind::Reference) {
                let to = spec
                    .ref_form
                    .clone()
                    .ok_or_else(|| format!("{path}: {seg} names no form"))?;
                hops.push(Hop {
                    from: form.clone(),
                    field: seg.to_owned(),
                    via: format!("{prefix}{seg}"),
                    to: to.clone(),
                });
                form = to;
                i += 1;
                continue;
            }
            if rest.len() == 1 {
                let local = format!("{seg}.{}", rest[0]);
                if let Some(ty) = cols.get(&local) {
                    return Ok(Resolved {
                        column: format!("{prefix}{local}"),
                        ty,
                        form,
                        local,
                        top: seg.to_owned(),
                        hops,
                    });
                }
            }
            if spec.kind == Some(FieldKind::SubTable) {
                return Err(format!(
                    "{path}: {seg} of {form} is a sub-table; a report over its rows names it in \"rows\""
                ));
            }
            return Err(format!(
                "{path}: {seg} of {form} is neither a reference nor a region"
            ));
        }
        Err(format!("{path}: an empty field path"))
    }
}

/// Joins needed for a set of resolved paths: by `via`, parents first.
pub fn joins(resolved: &[Resolved]) -> Vec<(String, String, Vec<String>)> {
    let mut by_via: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for r in resolved {
        for (k, h) in r.hops.iter().enumerate() {
            let entry = by_via
                .entry(h.via.clone())
                .or_insert_with(|| (h.to.clone(), Vec::new()));
            // The joined form's column this path needs: the next hop's reference, or the field.
            let need = match r.hops.get(k + 1) {
                Some(next) => next.field.clone(),
                None => r.local.clone(),
            };
            if !entry.1.contains(&need) {
                entry.1.push(need);
            }
        }
    }
    let mut out: Vec<(String, String, Vec<String>)> = by_via
        .into_iter()
        .map(|(via, (form, cols))| (via, form, cols))
        .collect();
    out.sort_by_key(|(via, _, _)| via.matches('.').count());
    out
}
