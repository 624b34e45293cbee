//! A report's field paths resolved against the app's forms, and the engine query built
//! from a definition.

use super::*;

/// Every field path a report (and the request's filter) reads, resolved.
pub struct Plan {
    pub resolved: Vec<Resolved>,
    /// Path → index into `resolved`.
    pub paths: Vec<(String, usize)>,
}

pub(super) fn plan(
    forms: &AppForms,
    def: &ReportDef,
    extra: Option<&Value>,
) -> Result<Plan, Vec<Detail>> {
    let (p, errs) = plan_all(forms, def, extra);
    if errs.is_empty() { Ok(p) } else { Err(errs) }
}

/// The paths that resolve, and the problems of those that do not.
pub(super) fn plan_all(
    forms: &AppForms,
    def: &ReportDef,
    extra: Option<&Value>,
) -> (Plan, Vec<Detail>) {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for (i, d) in def.dims.iter().enumerate() {
        let member = if d.duration.is_some() {
            "duration"
        } else {
            "field"
        };
        for f in d.fields() {
            wanted.push((f, format!("/dimensions/{i}/{member}")));
        }
    }
    for (i, m) in def.measures.iter().enumerate() {
        for f in m.fields() {
            wanted.push((f, format!("/measures/{i}")));
        }
    }
    let mut f = Vec::new();
    if let Some(x) = &def.filter {
        formwork_reports::logic::fields(x, &mut f);
    }
    if let Some(x) = extra {
        formwork_reports::logic::fields(x, &mut f);
    }
    for p in f {
        wanted.push((p, "/filter".to_owned()));
    }
    let mut resolved = Vec::new();
    let mut paths: Vec<(String, usize)> = Vec::new();
    let mut errs = Vec::new();
    let mut failed: HashSet<(String, String)> = HashSet::new();
    for (path, pointer) in wanted {
        if paths.iter().any(|(p, _)| p == &path)
            || failed.contains(&(path.clone(), pointer.clone()))
        {
            continue;
        }
        match forms.resolve(&def.source(), &path) {
            Ok(r) => {
                paths.push((path, resolved.len()));
                resolved.push(r);
            }
            Err(e) => {
                errs.push(Detail::new(&pointer, "unknown_field", e));
                failed.insert((path, pointer));
            }
        }
    }
    (Plan { resolved, paths }, errs)
}

pub(super) fn build_query(
    def: &ReportDef,
    kept: &[&definition::MeasureDef],
    extra: Option<&Value>,
    plan: &Plan,
) -> Query {
    let col_of = |p: &str| {
        plan.paths
            .iter()
            .find(|(x, _)| x == p)
            .map(|(_, i)| plan.resolved[*i].column.clone())
            .unwrap_or_else(|| p.to_owned())
    };
    // Filters name paths; the frame's columns are the same dotted paths.
    let filter = match (&def.filter, extra) {
        (Some(a), Some(b)) => Some(json!({"and": [a, b]})),
        (Some(a), None) => Some(a.clone()),
        (None, Some(b)) => Some(b.clone()),
        (None, None) => None,
    };
    let measures =
        kept.iter()
            .map(|m| Measure {
                agg: m.agg,
                value: match (&m.field, &m.duration) {
                    (Some(f), _) => Some(Value_::Column(col_of(f))),
                    (None, Some((a, b, u))) => Some(Value_::Duration {
                        from: col_of(a),
                        to: col_of(b),
                        unit: *u,
                    }),
                    _ => None,
                },
                filter: m.filter.clone(),
                q: m.q,
                ratio: m.of.as_ref().and_then(|(a, b)| {
                    let ia = kept.iter().position(|k| &k.key == a)?;
                    let ib = kept.iter().position(|k| &k.key == b)?;
                    Some((ia, ib))
                }),
                formula: m.expr.as_ref().and_then(|e| {
                    definition::to_formula(e, &|k| kept.iter().position(|x| x.key == k))
                }),
            })
            .collect();
    let sort = def
        .sort
        .iter()
        .filter_map(|(by, desc)| {
            if by == "_rows" {
                return Some((SortBy::Rows, *desc));
            }
            if let Some(i) = def.dims.iter().position(|d| &d.key == by) {
                return Some((SortBy::Dim(i), *desc));
            }
            // A withheld measure is not sorted by: the order would reveal it.
            kept.iter()
                .position(|m| &m.key == by)
                .map(|i| (SortBy::Measure(i), *desc))
        })
        .collect();
    Query {
        filter,
        dimensions: def
            .dims
            .iter()
            .map(|d| formwork_reports::Dim {
                value: match &d.duration {
                    Some((a, b, u)) => Value_::Duration {
                        from: col_of(a),
                        to: col_of(b),
                        unit: *u,
                    },
                    None => Value_::Column(col_of(&d.field)),
                },
                bucket: d.bucket,
            })
            .collect(),
        measures,
        sort,
        limit: def.limit,
        others: def.others,
        ids: None,
    }
}
