//! Reports and dashboards: definitions, permissions, and keeping the polars caches of the
//! `formwork-reports` crate current. See docs/reports.md.

pub mod columns;
pub mod definition;
mod output;
mod plan;
pub mod store;
mod sync;

use formwork_reports::{Engine, FormCache, Join, Measure, Query, SortBy, Source, Value_};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::auth::{AuthService, Caller, Decision};
use crate::error::{Detail, DomainError, DomainResult};
use crate::query::sql::Params;
use crate::service::forms::FormService;
use crate::store::db::Db;
use crate::store::records::{data_of, form_scope};
use crate::store::writer::Writer;
use columns::{Columns, Src};
use definition::{AppForms, ReportDef, Resolved};
use plan::{build_query, plan, plan_all};

/// Read the records of a form in pages of this many rows when building its cache.
const PAGE: i64 = 10_000;
/// Records read by id at a time.
const ID_CHUNK: usize = 500;
/// More changed records than this since the last run: rebuild the caches instead.
const REBUILD_AFTER: usize = 100_000;

#[derive(Clone)]
pub struct ReportService {
    db: Db,
    writer: Writer,
    forms: FormService,
    auth: AuthService,
    inner: Arc<Inner>,
}

struct Inner {
    engines: Mutex<HashMap<String, Arc<Engine>>>,
    /// Cache columns of each form version (`app/form`), made once rather than per run.
    columns: Mutex<HashMap<String, Arc<Columns>>>,
    sync: tokio::sync::Mutex<SyncState>,
}

#[derive(Default)]
struct SyncState {
    /// The operation-log position the caches reflect.
    synced: i64,
    /// Built caches (`app/form`) and the columns they were built with.
    built: HashMap<String, Arc<Columns>>,
}

/// What a run produced, before it is shaped for JSON, CSV or XLSX.
pub struct RunResult {
    pub json: Value,
}

/// The forms whose caches a report reads: its source (a form, or a sub-table's rows) and
/// the forms it joins.
fn forms_read(from: &str, joins: &[(String, String, Vec<String>)]) -> Vec<String> {
    std::iter::once(from.to_owned())
        .chain(joins.iter().map(|j| j.1.clone()))
        .collect()
}

impl ReportService {
    pub fn new(db: Db, writer: Writer, forms: FormService, auth: AuthService) -> Self {
        ReportService {
            db,
            writer,
            forms,
            auth,
            inner: Arc::new(Inner {
                engines: Mutex::new(HashMap::new()),
                columns: Mutex::new(HashMap::new()),
                sync: tokio::sync::Mutex::new(SyncState::default()),
            }),
        }
    }

    /// The app's engine, in the app's time zone. The zone is read again from the app's
    /// definition every few seconds (`time::ZONE_TTL_SECS`); when it changed, the engine is
    /// replaced and its caches (whose time buckets are in the old zone) are built again.
    async fn engine(&self, app: &str) -> DomainResult<Arc<Engine>> {
        let tz = self.forms.zone(app).await?;
        let mut engines = self.inner.engines.lock().unwrap_or_else(|e| e.into_inner());
        match engines.get(app) {
            Some(e) if e.tz() == tz => Ok(e.clone()),
            _ => {
                let e = Arc::new(Engine::new(tz));
                engines.insert(app.to_owned(), e.clone());
                Ok(e)
            }
        }
    }

