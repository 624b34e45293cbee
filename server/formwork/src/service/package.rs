//! App packages: a folder with `app.json`, `forms/<key>.json`, `roles/<key>.json`,
//! `flows/<key>.json`, `reports/<key>.json`, `dashboards/<key>.json` and
//! `views/<form>.json` (shared list views; see docs/app-package.md).
//! Import checks the whole package before writing anything and is idempotent.

use serde_json::Value;
use std::path::Path;

use super::forms::FormService;
use crate::auth::policy::RoleDoc;
use crate::auth::{AuthService, Caller};
use crate::error::DomainError;
use crate::schema::definition::compile;

#[derive(Debug, Default)]
pub struct ImportReport {
    pub app: String,
    pub forms: usize,
    pub published: usize,
    pub roles: usize,
    pub flows: usize,
    pub reports: usize,
    pub dashboards: usize,
    pub views: usize,
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))
}

/// The JSON documents of a package subfolder, sorted by file name.
fn load_dir(dir: &Path) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            out.push(read_json(&p)?);
        }
    }
    Ok(out)
}

/// The JSON documents of a package subfolder with their keys (file names), sorted.
fn load_named(dir: &Path) -> anyhow::Result<Vec<(String, Value)>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let key = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            out.push((key, read_json(&p)?));
        }
    }
    Ok(out)
}

/// Load a package folder: the app definition and its forms, sorted by key.
pub fn load(dir: &Path) -> anyhow::Result<(Value, Vec<Value>)> {
    let app = read_json(&dir.join("app.json"))?;
    Ok((app, load_dir(&dir.join("forms"))?))
}

/// The services a package touches.
pub struct Services<'a> {
    pub forms: &'a FormService,
    pub records: &'a crate::service::records::RecordService,
    pub auth: &'a AuthService,
    pub flows: &'a crate::flows::FlowService,
    pub reports: &'a crate::reports::ReportService,
}

/// `views/<form>.json`: the form's shared views, `[{name, spec}]` (docs/app-package.md).
fn load_views(dir: &Path) -> anyhow::Result<Vec<(String, Vec<Value>)>> {
    load_named(dir)?
        .into_iter()
        .map(|(form, v)| match v {
            Value::Array(views) if views.iter().all(Value::is_object) => Ok((form, views)),
            _ => anyhow::bail!("views/{form}.json: a list of views, each {{name, spec}}"),
        })
        .collect()
}

pub async fn import(
    svc: &Services<'_>,
    dir: &Path,
    caller: &Caller,
) -> anyhow::Result<ImportReport> {
    let (forms_svc, auth, flows, reports) = (svc.forms, svc.auth, svc.flows, svc.reports);
    let actor = &caller.actor;
    let (app_def, forms) = load(dir)?;
    let roles = load_dir(&dir.join("roles"))?;
    let flow_defs = load_dir(&dir.join("flows"))?;
    let report_defs = load_named(&dir.join("reports"))?;
    let dashboard_defs = load_named(&dir.join("dashboards"))?;
    let view_defs = load_views(&dir.join("views"))?;
    let key = app_def
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow::anyhow!("app.json has no key"))?
        .to_owned();
    // Check everything first: every form compiles and references only forms of the package
    // (or forms the app already has).
    let existing = forms_svc.form_keys(&key).await.unwrap_or_default();
    let keys: Vec<String> = forms
        .iter()
        .filter_map(|f| f.get("key").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut problems = Vec::new();
    let mut models = std::collections::HashMap::new();
    for k in &existing {
        if let Ok(c) = forms_svc.current(&key, k).await {
            models.insert(k.clone(), c.model.clone());
        }
    }
    for f in &forms {
        let name = f.get("key").and_then(Value::as_str).unwrap_or("?");
        match compile(&key, 0, f) {
            Ok(c) => {
                models.insert(name.to_owned(), c.model.clone());
                for (_, r) in c.model.references() {
                    let target = r.ref_form.as_deref().unwrap_or_default();
                    if !keys.iter().any(|k| k == target) && !existing.iter().any(|k| k == target) {
                        problems.push(format!(
                            "forms/{name}.json: {} references unknown form {target:?}",
                            r.key
                        ));
                    }
                }
            }
            Err(DomainError::Invalid { details, .. }) => {
                for d in details {
                    problems.push(format!(
                        "forms/{name}.json{}: {} ({})",
                        d.pointer, d.message, d.rule
                    ));
                }
            }
            Err(e) => problems.push(format!("forms/{name}.json: {e}")),
        }
    }
    for r in &roles {
        let name = r.get("key").and_then(Value::as_str).unwrap_or("?");
        if let Err(DomainError::Invalid { details, .. }) = RoleDoc::check(r, name, &models) {
            for d in details {
                problems.push(format!(
                    "roles/{name}.json{}: {} ({})",
                    d.pointer, d.message, d.rule
                ));
            }
        }
    }
    for (form, views) in &view_defs {
        if !models.contains_key(form) {
            problems.push(format!("views/{form}.json: there is no form {form:?}"));
        }
        for (i, v) in views.iter().enumerate() {
            if !v.get("name").is_some_and(Value::is_string)
                || !v.get("spec").is_some_and(Value::is_object)
            {
                problems.push(format!("views/{form}.json/{i}: a view is {{name, spec}}"));
            }
        }
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "the package is invalid; nothing was written:\n  {}",
            problems.join("\n  ")
        );
    }
    forms_svc
        .put_app(&key, app_def, actor)
        .await
        .map_err(|e| anyhow::anyhow!("app.json: {e}"))?;
    let mut report = ImportReport {
        app: key.clone(),
        forms: forms.len(),
        published: 0,
        roles: roles.len(),
        flows: flow_defs.len(),
        reports: report_defs.len(),
        dashboards: dashboard_defs.len(),
        views: view_defs.iter().map(|(_, v)| v.len()).sum(),
    };
    for f in &forms {
        let name = f["key"].as_str().unwrap_or_default();
        forms_svc
            .save_draft(&key, name, f.clone(), actor)
            .await
            .map_err(|e| explain(name, e))?;
    }
    for f in &forms {
        let name = f["key"].as_str().unwrap_or_default();
        let out = forms_svc
            .publish(&key, name, actor)
            .await
            .map_err(|e| explain(name, e))?;
        if out["published"] == Value::Bool(true) {
            report.published += 1;
        }
    }
    for r in &roles {
        let name = r["key"].as_str().unwrap_or_default();
        auth.put_role(caller, &key, name, r)
            .await
            .map_err(|e| anyhow::anyhow!("roles/{name}.json: {e}"))?;
    }
    for (form, views) in &view_defs {
        for (i, v) in views.iter().enumerate() {
            svc.records
                .put_shared_view(&key, form, v, caller)
                .await
                .map_err(|e| described(&format!("views/{form}.json/{i}"), e))?;
        }
    }
    // Reports read forms; dashboards name reports; flows' report nodes name reports.
    for (kind, dir_name, defs) in [
        (crate::reports::store::Kind::Report, "reports", &report_defs),
        (
            crate::reports::store::Kind::Dashboard,
            "dashboards",
            &dashboard_defs,
        ),
    ] {
        for (name, def) in defs {
            reports
                .publish(&key, kind, name, def.clone(), caller)
                .await
                .map_err(|e| described(&format!("{dir_name}/{name}.json"), e))?;
        }
    }
    // Flows last: they name forms, fields and roles; and sub-flows before the flows that
    // start them.
    for f in &crate::flows::definition::publish_order(&flow_defs) {
        let name = f["key"].as_str().unwrap_or_default();
        flows
            // A package comes before its users: roles nobody holds yet are warnings.
            .publish(&key, name, Some(f.clone()), true, caller)
            .await
            .map_err(|e| described(&format!("flows/{name}.json"), e))?;
    }
    Ok(report)
}

