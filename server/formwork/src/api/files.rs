//! Uploading and downloading attachment files: `POST /api/v1/files` (raw body, its
//! Content-Type is the file's type) and `GET /api/v1/files/{sha256}`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::extract::{Path, Query};

#[derive(Deserialize)]
pub struct UploadParams {
    name: Option<String>,
}

pub async fn upload(
    State(s): State<AppState>,
    Query(p): Query<UploadParams>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase())
        .filter(|t| t.contains('/'))
        .ok_or_else(|| {
            ApiError::http(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file with its Content-Type",
            )
        })?;
    let tmp = super::upload::spool(body, s.files.max_size(), "files").await?;
    let out = s
        .files
        .store(tmp.path(), &content_type, p.name, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// A file is served to its uploader, an administrator, or someone who can read a record
/// that holds it in a readable field; to anyone else it does not exist.
pub async fn download(
    State(s): State<AppState>,
    Path(sha): Path<String>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    if !s.records.may_download(&sha, &caller).await? {
        return Err(crate::error::DomainError::NotFound(format!("file {sha}")).into());
    }
    let (bytes, ct) = s.files.open(&sha).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok((headers, bytes).into_response())
}