    /// The app's forms with their cache columns.
    pub async fn app_forms(&self, app: &str) -> DomainResult<AppForms> {
        let mut forms = HashMap::new();
        for k in self.forms.form_keys(app).await? {
            if let Ok(c) = self.forms.current(app, &k).await {
                let mut known = self.inner.columns.lock().unwrap_or_else(|e| e.into_inner());
                let cols = known
                    .entry(format!("{app}/{k}"))
                    .and_modify(|cols| {
                        if cols.version != c.version {
                            *cols = Arc::new(Columns::of(&c));
                        }
                    })
                    .or_insert_with(|| Arc::new(Columns::of(&c)))
                    .clone();
                // Each sub-table's rows as a source of its own, `form#table`.
                for (t, spec) in &c.model.fields {
                    if spec.kind != Some(crate::schema::field_types::FieldKind::SubTable) {
                        continue;
                    }
                    let name = format!("{k}#{t}");
                    let make =
                        || Arc::new(Columns::of_rows(&c, t).unwrap_or_else(|| Columns::of(&c)));
                    let rows = known
                        .entry(format!("{app}/{name}"))
                        .and_modify(|cols| {
                            if cols.version != c.version {
                                *cols = make();
                            }
                        })
                        .or_insert_with(make)
                        .clone();
                    forms.insert(name, (c.clone(), rows));
                }
                drop(known);
                forms.insert(k, (c, cols));
            }
        }
        Ok(AppForms { forms })
    }

    /// The app's date on this server's clock: what `today` means in report filters.
    fn today(&self, tz: chrono_tz::Tz) -> chrono::NaiveDate {
        self.db.clock.utc().with_timezone(&tz).date_naive()
    }

