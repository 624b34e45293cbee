//! File import (`POST …/records/import`) and export (`GET …/records/export`).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::extract::{Path, Query};
use super::records::{ListParams, list_query};
use crate::service::import::Format;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Deserialize)]
pub struct ImportParams {
    format: Option<String>,
    #[serde(default)]
    dry_run: bool,
    file_name: Option<String>,
}

fn format_of(explicit: Option<&str>, headers: &HeaderMap) -> ApiResult<Format> {
    let from_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| {
            if t.starts_with("text/csv") {
                Some("csv")
            } else if t.starts_with(XLSX) {
                Some("xlsx")
            } else {
                None
            }
        });
    explicit
        .or(from_type)
        .and_then(Format::parse)
        .ok_or_else(|| {
            ApiError::http(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send text/csv or XLSX (or ?format=csv|xlsx)",
            )
        })
}

/// The body is streamed to a temporary file (at most `import_limit` bytes), then checked
/// row by row; see `service::import`.
pub async fn import(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    Query(p): Query<ImportParams>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let format = format_of(p.format.as_deref(), &headers)?;
    let tmp = super::upload::spool(body, s.import_limit as u64, "imports").await?;
    let out = s
        .records
        .import(
            &app,
            &form,
            tmp.path().to_owned(),
            format,
            p.dry_run,
            p.file_name,
            &caller,
        )
        .await?;
    let status = if p.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(out)).into_response())
}

#[derive(Deserialize)]
pub struct ExportFormat {
    format: Option<String>,
}

/// `?format=csv|xlsx` beside the list parameters (two extractors: serde cannot flatten
/// typed query parameters).
pub async fn export(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    Query(f): Query<ExportFormat>,
    Query(p): Query<ListParams>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    let format = f.format.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "xlsx" {
        return Err(ApiError::Domain(crate::error::DomainError::bad_request(
            "/format",
            "format",
            format!("{format:?} is not csv or xlsx"),
        )));
    }
    let q = list_query(p)?;
    let cols = s
        .records
        .start_export(&app, &form, &q, &format, &caller)
        .await?;
    let mut headers = HeaderMap::new();
    let name = format!("attachment; filename=\"{app}-{form}.{format}\"");
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
    );
    match format.as_str() {
        "csv" => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            let rx = crate::service::export::csv_stream(
                s.records.clone(),
                app,
                form,
                crate::service::export::list_part(&q),
                cols,
                caller,
            );
            let stream =
                futures::stream::unfold(
                    rx,
                    |mut rx| async move { rx.recv().await.map(|x| (x, rx)) },
                );
            Ok((headers, Body::from_stream(stream)).into_response())
        }
        "xlsx" => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
            let bytes = crate::service::export::xlsx(
                &s.records,
                &app,
                &form,
                &crate::service::export::list_part(&q),
                &cols,
                &caller,
            )
            .await?;
            Ok((headers, bytes).into_response())
        }
        other => Err(ApiError::Domain(crate::error::DomainError::bad_request(
            "/format",
            "format",
            format!("{other:?} is not csv or xlsx"),
        ))),
    }
}
