//! Reports and dashboards (docs/reports.md): definitions, runs (JSON, CSV, XLSX) and the
//! designer's preview.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use crate::error::{DomainError, DomainResult};
use crate::reports::store::Kind;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn body_json(body: &Bytes) -> ApiResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::Domain(DomainError::bad_request(
            "",
            "malformed_json",
            format!("the body is not JSON: {e}"),
        ))
    })
}

fn filter_of(v: &Value, pointer: &str) -> DomainResult<Option<Value>> {
    match v {
        Value::Null => Ok(None),
        f @ Value::Object(_) => Ok(Some(f.clone())),
        _ => Err(DomainError::bad_request(
            pointer,
            "type",
            "filter is a JSON Logic object",
        )),
    }
}

/// Reports whose source form the caller may read.
pub async fn list_reports(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let mut items = Vec::new();
    for (key, version, def) in s.reports.definitions(&app, Kind::Report).await? {
        let form = def["form"].as_str().unwrap_or_default();
        if c.is_admin()
            || s.auth
                .decide(&c, &app, form)
                .await
                .is_ok_and(|d| d.allows("read"))
        {
            items.push(json!({"key": key, "version": version, "label": def["label"], "form": form, "chart": def["chart"]}));
        }
    }
    Ok(axum::Json(json!({"items": items})))
}

pub async fn get_report(
    State(s): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let (version, def) = s.reports.definition(&app, Kind::Report, &key).await?;
    if !c.is_admin() {
        s.auth
            .decide(&c, &app, def["form"].as_str().unwrap_or_default())
            .await?
            .require("read")?;
    }
    Ok(axum::Json(
        json!({"key": key, "version": version, "definition": def}),
    ))
}

pub async fn put_report(
    State(s): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Auth(c): Auth,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.reports.publish(&app, Kind::Report, &key, def, &c).await?,
    ))
}

/// A dashboard as the caller may see it: administrators all of it; others only the widgets
/// whose report they may see (they may read its form, as `get_report` asks), and nothing
/// (None) when there is none — a dashboard is no side door to reports, forms or fields.
async fn dashboard_for(
    s: &AppState,
    c: &crate::auth::Caller,
    app: &str,
    mut def: Value,
) -> crate::error::DomainResult<Option<Value>> {
    if c.is_admin() {
        return Ok(Some(def));
    }
    let mut kept = Vec::new();
    for w in def["widgets"].as_array().cloned().unwrap_or_default() {
        let key = w["report"].as_str().unwrap_or_default();
        let Ok((_, report)) = s.reports.definition(app, Kind::Report, key).await else {
            continue;
        };
        let form = report["form"].as_str().unwrap_or_default();
        if s.auth
            .decide(c, app, form)
            .await
            .is_ok_and(|d| d.allows("read"))
        {
            kept.push(w);
        }
    }
    if kept.is_empty() {
        return Ok(None);
    }
    def["widgets"] = Value::Array(kept);
    Ok(Some(def))
}

pub async fn list_dashboards(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let mut items = Vec::new();
    for (key, version, def) in s.reports.definitions(&app, Kind::Dashboard).await? {
        if let Some(def) = dashboard_for(&s, &c, &app, def).await? {
            items.push(json!({"key": key, "version": version, "label": def["label"], "roles": def["roles"]}));
        }
    }
    Ok(axum::Json(json!({"items": items})))
}

pub async fn get_dashboard(
    State(s): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let (version, def) = s.reports.definition(&app, Kind::Dashboard, &key).await?;
    let def = dashboard_for(&s, &c, &app, def)
        .await?
        .ok_or_else(|| crate::error::DomainError::NotFound(format!("dashboard {key}")))?;
    Ok(axum::Json(
        json!({"key": key, "version": version, "definition": def}),
    ))
}

pub async fn put_dashboard(
    State(s): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Auth(c): Auth,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.reports
            .publish(&app, Kind::Dashboard, &key, def, &c)
            .await?,
    ))
}