    /// Problems of a report definition against the app's forms (none: it can be published).
    pub async fn check(
        &self,
        app: &str,
        def: &Value,
    ) -> DomainResult<Result<ReportDef, Vec<Detail>>> {
        // Relative dates are checked as they resolve today.
        let tz = self.engine(app).await?.tz();
        let today = self.today(tz);
        let mut def = def.clone();
        if let Some(f) = def.get_mut("filter") {
            *f = formwork_reports::logic::resolve_dates(f, today);
        }
        for m in def
            .get_mut("measures")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(f) = m.get_mut("where") {
                *f = formwork_reports::logic::resolve_dates(f, today);
            }
        }
        let (parsed, mut errs) = definition::parse_all(&def);
        let forms = self.app_forms(app).await?;
        if !forms.forms.contains_key(&parsed.form) {
            if !parsed.form.is_empty() {
                errs.push(Detail::new(
                    "/form",
                    "unknown",
                    format!("no form {:?} in {app}", parsed.form),
                ));
            }
            return Ok(Err(errs));
        }
        if let Some(t) = &parsed.rows
            && !forms.forms.contains_key(&parsed.source())
        {
            errs.push(no_sub_table(&parsed.form, t));
            return Ok(Err(errs));
        }
        let (p, plan_errs) = plan_all(&forms, &parsed, None);
        let broken: HashSet<String> = plan_errs.iter().map(|d| d.pointer.clone()).collect();
        errs.extend(plan_errs);
        {
            let types: HashMap<String, formwork_reports::ColType> = p
                .resolved
                .iter()
                .map(|r| (r.column.clone(), r.ty))
                .collect();
            if let Some(f) = &parsed.filter
                && !broken.contains("/filter")
                && let Err(e) = formwork_reports::logic::check(f, &types, tz, "/filter")
            {
                errs.push(report_detail(e));
            }
            for (i, m) in parsed.measures.iter().enumerate() {
                if let Some(w) = &m.filter
                    && !broken.contains(&format!("/measures/{i}"))
                    && let Err(e) = formwork_reports::logic::check(
                        w,
                        &types,
                        tz,
                        &format!("/measures/{i}/where"),
                    )
                {
                    errs.push(report_detail(e));
                }
                if let Err(e) = check_measure_types(m, &types, i) {
                    errs.push(e);
                }
            }
            for (i, d) in parsed.dims.iter().enumerate() {
                if let Some((a, b, _)) = &d.duration {
                    let (ta, tb) = (types.get(a), types.get(b));
                    if let (Some(ta), Some(tb)) = (ta, tb)
                        && !(ta.is_temporal() && tb.is_temporal())
                    {
                        errs.push(Detail::new(
                            format!("/dimensions/{i}/duration"),
                            "type",
                            format!(
                                "a duration runs between two dates or date-times ({a}: {}, {b}: {})",
                                ta.name(),
                                tb.name()
                            ),
                        ));
                    }
                    continue;
                }
                let ty = types.get(&d.field).copied();
                match (d.bucket, ty) {
                    (Some(formwork_reports::Bucket::Time(b)), Some(t)) if !t.is_temporal() => errs
                        .push(Detail::new(
                            format!("/dimensions/{i}/bucket"),
                            "type",
                            format!(
                                "{} is not a date, so it has no {} buckets",
                                d.field,
                                b.name()
                            ),
                        )),
                    (Some(formwork_reports::Bucket::Width(_)), Some(t)) if !t.is_numeric() => errs
                        .push(Detail::new(
                            format!("/dimensions/{i}/bucket"),
                            "type",
                            format!("{} is not a number, so it has no numeric buckets", d.field),
                        )),
                    _ => {}
                }
            }
        }
        Ok(if errs.is_empty() {
            Ok(parsed)
        } else {
            Err(errs)
        })
    }

    /// Build the caches every published report reads (its form, or the rows of a
    /// sub-table, and the forms it joins), at start-up: the first report after a restart
    /// does not wait for them. A cache a run needs before this got to it is built by that
    /// run (`ensure`), once; a report that no longer fits its forms, or a cache that
    /// cannot be built, is skipped (its runs say why).
    pub async fn warm(&self) -> DomainResult<usize> {
        let mut built = 0;
        for app in self.forms.list_apps().await? {
            let Some(app) = app["key"].as_str() else {
                continue;
            };
            let (forms, engine) = match (self.app_forms(app).await, self.engine(app).await) {
                (Ok(f), Ok(e)) => (f, e),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(app, error = %e, "report caches of this app left to their first runs");
                    continue;
                }
            };
            let mut needed: Vec<String> = Vec::new();
            for (key, _, raw) in self.definitions(app, store::Kind::Report).await? {
                let Ok(def) = definition::parse(&raw) else {
                    continue;
                };
                let Ok(plan) = plan(&forms, &def, None) else {
                    tracing::warn!(app, report = %key, "report does not fit its forms; its cache is left to its first run");
                    continue;
                };
                let from = def.source();
                if !forms.forms.contains_key(&from) {
                    continue;
                }
                for form in forms_read(&from, &definition::joins(&plan.resolved)) {
                    if !needed.contains(&form) {
                        needed.push(form);
                    }
                }
            }
            // One form at a time: a run meanwhile waits for one cache, not for all.
            for form in needed {
                match self
                    .ensure(app, &engine, &forms, std::slice::from_ref(&form))
                    .await
                {
                    Ok(()) => built += 1,
                    Err(e) => {
                        tracing::warn!(app, form, error = %e, "report cache left to its first run")
                    }
                }
            }
        }
        Ok(built)
    }

    /// Run a published report.
    pub async fn run_saved(
        &self,
        app: &str,
        key: &str,
        extra: Option<Value>,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let (version, raw) = self.definition(app, store::Kind::Report, key).await?;
        // Checked when published; the forms may have changed since.
        let def = definition::parse(&raw).map_err(DomainError::invalid)?;
        let meta = json!({"report": key, "version": version});
        Ok(self.run(app, &def, meta, extra, caller).await?.json)
    }

    /// Run a report for a caller; `extra` is ANDed with the report's own filter.
    pub async fn run(
        &self,
        app: &str,
        def: &ReportDef,
        meta: Value,
        extra: Option<Value>,
        caller: &Caller,
    ) -> DomainResult<RunResult> {
        let forms = self.app_forms(app).await?;
        if !forms.forms.contains_key(&def.form) {
            return Err(DomainError::invalid_one(
                "/form",
                "unknown",
                format!("no form {:?} in {app}", def.form),
            ));
        }
        // The rows a report counts: the form's records, or the rows of one of its
        // sub-tables, which are the form's as far as anyone may read them.
        let from = def.source();
        if let Some(t) = &def.rows
            && !forms.forms.contains_key(&from)
        {
            return Err(DomainError::invalid(vec![no_sub_table(&def.form, t)]));
        }
        // Someone who may not read the form learns nothing of its fields either.
        let source = self.auth.decide(caller, app, &def.form).await?;
        source.require("read")?;
        // Relative dates ("today", add_days) become today's dates for this run.
        let engine = self.engine(app).await?;
        let today = self.today(engine.tz());
        let resolve = |f: &Value| formwork_reports::logic::resolve_dates(f, today);
        let mut dated = def.clone();
        dated.filter = def.filter.as_ref().map(resolve);
        for m in &mut dated.measures {
            m.filter = m.filter.as_ref().map(resolve);
        }
        let def = &dated;
        let extra = extra.as_ref().map(resolve);
        let plan = plan(&forms, def, extra.as_ref()).map_err(DomainError::invalid)?;
        // Permissions: every form on the way must be readable, and every field read.
        let mut decisions: HashMap<String, Arc<Decision>> =
            HashMap::from([(def.form.clone(), source.clone()), (from.clone(), source)]);
        let mut involved = Vec::new();
        for r in &plan.resolved {
            for h in &r.hops {
                involved.push(h.to.clone());
            }
        }
        for f in involved {
            if let std::collections::hash_map::Entry::Vacant(e) = decisions.entry(f) {
                let d = self.auth.decide(caller, app, e.key()).await?;
                e.insert(d);
            }
        }
        let readable = |r: &Resolved| -> Result<(), String> {
            for h in &r.hops {
                // (A reference column of sub-table rows is `table.column`.)
                if decisions[&h.from].require_read(&h.field, "").is_err() {
                    return Err(h.field.clone());
                }
                if !decisions[&h.to].allows("read") {
                    return Err(format!("{} (form {})", h.field, h.to));
                }
            }
            let d = &decisions[&r.form];
            if r.top.starts_with('_') || d.require_read(&r.local, "").is_ok() {
                Ok(())
            } else {
                Err(r.local.clone())
            }
        };
        let by_path: HashMap<&str, &Resolved> = plan
            .paths
            .iter()
            .map(|(p, r)| (p.as_str(), &plan.resolved[*r]))
            .collect();
        let require = |paths: &[String], pointer: &str| -> DomainResult<()> {
            for p in paths {
                if let Some(r) = by_path.get(p.as_str())
                    && let Err(f) = readable(r)
                {
                    return Err(DomainError::forbidden(
                        pointer,
                        "field_read",
                        format!("you may not read the field {f}"),
                    ));
                }
            }
            Ok(())
        };
        for (i, d) in def.dims.iter().enumerate() {
            require(&d.fields(), &format!("/dimensions/{i}"))?;
        }
        let mut filter_fields = Vec::new();
        if let Some(f) = &def.filter {
            formwork_reports::logic::fields(f, &mut filter_fields);
        }
        require(&filter_fields, "/filter")?;
        let mut extra_fields = Vec::new();
        if let Some(f) = &extra {
            formwork_reports::logic::fields(f, &mut extra_fields);
        }
        require(&extra_fields, "/filter")?;
        // Measures over unreadable fields are withheld, and ratios of them.
        let mut withheld: Vec<Value> = Vec::new();
        let mut hidden: HashSet<&str> = HashSet::new();
        for m in &def.measures {
            for p in m.fields() {
                if let Some(r) = by_path.get(p.as_str())
                    && let Err(f) = readable(r)
                {
                    hidden.insert(m.key.as_str());
                    withheld.push(json!({"key": m.key, "field": f}));
                    break;
                }
            }
        }
        // In order: a derived measure reads plain ones and derived ones before it.
        for m in &def.measures {
            let refs = m.refs();
            if refs.iter().any(|r| hidden.contains(r.as_str())) && hidden.insert(m.key.as_str()) {
                let member = if m.expr.is_some() { "expr" } else { "of" };
                withheld.push(json!({"key": m.key, member: refs}));
            }
        }
        let kept: Vec<&definition::MeasureDef> = def
            .measures
            .iter()
            .filter(|m| !hidden.contains(m.key.as_str()))
            .collect();

        // The rows the caller may see, of the source and of every joined form.
        let source_ids = self.allowed_ids(app, &def.form, caller).await?;
        let joins = definition::joins(&plan.resolved);
        let mut join_specs = Vec::new();
        for (via, form, cols) in &joins {
            join_specs.push(Join {
                via: via.clone(),
                form: form.clone(),
                allowed: self.allowed_ids(app, form, caller).await?,
                columns: cols.clone(),
            });
        }
        let needed = forms_read(&from, &joins);
        self.ensure(app, &engine, &forms, &needed).await?;

        // A drill is a list-API filter: only when the list API understands the filters.
        let model = &forms.forms[&def.form].0.model;
        let list_ok = |f: &Option<Value>| {
            f.as_ref().is_none_or(|f| {
                crate::query::filter::Filter::parse(
                    f,
                    &crate::query::fields::Scope::Root(model),
                    "",
                )
                .is_ok()
            })
        };
        // Each dimension's field through its reference hops: a joined dimension drills with
        // `ref` filters (query/filter.rs).
        let paths: Option<Vec<output::DrillPath>> = def
            .dims
            .iter()
            .map(|d| {
                // A duration dimension has no list-API filter: no drills.
                if d.duration.is_some() {
                    return None;
                }
                let r = by_path.get(d.field.as_str())?;
                // Over a sub-table's rows, a row's own column, or a path through a
                // reference of the rows, drills inside `some` (the row's `ref`s are the
                // list API's `ref` inside `some`).
                let in_row = |f: &str| {
                    def.rows
                        .as_deref()
                        .and_then(|t| f.strip_prefix(t)?.strip_prefix('.'))
                        .map(str::to_owned)
                };
                let mut refs: Vec<String> = r.hops.iter().map(|h| h.field.clone()).collect();
                let mut local = r.local.clone();
                let row = match refs.first_mut() {
                    Some(first) => in_row(first).map(|column| *first = column),
                    None => in_row(&r.local).map(|column| local = column),
                };
                Some(output::DrillPath {
                    refs,
                    local,
                    bucketed: d.bucket.is_some(),
                    in_row: row.is_some(),
                })
            })
            .collect();
        // (Over a sub-table's rows: the table and a column of it, for `some` in drills.)
        let rows_of: Option<(&str, &str)> = def.rows.as_deref().and_then(|t| {
            let column = model.field(t)?.children.keys().next()?;
            Some((t, column.as_str()))
        });
        let paths = paths.filter(|_| {
            (def.rows.is_none() || rows_of.is_some()) && list_ok(&def.filter) && list_ok(&extra)
        });
        // Rows no list-API filter describes — every row when the filters or a duration
        // dimension have none, a row grouped by a plain date-time, the gathered rest of
        // bucketed top values — drill by the ids of their records instead, when they are
        // few enough to list (`output::DRILL_IDS`).
        let plain_instant = def.dims.iter().any(|d| {
            d.duration.is_none()
                && d.bucket.is_none()
                && by_path
                    .get(d.field.as_str())
                    .is_some_and(|r| r.ty == formwork_reports::ColType::Datetime)
        });
        // (And the gathered rest of a top-N over buckets.)
        let bucketed_rest = def.others
            && def.limit.is_some()
            && def.dims.first().is_some_and(|d| d.bucket.is_some());
        let drill_ids = paths.is_none() || plain_instant || bucketed_rest;
        let mut query = build_query(def, &kept, extra.as_ref(), &plan);
        if drill_ids {
            query.ids = Some(output::DRILL_IDS);
        }
        if def.rows.is_some() {
            // Over a sub-table's rows: the records behind each output row too (a drill
            // lists records), as a last measure the output takes apart.
            query.measures.push(Measure {
                agg: formwork_reports::Agg::CountDistinct,
                value: Some(Value_::Column(formwork_reports::RECORD.to_owned())),
                filter: None,
                q: None,
                ratio: None,
                formula: None,
            });
        }
        let source = Source {
            form: from.clone(),
            allowed: source_ids,
            joins: join_specs,
        };
        let run_engine = engine.clone();
        let out = tokio::task::spawn_blocking(move || run_engine.run(&source, &query))
            .await
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("report task: {e}")))?
            .map_err(from_report_error)?;
        // A measure over some of the rows (`where`) drills to those rows: its cell's filter
        // is the row's and the measure's, when the list API understands the latter.
        let wheres: Vec<Option<Value>> = kept
            .iter()
            .map(|m| {
                m.filter
                    .clone()
                    .filter(|w| def.rows.is_none() && list_ok(&Some(w.clone())))
            })
            .collect();
        let mut json = output::shape(
            def,
            &kept,
            &out,
            meta,
            withheld,
            extra.as_ref(),
            output::Drills {
                paths: paths.as_deref(),
                wheres: &wheres,
                rows_of,
            },
        );
        self.label_references(app, def, &forms, caller, &mut json)
            .await?;
        Ok(RunResult { json })
    }

    /// Names for the ids of reference and member dimensions (`rows[].labels`): the referenced
    /// record's display field when the caller may read it, a user's display name.
    async fn label_references(
        &self,
        app: &str,
        def: &ReportDef,
        forms: &AppForms,
        caller: &Caller,
        json: &mut Value,
    ) -> DomainResult<()> {
        use crate::schema::field_types::FieldKind;
        let rows = json["rows"].as_array().cloned().unwrap_or_default();
        for d in def.dims.iter().filter(|d| d.duration.is_none()) {
            let Ok(r) = forms.resolve(&def.source(), &d.field) else {
                continue;
            };
            let Some((compiled, _)) = forms.forms.get(&r.form) else {
                continue;
            };
            // (A sub-table's column: `table.column`.)
            let spec = match r.local.split_once('.') {
                Some((t, c)) => compiled.model.field(t).and_then(|t| t.children.get(c)),
                None => compiled.model.field(&r.local),
            };
            let Some(spec) = spec else {
                continue;
            };
            let values: Vec<&Value> = rows
                .iter()
                .map(|row| &row["cells"][&d.key])
                .filter(|v| !v.is_null())
                .collect();
            if values.is_empty() || d.bucket.is_some() {
                continue;
            }
            let mut names: HashMap<String, String> = HashMap::new();
            match spec.kind {
                Some(FieldKind::Reference) => {
                    let (Some(target), Some(display)) = (
                        spec.ref_form.clone(),
                        spec.schema["x-ref"]["display"].as_str(),
                    ) else {
                        continue;
                    };
                    let decision = self.auth.decide(caller, app, &target).await?;
                    if !decision.allows("read") || !decision.can_read(display) {
                        continue;
                    }
                    let allowed = self.allowed_ids(app, &target, caller).await?;
                    let ids: Vec<i64> = values
                        .iter()
                        .filter_map(|v| v.as_i64())
                        .filter(|id| allowed.as_ref().is_none_or(|a| a.contains(id)))
                        .collect();
                    for chunk in ids.chunks(ID_CHUNK) {
                        for row in self.records_by_id(app, &target, chunk, "id, data").await? {
                            let id: i64 = row.try_get("", "id")?;
                            let data = data_of(self.db.backend, &row)?;
                            if let Some(text) = data.get(display).and_then(Value::as_str) {
                                names.insert(id.to_string(), text.to_owned());
                            }
                        }
                    }
                }
                Some(FieldKind::Member) => {
                    let users: Vec<String> = values
                        .iter()
                        .filter_map(|v| v.as_str())
                        .filter(|u| u.chars().all(|c| c.is_alphanumeric() || "_.-@".contains(c)))
                        .map(|u| format!("'{u}'"))
                        .collect();
                    if users.is_empty() {
                        continue;
                    }
                    let sql = format!(
                        "SELECT username, display_name FROM users WHERE username IN ({})",
                        users.join(", ")
                    );
                    for row in self.db.query_all(&sql, vec![]).await? {
                        let u: String = row.try_get("", "username")?;
                        if let Some(n) = row.try_get::<Option<String>>("", "display_name")? {
                            names.insert(u, n);
                        }
                    }
                }
                _ => continue,
            }
            if let Some(out) = json["rows"].as_array_mut() {
                for row in out {
                    let key = match &row["cells"][&d.key] {
                        Value::Number(n) => n.to_string(),
                        Value::String(s) => s.clone(),
                        _ => continue,
                    };
                    if let Some(name) = names.get(&key) {
                        row["labels"][&d.key] = json!(name);
                    }
                }
            }
        }
        Ok(())
    }

    /// The ids of the rows of `form` the caller may see; `None` when that is all of them.
    async fn allowed_ids(
        &self,
        app: &str,
        form: &str,
        caller: &Caller,
    ) -> DomainResult<Option<Vec<i64>>> {
        let mut params = Params::default();
        let Some(rows) = self
            .auth
            .row_scope(caller, app, form, self.db.backend, &mut params)
            .await?
        else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT id FROM records WHERE {} AND deleted_at IS NULL AND {rows}",
            form_scope(app, form)
        );
        let ids = self
            .db
            .query_all(&sql, params.0)
            .await?
            .iter()
            .map(|r| r.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ids))
    }
}