/// A package file's problem, with each detail of an invalid definition on its own line.
fn described(file: &str, e: DomainError) -> anyhow::Error {
    match e {
        DomainError::Invalid { details, .. } => anyhow::anyhow!(
            "{file} is invalid:\n  {}",
            details
                .iter()
                .map(|d| format!("{}: {} ({})", d.pointer, d.message, d.rule))
                .collect::<Vec<_>>()
                .join("\n  ")
        ),
        other => anyhow::anyhow!("{file}: {other}"),
    }
}

fn explain(form: &str, e: DomainError) -> anyhow::Error {
    described(&format!("forms/{form}.json"), e)
}

/// Write an app's definition and the published version of each form (the draft for forms
/// never published) in the package layout.
pub async fn export(svc: &Services<'_>, app: &str, dir: &Path) -> anyhow::Result<usize> {
    let (forms_svc, auth, flows, reports) = (svc.forms, svc.auth, svc.flows, svc.reports);
    let app_def = forms_svc.get_app(app).await?;
    std::fs::create_dir_all(dir.join("forms"))?;
    std::fs::write(
        dir.join("app.json"),
        serde_json::to_string_pretty(&app_def)? + "\n",
    )?;
    let keys = forms_svc.form_keys(app).await?;
    for k in &keys {
        let d = forms_svc.describe(app, k).await?;
        let def = if d["definition"].is_null() {
            &d["draft"]
        } else {
            &d["definition"]
        };
        std::fs::write(
            dir.join("forms").join(format!("{k}.json")),
            serde_json::to_string_pretty(def)? + "\n",
        )?;
        let views = svc.records.shared_views(app, k).await?;
        if !views.is_empty() {
            std::fs::create_dir_all(dir.join("views"))?;
            std::fs::write(
                dir.join("views").join(format!("{k}.json")),
                serde_json::to_string_pretty(&views)? + "\n",
            )?;
        }
    }
    let roles = auth.list_roles(app).await?;
    if !roles.is_empty() {
        std::fs::create_dir_all(dir.join("roles"))?;
    }
    for r in &roles {
        let k = r["key"].as_str().unwrap_or_default();
        std::fs::write(
            dir.join("roles").join(format!("{k}.json")),
            serde_json::to_string_pretty(r)? + "\n",
        )?;
    }
    let system = Caller::system();
    for f in flows.list(app, &system).await? {
        let k = f["key"].as_str().unwrap_or_default();
        let d = flows.get(app, k).await?;
        let def = if d["definition"].is_null() {
            &d["draft"]
        } else {
            &d["definition"]
        };
        std::fs::create_dir_all(dir.join("flows"))?;
        std::fs::write(
            dir.join("flows").join(format!("{k}.json")),
            serde_json::to_string_pretty(def)? + "\n",
        )?;
    }
    for (kind, dir_name) in [
        (crate::reports::store::Kind::Report, "reports"),
        (crate::reports::store::Kind::Dashboard, "dashboards"),
    ] {
        for (k, _, def) in reports.definitions(app, kind).await? {
            std::fs::create_dir_all(dir.join(dir_name))?;
            std::fs::write(
                dir.join(dir_name).join(format!("{k}.json")),
                serde_json::to_string_pretty(&def)? + "\n",
            )?;
        }
    }
    Ok(keys.len())
}