pub async fn run(
    State(s): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Auth(c): Auth,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    let body = body_json(&body)?;
    let extra = filter_of(&body["filter"], "/filter")?;
    Ok(axum::Json(
        s.reports.run_saved(&app, &key, extra, &c).await?,
    ))
}

#[derive(Deserialize)]
pub struct Download {
    format: Option<String>,
    filter: Option<String>,
    /// The language of a file's headers: `zh-CN` (default) or `en`.
    lang: Option<String>,
}

/// `GET …/run?format=csv|xlsx[&filter=…]`: the table as a file (JSON without a format).
pub async fn download(
    State(s): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Query(q): Query<Download>,
    Auth(c): Auth,
) -> ApiResult<Response> {
    let extra = match &q.filter {
        Some(f) => filter_of(
            &serde_json::from_str(f).map_err(|e| {
                DomainError::bad_request("/filter", "json", format!("filter is not JSON: {e}"))
            })?,
            "/filter",
        )?,
        None => None,
    };
    let format = q.format.unwrap_or_else(|| "json".into());
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(ApiError::Domain(DomainError::bad_request(
            "/format",
            "format",
            format!("{format:?} is not json, csv or xlsx"),
        )));
    }
    let lang = q.lang.unwrap_or_else(|| "zh-CN".into());
    if !["zh-CN", "en"].contains(&lang.as_str()) {
        return Err(ApiError::Domain(DomainError::bad_request(
            "/lang",
            "lang",
            format!("{lang:?} is not zh-CN or en"),
        )));
    }
    let result = s.reports.run_saved(&app, &key, extra, &c).await?;
    if format == "json" {
        return Ok(axum::Json(result).into_response());
    }
    let table = if result["chart"]["kind"] == "pivot" {
        pivot(table(&result, &lang), &result)
    } else {
        table(&result, &lang)
    };
    let mut headers = HeaderMap::new();
    let name = format!("attachment; filename=\"{app}-{key}.{format}\"");
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
    );
    let internal = |e: &dyn std::fmt::Display| {
        ApiError::Domain(DomainError::Internal(anyhow::anyhow!("report file: {e}")))
    };
    if format == "csv" {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &table {
            w.write_record(row.iter().map(|v| match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }))
            .map_err(|e| internal(&e))?;
        }
        let bytes = w.into_inner().map_err(|e| internal(&e))?;
        return Ok((headers, bytes).into_response());
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in table.iter().enumerate() {
        for (col, v) in row.iter().enumerate() {
            let (r, col) = (r as u32, col as u16);
            match v {
                Value::Number(n) => sheet
                    .write_number(r, col, n.as_f64().unwrap_or_default())
                    .map(|_| ()),
                Value::String(s) => sheet.write_string(r, col, s).map(|_| ()),
                Value::Bool(b) => sheet.write_boolean(r, col, *b).map(|_| ()),
                _ => Ok(()),
            }
            .map_err(|e| internal(&e))?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(|e| internal(&e))?;
    Ok((headers, bytes).into_response())
}

/// The result as a header row and value rows (with the number of records behind each).
/// Headers are the columns' labels in `lang` (the other language, then the key, when a
/// label is missing); reference and member values are the names the run gave them.
fn table(result: &Value, lang: &str) -> Vec<Vec<Value>> {
    let cols: Vec<&Value> = result["columns"].as_array().into_iter().flatten().collect();
    let en = lang == "en";
    let other = if en { "zh-CN" } else { "en" };
    let header = |c: &Value| {
        let l = &c["label"];
        l[lang]
            .as_str()
            .or_else(|| l[other].as_str())
            .or_else(|| c["key"].as_str())
            .map(|s| json!(s))
            .unwrap_or(Value::Null)
    };
    let mut out = vec![
        cols.iter()
            .map(|c| header(c))
            .chain([json!(if en { "Records" } else { "记录数" })])
            .collect::<Vec<_>>(),
    ];
    for r in result["rows"].as_array().into_iter().flatten() {
        let mut row: Vec<Value> = cols
            .iter()
            .map(|c| {
                let key = c["key"].as_str().unwrap_or_default();
                let v = r["cells"][key].clone();
                if r["others"] == json!(true) && c["kind"] == "dimension" && v.is_null() {
                    json!(if en { "(others)" } else { "（其他）" })
                } else if let Some(name) = r["labels"][key].as_str() {
                    json!(name)
                } else {
                    v
                }
            })
            .collect();
        row.push(r["rows"].clone());
        out.push(row);
    }
    out
}

/// A pivot report's file as the pivot table shows it: one row per value of the first
/// dimension, one column per value (combination) of the other dimensions and measure —
/// `<value> · <measure>`, in the order the run gives them — and the records behind each
/// row last. With one dimension it is the plain table.
fn pivot(flat: Vec<Vec<Value>>, result: &Value) -> Vec<Vec<Value>> {
    let cols: Vec<&Value> = result["columns"].as_array().into_iter().flatten().collect();
    let dims = cols.iter().filter(|c| c["kind"] == "dimension").count();
    let measures = cols.len() - dims;
    if dims < 2 || flat.is_empty() {
        return flat;
    }
    let text = |v: &Value| match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let header = &flat[0];
    // Rows and columns are told apart by the run's values (two customers of one name stay
    // two rows), and shown with the file's names.
    let raw: Vec<&Value> = result["rows"].as_array().into_iter().flatten().collect();
    let dim_keys: Vec<&str> = cols
        .iter()
        .filter(|c| c["kind"] == "dimension")
        .filter_map(|c| c["key"].as_str())
        .collect();
    let id = |r: &Value, keys: &[&str]| {
        let mut v: Vec<Value> = keys.iter().map(|k| r["cells"][*k].clone()).collect();
        v.push(r["others"].clone());
        Value::Array(v).to_string()
    };
    let mut across: Vec<(String, String)> = Vec::new();
    let mut down: Vec<(String, Value)> = Vec::new();
    let mut cells: std::collections::HashMap<(String, String), (Vec<Value>, i64)> =
        Default::default();
    for (row, r) in flat[1..].iter().zip(raw) {
        let key = id(r, &dim_keys[..1]);
        let col = id(r, &dim_keys[1..]);
        if !down.iter().any(|(k, _)| *k == key) {
            down.push((key.clone(), row[0].clone()));
        }
        if !across.iter().any(|(k, _)| *k == col) {
            let shown = row[1..dims]
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(" / ");
            across.push((col.clone(), shown));
        }
        let records = row[dims + measures].as_i64().unwrap_or(0);
        cells.insert((key, col), (row[dims..dims + measures].to_vec(), records));
    }
    let mut out = vec![
        std::iter::once(header[0].clone())
            .chain(across.iter().flat_map(|(_, a)| {
                header[dims..dims + measures]
                    .iter()
                    .map(move |m| json!(format!("{a} · {}", text(m))))
            }))
            .chain([header[dims + measures].clone()])
            .collect::<Vec<_>>(),
    ];
    for (key, d) in down {
        let mut row = vec![d];
        let mut records = 0;
        for (a, _) in &across {
            match cells.get(&(key.clone(), a.clone())) {
                Some((values, n)) => {
                    row.extend(values.iter().cloned());
                    records += n;
                }
                None => row.extend(std::iter::repeat_n(Value::Null, measures)),
            }
        }
        row.push(json!(records));
        out.push(row);
    }
    out
}

/// `POST /apps/{app}/report-preview {definition, filter}`: run an unsaved definition.
pub async fn preview(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    let body = body_json(&body)?;
    let extra = filter_of(&body["filter"], "/filter")?;
    let def = match s.reports.check(&app, &body["definition"]).await? {
        Ok(d) => d,
        Err(problems) => {
            let problems = problems
                .into_iter()
                .map(|mut d| {
                    d.pointer = format!("/definition{}", d.pointer);
                    d
                })
                .collect();
            return Err(ApiError::Domain(DomainError::invalid(problems)));
        }
    };
    Ok(axum::Json(
        s.reports
            .run(&app, &def, json!({"report": null}), extra, &c)
            .await?
            .json,
    ))
}