fn no_sub_table(form: &str, table: &str) -> Detail {
    Detail::new(
        "/rows",
        "unknown",
        format!("{form} has no sub-table {table:?}"),
    )
}

fn check_measure_types(
    m: &definition::MeasureDef,
    types: &HashMap<String, formwork_reports::ColType>,
    i: usize,
) -> Result<(), Detail> {
    use formwork_reports::Agg;
    let Some(f) = &m.field else { return Ok(()) };
    let Some(ty) = types.get(f) else {
        return Ok(());
    };
    let numeric_only = matches!(m.agg, Agg::Sum | Agg::Avg | Agg::Median | Agg::Percentile);
    if numeric_only && !ty.is_numeric() {
        return Err(Detail::new(
            format!("/measures/{i}/field"),
            "type",
            format!(
                "{} needs a number; {f} is {}",
                definition::agg_name(m.agg),
                ty.name()
            ),
        ));
    }
    if matches!(m.agg, Agg::Min | Agg::Max) && !(ty.is_numeric() || ty.is_temporal()) {
        return Err(Detail::new(
            format!("/measures/{i}/field"),
            "type",
            format!(
                "{} needs a number or a date; {f} is {}",
                definition::agg_name(m.agg),
                ty.name()
            ),
        ));
    }
    Ok(())
}

fn report_detail(e: formwork_reports::ReportError) -> Detail {
    match e {
        formwork_reports::ReportError::Invalid { pointer, message } => {
            Detail::new(&pointer, "report", message)
        }
        other => Detail::new("", "report", other.to_string()),
    }
}

fn from_report_error(e: formwork_reports::ReportError) -> DomainError {
    match e {
        formwork_reports::ReportError::Invalid { pointer, message } => {
            DomainError::invalid_one(&pointer, "report", message)
        }
        other => DomainError::Internal(anyhow::anyhow!(other.to_string())),
    }
}
