//! The generic records API: `/api/v1/apps/{app}/forms/{form}/records`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::extract::{IfMatch, Json, Path, Query};
use crate::service::record_ops::Lifecycle;
use crate::service::records::{ListQuery, MAX_BULK};

type FormPath = Path<(String, String)>;
type RecordPath = Path<(String, String, i64)>;

fn with_etag(status: StatusCode, record: Value) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(v) = record.get("row_version").and_then(Value::as_i64)
        && let Ok(h) = HeaderValue::from_str(&format!("\"{v}\""))
    {
        headers.insert(header::ETAG, h);
    }
    (status, headers, axum::Json(record)).into_response()
}

pub async fn create(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Auth(caller): Auth,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let rec = s.records.create(&app, &form, body, &caller).await?;
    Ok(with_etag(StatusCode::CREATED, rec))
}

#[derive(Deserialize)]
pub struct GetParams {
    #[serde(default)]
    deleted: bool,
}

pub async fn get(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Query(p): Query<GetParams>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    let rec = s.records.get(&app, &form, id, p.deleted, &caller).await?;
    Ok(with_etag(StatusCode::OK, rec))
}

#[derive(Deserialize)]
pub struct PrintParams {
    locale: Option<String>,
}

/// `GET …/records/{id}/print`: the record as a printable HTML page (`print` action).
pub async fn print(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Query(p): Query<PrintParams>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    let html = s
        .records
        .print(&app, &form, id, p.locale.as_deref(), &caller)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Values are escaped; the page also runs no script and loads only our images.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}

pub async fn replace(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Auth(caller): Auth,
    if_match: Option<IfMatch>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let rec = s
        .records
        .update(
            &app,
            &form,
            id,
            body,
            if_match.and_then(|m| m.0),
            false,
            &caller,
        )
        .await?;
    Ok(with_etag(StatusCode::OK, rec))
}

pub async fn patch(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Auth(caller): Auth,
    if_match: Option<IfMatch>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let rec = s
        .records
        .update(
            &app,
            &form,
            id,
            body,
            if_match.and_then(|m| m.0),
            true,
            &caller,
        )
        .await?;
    Ok(with_etag(StatusCode::OK, rec))
}

#[derive(Deserialize)]
pub struct ReasonParams {
    reason: Option<String>,
}

pub async fn delete(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Auth(caller): Auth,
    if_match: Option<IfMatch>,
    Query(p): Query<ReasonParams>,
) -> ApiResult<Response> {
    let rec = s
        .records
        .set_deleted(
            &app,
            &form,
            id,
            if_match.and_then(|m| m.0),
            Lifecycle::Delete,
            p.reason,
            &caller,
        )
        .await?;
    Ok(with_etag(StatusCode::OK, rec))
}

pub async fn restore(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Auth(caller): Auth,
    if_match: Option<IfMatch>,
    Query(p): Query<ReasonParams>,
) -> ApiResult<Response> {
    let rec = s
        .records
        .set_deleted(
            &app,
            &form,
            id,
            if_match.and_then(|m| m.0),
            Lifecycle::Restore,
            p.reason,
            &caller,
        )
        .await?;
    Ok(with_etag(StatusCode::OK, rec))
}

/// Query-string form of a list request; `filter` is URL-encoded JSON.
#[derive(Deserialize, Default)]
pub struct ListParams {
    filter: Option<String>,
    sort: Option<String>,
    fields: Option<String>,
    expand: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    #[serde(default)]
    total: bool,
    #[serde(default)]
    deleted: bool,
}

fn split(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

pub async fn list(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Query(p): Query<ListParams>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    let q = list_query(p)?;
    let body = s.records.list_json(&app, &form, &q, &caller).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// A list query from query-string parameters.
pub fn list_query(p: ListParams) -> ApiResult<ListQuery> {
    let filter = match p.filter {
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
            ApiError::Domain(crate::error::DomainError::bad_request(
                "/filter",
                "json",
                format!("filter is not JSON: {e}"),
            ))
        })?),
        None => None,
    };
    let q = ListQuery {
        filter,
        sort: p.sort,
        fields: p.fields.map(|f| split(Some(f))),
        expand: split(p.expand),
        limit: p.limit,
        cursor: p.cursor,
        total: p.total,
        deleted: p.deleted,
    };
    Ok(q)
}

/// Body form of a list request, for long filters: `POST …/records/query`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    filter: Option<Value>,
    sort: Option<String>,
    fields: Option<Vec<String>>,
    #[serde(default)]
    expand: Vec<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    #[serde(default)]
    total: bool,
    #[serde(default)]
    deleted: bool,
}

pub async fn query(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Auth(caller): Auth,
    Json(b): Json<QueryBody>,
) -> ApiResult<axum::Json<Value>> {
    let q = ListQuery {
        filter: b.filter,
        sort: b.sort,
        fields: b.fields,
        expand: b.expand,
        limit: b.limit,
        cursor: b.cursor,
        total: b.total,
        deleted: b.deleted,
    };
    Ok(axum::Json(s.records.list(&app, &form, &q, &caller).await?))
}

/// All-or-nothing bulk writes. `POST …/records/bulk` creates `{"items": [{data}…]}`;
/// `PUT …/records/bulk` updates `{"items": [{id, data, row_version?}…], "merge": bool}`.
/// Errors point at `/items/N/…`.
pub async fn bulk_create(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Auth(caller): Auth,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let items = bulk_items(&body)?;
    let out = s
        .records
        .create_many(&app, &form, items, &caller, true)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"items": out}))))
}

pub async fn bulk_update(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Auth(caller): Auth,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    let items = bulk_items(&body)?;
    let merge = body.get("merge").and_then(Value::as_bool).unwrap_or(false);
    let out = s
        .records
        .update_many(&app, &form, items, merge, &caller)
        .await?;
    Ok(axum::Json(json!({"items": out})))
}

fn bulk_items(body: &Value) -> ApiResult<Vec<Value>> {
    match body.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_BULK => {
            Ok(items.clone())
        }
        _ => Err(ApiError::Domain(crate::error::DomainError::bad_request(
            "/items",
            "bulk",
            format!("a bulk request is {{\"items\": [...]}} with 1–{MAX_BULK} items"),
        ))),
    }
}

/// `GET /apps/{app}/forms/{form}/views`: my views and the shared ones I can use.
pub async fn views(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Auth(caller): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.records.views(&app, &form, &caller).await?))
}

pub async fn create_view(
    State(s): State<AppState>,
    Path((app, form)): FormPath,
    Auth(caller): Auth,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let v = s.records.create_view(&app, &form, body, &caller).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

pub async fn replace_view(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Auth(caller): Auth,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.records
            .replace_view(&app, &form, id, body, &caller)
            .await?,
    ))
}

pub async fn delete_view(
    State(s): State<AppState>,
    Path((app, form, id)): RecordPath,
    Auth(caller): Auth,
) -> ApiResult<StatusCode> {
    s.records.delete_view(&app, &form, id, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}
